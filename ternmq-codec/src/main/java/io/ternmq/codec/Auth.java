package io.ternmq.codec;

import java.util.Objects;

/** AUTH (MQTT 5.0 enhanced authentication). */
public record Auth(int reasonCode, MqttProperties properties) implements MqttPacket {
    public Auth {
        Objects.requireNonNull(properties, "properties");
    }

    @Override
    public PacketType type() {
        return PacketType.AUTH;
    }
}
