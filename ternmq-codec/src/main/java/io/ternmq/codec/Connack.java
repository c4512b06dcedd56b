package io.ternmq.codec;

import java.util.Objects;

/** CONNACK. {@code reasonCode} is the MQTT 3.x return code or the MQTT 5.0 reason code. */
public record Connack(boolean sessionPresent, int reasonCode, MqttProperties properties) implements MqttPacket {
    public Connack {
        Objects.requireNonNull(properties, "properties");
    }

    public Connack(boolean sessionPresent, int reasonCode) {
        this(sessionPresent, reasonCode, MqttProperties.EMPTY);
    }

    @Override
    public PacketType type() {
        return PacketType.CONNACK;
    }
}
