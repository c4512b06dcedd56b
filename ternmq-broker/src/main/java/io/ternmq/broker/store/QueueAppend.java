package io.ternmq.broker.store;

import io.ternmq.broker.message.Delivery;

/**
 * A delivery appended to a stored queue outside routing: one carried from another node while the session moved
 * here. Numbered in the store's order like any entry, not held to the queue's limits (the sending node held it to
 * them).
 */
public final class QueueAppend implements StoreOp {
    private final StoredQueue queue;
    private final Delivery delivery;
    private QueueEntry entry;

    public QueueAppend(StoredQueue queue, Delivery delivery) {
        this.queue = queue;
        this.delivery = delivery;
        queue.submitted();
    }

    @Override
    public void prepare(StoreWriter w) {
        queue.taken();
        if (queue.isClosed()) {
            return;
        }
        int size = delivery.message().payload().length;
        long messageId = w.newMessageId();
        entry = new QueueEntry(queue.nextSeq(), messageId, delivery.qos(), delivery.retain(),
                delivery.subscriptionIds(), delivery.sharedGroup() == null ? "" : delivery.sharedGroup(), false,
                size);
        w.putMessage(messageId, delivery.message(), 1);
        w.putQueueEntry(queue.key(), entry);
        queue.counted(size);
    }

    @Override
    public void applied() {
        if (entry != null) {
            queue.owner().stored(new StoredEntry(entry, delivery.message()));
        }
    }
}
