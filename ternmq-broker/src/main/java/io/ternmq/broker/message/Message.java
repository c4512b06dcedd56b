package io.ternmq.broker.message;

import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.QoS;

import java.util.Objects;

/**
 * An application message as the broker routes it: what one PUBLISH (or will) carried, independent of any receiver.
 * Immutable and shared by every session it is delivered to; the payload array is never modified.
 *
 * @param properties      MQTT 5.0 properties that travel with the message (never a topic alias or subscription id)
 * @param publisherId     client id of the publisher, for the no-local subscription option
 * @param createdAtMillis wall-clock time the broker received it
 * @param expiryAtMillis  wall-clock time it expires (from its Message Expiry Interval), or {@link #NEVER}
 */
public record Message(String topic, QoS qos, boolean retain, byte[] payload, MqttProperties properties,
                      String publisherId, long createdAtMillis, long expiryAtMillis) {

    public static final long NEVER = Long.MAX_VALUE;

    public Message {
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(qos, "qos");
        Objects.requireNonNull(payload, "payload");
        Objects.requireNonNull(properties, "properties");
    }

    /** A message whose expiry follows from its Message Expiry Interval property, if any. */
    public Message(String topic, QoS qos, boolean retain, byte[] payload, MqttProperties properties,
                   String publisherId, long createdAtMillis) {
        this(topic, qos, retain, payload, properties, publisherId, createdAtMillis,
                expiryAt(properties, createdAtMillis));
    }

    private static long expiryAt(MqttProperties properties, long createdAtMillis) {
        Long seconds = properties.isEmpty() ? null : properties.getLong(PropertyId.MESSAGE_EXPIRY_INTERVAL);
        return seconds == null ? NEVER : createdAtMillis + seconds * 1000;
    }

    /** The same message as created at another time (its expiry moved with it). */
    public Message createdAt(long millis) {
        return new Message(topic, qos, retain, payload, properties, publisherId, millis,
                expiryAtMillis == NEVER ? NEVER : expiryAtMillis - createdAtMillis + millis);
    }

    public boolean expires() {
        return expiryAtMillis != NEVER;
    }

    public boolean isExpired(long nowMillis) {
        return nowMillis >= expiryAtMillis;
    }

    /** Seconds of life left, rounded up, for the Message Expiry Interval sent on delivery [MQTT-3.3.2-6]. */
    public long remainingExpirySeconds(long nowMillis) {
        long left = expiryAtMillis - nowMillis;
        return left <= 0 ? 0 : (left + 999) / 1000;
    }

    @Override
    public String toString() {
        return "Message[topic=" + topic + ", qos=" + qos.value() + ", retain=" + retain + ", payload="
                + payload.length + " bytes, from=" + publisherId + "]";
    }
}
