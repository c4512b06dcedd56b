package io.ternmq.broker.bridge;

import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.UserProperty;

import java.util.ArrayList;
import java.util.List;

/**
 * The {@code ternmq-bridge-hops} user property: how many bridges a message has crossed. Each bridge counts it up
 * when it forwards a message, and forwards none that has crossed {@code bridge_hop_limit} already, so a loop of
 * bridges ends. MQTT 3.x has no properties: across a 3.x bridge the count starts again (try_private and no-local
 * keep loops away there).
 */
final class BridgeHops {
    static final String PROPERTY = "ternmq-bridge-hops";

    private BridgeHops() {
    }

    /** The count a message carries; 0 without the property (or with a value that is not a small number). */
    static int of(MqttProperties properties) {
        if (properties.isEmpty()) {
            return 0;
        }
        for (UserProperty p : properties.userProperties()) {
            if (p.name().equals(PROPERTY)) {
                try {
                    return Math.max(0, Integer.parseInt(p.value()));
                } catch (NumberFormatException e) {
                    return 0;
                }
            }
        }
        return 0;
    }

    /** The properties with the count set to {@code hops}, every other user property kept in order. */
    static MqttProperties with(MqttProperties properties, int hops) {
        List<UserProperty> users = new ArrayList<>(properties.userProperties().size() + 1);
        for (UserProperty p : properties.userProperties()) {
            if (!p.name().equals(PROPERTY)) {
                users.add(p);
            }
        }
        users.add(new UserProperty(PROPERTY, Integer.toString(hops)));
        return properties.toBuilder().clearUserProperties().userProperties(users).build();
    }
}
