package io.ternmq.codec;

import java.util.Objects;

/**
 * PUBLISH. {@code packetId} is 0 at QoS 0. {@code topic} may be empty only in MQTT 5.0 with a Topic Alias property.
 * The payload array is shared between every holder of this packet and never modified.
 */
public record Publish(String topic, QoS qos, boolean retain, boolean dup, int packetId, byte[] payload,
                      MqttProperties properties) implements MqttPacket {
    public Publish {
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(qos, "qos");
        Objects.requireNonNull(payload, "payload");
        Objects.requireNonNull(properties, "properties");
    }

    public Publish(String topic, QoS qos, boolean retain, int packetId, byte[] payload) {
        this(topic, qos, retain, false, packetId, payload, MqttProperties.EMPTY);
    }

    @Override
    public PacketType type() {
        return PacketType.PUBLISH;
    }

    @Override
    public String toString() {
        return "Publish[topic=" + topic + ", qos=" + qos.value() + ", retain=" + retain + ", dup=" + dup
                + ", packetId=" + packetId + ", payload=" + payload.length + " bytes, properties=" + properties + "]";
    }
}
