package io.ternmq.broker.config;


/**
 * How messages wait for a client: the in-flight window, the bounds of a session's queue and what a full one does,
 * and how a shared subscription group picks the member a message goes to (its held messages are bounded by
 * {@code maxQueuedMessages} too).
 *
 * @param maxInflightMessages        outbound QoS 1/2 messages in flight per client (further capped by an MQTT 5
 *                                   client's Receive Maximum)
 * @param maxQueuedMessages          messages a session queues beyond the in-flight window
 * @param maxQueuedBytes             payload bytes a session queues beyond the in-flight window; 0: no byte limit
 * @param queueQos0Messages          whether QoS 0 messages are queued for offline persistent sessions
 * @param overflowPolicy             what a full queue does with a new message
 * @param overflowV3Action           what a full queue means to an MQTT 3.x QoS 1/2 publisher
 * @param sharedSubscriptionStrategy how a shared subscription group picks a member
 */
public record QueueSettings(int maxInflightMessages, int maxQueuedMessages, long maxQueuedBytes,
                            boolean queueQos0Messages, OverflowPolicy overflowPolicy,
                            V3OverflowAction overflowV3Action, SharedSubscriptionStrategy sharedSubscriptionStrategy) {

    /** {@code queue_overflow_policy}: which message a full session queue gives up. */
    public enum OverflowPolicy {
        /** The new message is not queued. */
        REFUSE_NEW,
        /** The oldest queued message (never one in flight) is dropped to make room. */
        DROP_OLDEST
    }

    /**
     * {@code queue_overflow_v3_action}: MQTT 3.x has no negative acknowledgement, so a QoS 1/2 PUBLISH that no
     * subscriber's queue could take is either acknowledged anyway or answered by closing the connection.
     */
    public enum V3OverflowAction {
        /** Acknowledged; the drop is counted. */
        ACK,
        /** The publisher is disconnected. */
        DISCONNECT
    }
}
