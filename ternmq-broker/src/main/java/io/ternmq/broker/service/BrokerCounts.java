package io.ternmq.broker.service;

/**
 * How much the broker holds at one moment, counted from what routing, the sessions and the retained index keep
 * anyway (nothing is counted per message for it). Read by {@code $SYS} and Prometheus.
 *
 * @param sessions           sessions, online or not
 * @param sessionsOnline     sessions with a client connected
 * @param queuedMessages     messages waiting in stored session queues, not yet in flight
 * @param inflightMessages   messages sent from stored session queues and not yet acknowledged
 * @param queuedBytes        payload bytes of the stored queues' entries (in flight or not)
 * @param subscriptions      subscriptions, shared group memberships included
 * @param sharedSubscriptions shared group memberships
 * @param retainedMessages   retained messages ($SYS ones included, as Mosquitto counts them)
 * @param retainedBytes      their payload bytes
 */
public record BrokerCounts(long sessions, long sessionsOnline, long queuedMessages, long inflightMessages,
                           long queuedBytes, long subscriptions, long sharedSubscriptions, long retainedMessages,
                           long retainedBytes) {

    /** Messages the broker keeps for later (queued, in flight, retained), as Mosquitto's message store counts. */
    public long storedMessages() {
        return queuedMessages + inflightMessages + retainedMessages;
    }

    public long storedBytes() {
        return queuedBytes + retainedBytes;
    }
}
