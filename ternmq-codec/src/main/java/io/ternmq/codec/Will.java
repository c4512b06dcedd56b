package io.ternmq.codec;

import java.util.Objects;

/** The will message carried in CONNECT's payload. {@code properties} are the MQTT 5.0 will properties. */
public record Will(String topic, byte[] payload, QoS qos, boolean retain, MqttProperties properties) {
    public Will {
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(payload, "payload");
        Objects.requireNonNull(qos, "qos");
        Objects.requireNonNull(properties, "properties");
    }
}
