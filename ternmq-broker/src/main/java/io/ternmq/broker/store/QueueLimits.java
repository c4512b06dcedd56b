package io.ternmq.broker.store;

/**
 * The bounds of every session's queue, from the configuration.
 *
 * @param maxQueuedBytes 0 for no byte bound
 * @param dropOldest     on overflow drop the oldest queued message (true) or refuse the new one (false)
 * @param maxInflight    the broker's in-flight window per client (sizes the in-memory part of a stored queue)
 */
public record QueueLimits(int maxQueuedMessages, long maxQueuedBytes, boolean queueQos0Messages, boolean dropOldest,
                          int maxInflight) {

    /** Limits for tests and tools: a queue bound, nothing else. */
    public static QueueLimits of(int maxQueuedMessages) {
        return new QueueLimits(maxQueuedMessages, 0, false, false, 20);
    }
}
