package io.ternmq.codec;

import java.util.List;
import java.util.Objects;

/** UNSUBSCRIBE: at least one topic filter. */
public record Unsubscribe(int packetId, List<String> filters, MqttProperties properties) implements MqttPacket {
    public Unsubscribe {
        filters = List.copyOf(filters);
        Objects.requireNonNull(properties, "properties");
    }

    @Override
    public PacketType type() {
        return PacketType.UNSUBSCRIBE;
    }
}
