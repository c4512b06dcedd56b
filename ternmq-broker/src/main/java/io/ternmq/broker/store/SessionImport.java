package io.ternmq.broker.store;

import io.ternmq.broker.message.Subscription;

import java.util.List;

/**
 * A session handed over by another node, written as one store operation: its record, subscriptions, inbound QoS 2
 * ids, and its queue entries with the seqs (so the packet ids) and PUBREC state they had there; each message is
 * stored afresh under an id of this store. The queue's counters are set by the caller before it submits this
 * ({@link StoredQueue#recovered}), so that entries appended after it count on top.
 */
public final class SessionImport implements StoreOp {
    private final StoredQueue queue;
    private final SessionRecord record;
    private final List<Subscription> subscriptions;
    private final List<Integer> inboundQos2;
    private final java.util.Map<Integer, Long> inboundCreated;
    private final List<StoredEntry> entries;
    private final boolean claim;
    private final java.util.function.BiConsumer<StoreWriter, String> alongside;
    private final Runnable then;

    /**
     * @param inboundCreated of the inbound QoS 2 ids, those a node that died had routed, with their messages' creation
     *                       times: written to the session's replica too, so that should this node die before the
     *                       publisher sends them again, the next adopter still routes the resends to who lacks them
     * @param claim          a handover's, before its claim commits: the session's replica keeps the holder's
     *                       incarnation until then ({@link StoreWriter#claimed}); an adoption's is not
     * @param then           continues on the queue owner's loop once everything is durable
     */
    public SessionImport(StoredQueue queue, SessionRecord record, List<Subscription> subscriptions,
                         List<Integer> inboundQos2, java.util.Map<Integer, Long> inboundCreated,
                         List<StoredEntry> entries, boolean claim, Runnable then) {
        this(queue, record, subscriptions, inboundQos2, inboundCreated, entries, claim, null, then);
    }

    /**
     * @param alongside more writes of the session (given its key) in the same operation, so in the same copy to its
     *                  replica: an adoption's record of the dead runs it was adopted from, which must not arrive later
     *                  than the session (replication stalled by a death held such a record back for seconds, and the
     *                  adopter died before it went)
     */
    public SessionImport(StoredQueue queue, SessionRecord record, List<Subscription> subscriptions,
                         List<Integer> inboundQos2, java.util.Map<Integer, Long> inboundCreated,
                         List<StoredEntry> entries, boolean claim,
                         java.util.function.BiConsumer<StoreWriter, String> alongside, Runnable then) {
        this.claim = claim;
        this.alongside = alongside;
        this.queue = queue;
        this.record = record;
        this.subscriptions = subscriptions;
        this.inboundQos2 = inboundQos2;
        this.inboundCreated = inboundCreated;
        this.entries = entries;
        this.then = then;
    }

    @Override
    public void prepare(StoreWriter w) {
        String key = queue.key();
        if (claim) {
            w.claimed(key);
        }
        w.putSession(record);
        for (Subscription s : subscriptions) {
            w.putSubscription(key, s);
        }
        for (int id : inboundQos2) {
            w.putInboundQos2(key, id);
            Long created = inboundCreated.get(id);
            if (created != null) {
                w.inboundCreated(key, id, created);
            }
        }
        for (StoredEntry e : entries) {
            QueueEntry qe = e.entry();
            long id = w.newMessageId();
            w.putMessage(id, e.message(), 1);
            w.putQueueEntry(key, new QueueEntry(qe.seq(), id, qe.qos(), qe.retain(), qe.subscriptionIds(),
                    qe.sharedGroup(), qe.released(), qe.payloadBytes()));
        }
        if (alongside != null) {
            alongside.accept(w, key);
        }
    }

    @Override
    public void applied() {
        queue.owner().resume(then);
    }
}
