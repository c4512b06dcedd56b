package io.ternmq.codec;

import java.util.Objects;

/** PUBREL. {@code reasonCode} is MQTT 5.0 only; MQTT 3.x encodes neither it nor the properties. */
public record Pubrel(int packetId, int reasonCode, MqttProperties properties) implements MqttPacket {
    public Pubrel {
        Objects.requireNonNull(properties, "properties");
    }

    public Pubrel(int packetId) {
        this(packetId, ReasonCode.SUCCESS, MqttProperties.EMPTY);
    }

    @Override
    public PacketType type() {
        return PacketType.PUBREL;
    }
}
