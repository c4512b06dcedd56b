package io.ternmq.codec;

import java.util.Objects;

/** PUBREC. {@code reasonCode} is MQTT 5.0 only; MQTT 3.x encodes neither it nor the properties. */
public record Pubrec(int packetId, int reasonCode, MqttProperties properties) implements MqttPacket {
    public Pubrec {
        Objects.requireNonNull(properties, "properties");
    }

    public Pubrec(int packetId) {
        this(packetId, ReasonCode.SUCCESS, MqttProperties.EMPTY);
    }

    @Override
    public PacketType type() {
        return PacketType.PUBREC;
    }
}
