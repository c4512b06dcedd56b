package io.ternmq.broker.message;

import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.QoS;

import java.util.Objects;

/**
 * An application message as the broker routes it: what one PUBLISH (or will) carried, independent of any receiver.
 * Immutable and shared by every session it is delivered to; the payload array is never modified.
 *
 * @param properties       MQTT 5.0 properties that travel with the message (never a topic alias or subscription id)
 * @param publisherId      client id of the publisher, for the no-local subscription option
 * @param createdAtMillis  wall-clock time the broker received it, for message expiry
 */
public record Message(String topic, QoS qos, boolean retain, byte[] payload, MqttProperties properties,
                      String publisherId, long createdAtMillis) {
    public Message {
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(qos, "qos");
        Objects.requireNonNull(payload, "payload");
        Objects.requireNonNull(properties, "properties");
    }

    @Override
    public String toString() {
        return "Message[topic=" + topic + ", qos=" + qos.value() + ", retain=" + retain + ", payload="
                + payload.length + " bytes, from=" + publisherId + "]";
    }
}
