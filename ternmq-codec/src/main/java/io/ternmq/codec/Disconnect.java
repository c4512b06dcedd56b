package io.ternmq.codec;

import java.util.Objects;

/** DISCONNECT. Reason code and properties are MQTT 5.0 only (and may be sent by the server too). */
public record Disconnect(int reasonCode, MqttProperties properties) implements MqttPacket {
    public static final Disconnect NORMAL = new Disconnect(ReasonCode.NORMAL_DISCONNECTION, MqttProperties.EMPTY);

    public Disconnect {
        Objects.requireNonNull(properties, "properties");
    }

    public Disconnect(int reasonCode) {
        this(reasonCode, MqttProperties.EMPTY);
    }

    @Override
    public PacketType type() {
        return PacketType.DISCONNECT;
    }
}
