package io.ternmq.codec;

import java.util.Objects;

/** PUBCOMP. {@code reasonCode} is MQTT 5.0 only; MQTT 3.x encodes neither it nor the properties. */
public record Pubcomp(int packetId, int reasonCode, MqttProperties properties) implements MqttPacket {
    public Pubcomp {
        Objects.requireNonNull(properties, "properties");
    }

    public Pubcomp(int packetId) {
        this(packetId, ReasonCode.SUCCESS, MqttProperties.EMPTY);
    }

    @Override
    public PacketType type() {
        return PacketType.PUBCOMP;
    }
}
