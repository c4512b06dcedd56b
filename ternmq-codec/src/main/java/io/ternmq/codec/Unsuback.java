package io.ternmq.codec;

import java.util.List;
import java.util.Objects;

/** UNSUBACK. {@code reasonCodes} are MQTT 5.0 only (one per filter); empty for MQTT 3.x. */
public record Unsuback(int packetId, List<Integer> reasonCodes, MqttProperties properties) implements MqttPacket {
    public Unsuback {
        reasonCodes = List.copyOf(reasonCodes);
        Objects.requireNonNull(properties, "properties");
    }

    public Unsuback(int packetId) {
        this(packetId, List.of(), MqttProperties.EMPTY);
    }

    @Override
    public PacketType type() {
        return PacketType.UNSUBACK;
    }
}
