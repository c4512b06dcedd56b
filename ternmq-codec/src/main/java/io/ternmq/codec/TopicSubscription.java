package io.ternmq.codec;

import java.util.Objects;

/**
 * One topic filter of a SUBSCRIBE with its options. {@code noLocal}, {@code retainAsPublished} and
 * {@code retainHandling} (0, 1 or 2) are MQTT 5.0 options; they are false/false/0 for MQTT 3.x.
 */
public record TopicSubscription(String filter, QoS qos, boolean noLocal, boolean retainAsPublished,
                                int retainHandling) {
    public TopicSubscription {
        Objects.requireNonNull(filter, "filter");
        Objects.requireNonNull(qos, "qos");
    }

    public TopicSubscription(String filter, QoS qos) {
        this(filter, qos, false, false, 0);
    }
}
