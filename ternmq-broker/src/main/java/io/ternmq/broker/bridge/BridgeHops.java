package io.ternmq.broker.bridge;

import io.ternmq.broker.config.BridgeSettings;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.metrics.RateLimitedLog;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.UserProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
    private static final Logger LOG = LoggerFactory.getLogger(BridgeHops.class);
    private static final RateLimitedLog LIMIT_LOG = new RateLimitedLog(LOG, 10_000);

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
        if (!hasCount(properties)) {
            // the usual case (the message enters its first bridge): the other properties shared, not rebuilt
            return properties.withUserProperty(PROPERTY, Integer.toString(hops));
        }
        List<UserProperty> users = new ArrayList<>(properties.userProperties().size() + 1);
        for (UserProperty p : properties.userProperties()) {
            if (!p.name().equals(PROPERTY)) {
                users.add(p);
            }
        }
        users.add(new UserProperty(PROPERTY, Integer.toString(hops)));
        return properties.toBuilder().clearUserProperties().userProperties(users).build();
    }

    private static boolean hasCount(MqttProperties properties) {
        for (UserProperty p : properties.userProperties()) {
            if (p.name().equals(PROPERTY)) {
                return true;
            }
        }
        return false;
    }

    /** A message not forwarded for its count: counted ({@code bridgeHopDrops}), logged at most once per 10 s. */
    static void limitReached(BrokerMetrics metrics, BridgeSettings settings, String topic, int hops) {
        metrics.bridgeHopDrops.increment();
        LIMIT_LOG.warn("Bridge {}: not forwarding a message on '{}' that crossed {} bridges (bridge_hop_limit {}; "
                + "a loop of bridges?)", settings.name(), topic, hops, settings.hopLimit());
    }
}
