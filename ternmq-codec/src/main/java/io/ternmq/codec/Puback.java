package io.ternmq.codec;

import java.util.Objects;

/** PUBACK. {@code reasonCode} is MQTT 5.0 only; MQTT 3.x encodes neither it nor the properties. */
public record Puback(int packetId, int reasonCode, MqttProperties properties) implements MqttPacket {
    public Puback {
        Objects.requireNonNull(properties, "properties");
    }

    public Puback(int packetId) {
        this(packetId, ReasonCode.SUCCESS, MqttProperties.EMPTY);
    }

    @Override
    public PacketType type() {
        return PacketType.PUBACK;
    }
}
