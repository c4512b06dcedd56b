package io.ternmq.broker.store;

import io.ternmq.broker.message.Delivery;

/**
 * A message a shared group held while no member was online goes to a member that came: into the member's stored
 * queue (when it has one and the delivery is QoS 1/2), and out of the group's held messages (when it was stored
 * there). One store operation, so that the message is in exactly one of the two places after a crash.
 */
public final class HeldHandover implements StoreOp {
    private final StoredQueue queue;
    private final Delivery delivery;
    private final String groupKey;
    private final long heldSeq;
    private final long heldMessageId;
    private final Runnable notQueued;
    private QueueEntry entry;

    /**
     * @param queue         the member's stored queue, or null when the member takes the delivery without storing it
     * @param heldMessageId the stored message of the held entry, or 0 if the group held it in memory only
     * @param notQueued     hands the delivery to the member when it is not queued here (queue null), once the held
     *                      entry is gone from the store
     */
    public HeldHandover(StoredQueue queue, Delivery delivery, String groupKey, long heldSeq, long heldMessageId,
                        Runnable notQueued) {
        this.queue = queue;
        this.delivery = delivery;
        this.groupKey = groupKey;
        this.heldSeq = heldSeq;
        this.heldMessageId = heldMessageId;
        this.notQueued = notQueued;
        if (queue != null) {
            queue.submitted();
        }
    }

    @Override
    public void prepare(StoreWriter w) {
        if (queue != null) {
            int size = delivery.message().payload().length;
            long messageId = heldMessageId != 0 ? heldMessageId : w.newMessageId();
            entry = new QueueEntry(queue.nextSeq(), messageId, delivery.qos(), delivery.retain(),
                    delivery.subscriptionIds(), groupKey, false, size);
            w.putQueueEntry(queue.key(), entry);
            queue.counted(size);
            queue.taken();
            w.putMessage(messageId, delivery.message(), 1);
        }
        if (heldMessageId != 0) {
            w.deleteHeld(groupKey, heldSeq, heldMessageId);
        }
    }

    @Override
    public void applied() {
        if (entry != null) {
            queue.owner().stored(new StoredEntry(entry, delivery.message()));
        } else {
            notQueued.run();
        }
    }
}
