package io.ternmq.broker.store;

import io.ternmq.codec.QoS;

/**
 * A stored place in a session's queue: which message, at which QoS and RETAIN flag, with which subscription ids,
 * through which shared group (empty for none), whether its PUBREC arrived (QoS 2: only PUBREL is resent), and the
 * message's payload size (so that recovery can count queued bytes without reading every message).
 */
public record QueueEntry(long seq, long messageId, QoS qos, boolean retain, int[] subscriptionIds,
                         String sharedGroup, boolean released, int payloadBytes) {

    public QueueEntry asReleased() {
        return new QueueEntry(seq, messageId, qos, retain, subscriptionIds, sharedGroup, true, payloadBytes);
    }
}
