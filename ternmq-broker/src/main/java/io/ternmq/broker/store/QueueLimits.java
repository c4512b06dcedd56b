package io.ternmq.broker.store;

/**
 * The bounds of a session's queue, from the configuration: the broker's for every client, a bridge's own for the
 * bridge's session.
 *
 * @param maxQueuedBytes 0 for no byte bound
 * @param dropOldest     on overflow drop the oldest queued message (true) or refuse the new one (false)
 * @param maxInflight    the broker's in-flight window per client (sizes the in-memory part of a stored queue)
 * @param bridge         a bridge's queue: its drops are counted as {@code bridgeQueueDrops}
 */
public record QueueLimits(int maxQueuedMessages, long maxQueuedBytes, boolean queueQos0Messages, boolean dropOldest,
                          int maxInflight, boolean bridge) {

    public QueueLimits(int maxQueuedMessages, long maxQueuedBytes, boolean queueQos0Messages, boolean dropOldest,
                       int maxInflight) {
        this(maxQueuedMessages, maxQueuedBytes, queueQos0Messages, dropOldest, maxInflight, false);
    }

    /** Limits for tests and tools: a queue bound, nothing else. */
    public static QueueLimits of(int maxQueuedMessages) {
        return new QueueLimits(maxQueuedMessages, 0, false, false, 20);
    }
}
