package io.ternmq.codec;

import java.util.List;
import java.util.Objects;

/** SUBSCRIBE: at least one topic filter. */
public record Subscribe(int packetId, List<TopicSubscription> subscriptions, MqttProperties properties)
        implements MqttPacket {
    public Subscribe {
        subscriptions = List.copyOf(subscriptions);
        Objects.requireNonNull(properties, "properties");
    }

    @Override
    public PacketType type() {
        return PacketType.SUBSCRIBE;
    }
}
