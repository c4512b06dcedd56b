package io.ternmq.broker.message;

import io.ternmq.codec.QoS;

import java.util.Objects;

/**
 * A session's subscription to one topic filter, with the options granted. {@code subscriptionId} is the MQTT 5.0
 * Subscription Identifier, 0 when there is none.
 */
public record Subscription(String filter, QoS qos, boolean noLocal, boolean retainAsPublished, int retainHandling,
                           int subscriptionId) implements java.io.Serializable {
    public Subscription {
        Objects.requireNonNull(filter, "filter");
        Objects.requireNonNull(qos, "qos");
    }

    public Subscription(String filter, QoS qos) {
        this(filter, qos, false, false, 0, 0);
    }
}
