package io.ternmq.broker.store;

import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.codec.QoS;

import java.util.ArrayList;
import java.util.List;

/**
 * What one publish writes, as one store operation: the message once, an entry in the queue of each stored target
 * (numbered in the store's order, within the queue's limits), an entry for each shared group that holds it while no
 * member is online, the retained change, and the publisher's inbound QoS 2 id. Routing fills it in on the publisher's
 * loop; the writer thread prepares it and, once it is durable, hands each entry to its queue's owner and tells the
 * publisher's side.
 */
public final class PublishTransaction implements StoreOp {

    /** A shared group holding the message while no member is online: routing's, reached only through this. */
    public interface HeldGroup {
        /** The group's whole filter, {@code $share/{name}/{filter}}: its key in the store. */
        String key();

        /** The seq of the group's next held message, given out in the store's order. */
        long nextHeldSeq();

        /** The message is held durably (store's thread). */
        void held(long seq, long messageId, Message message);
    }

    /** The publisher's side, once everything is stored (store's thread). */
    @FunctionalInterface
    public interface Done {
        /** @param refused targets whose queue refused the message for its limits */
        void stored(int refused);
    }

    private final Message message;
    private final QueueLimits limits;
    private final List<StoredQueue> queues = new ArrayList<>(2);
    private final List<Delivery> deliveries = new ArrayList<>(2);
    private List<HeldGroup> groups = List.of();
    private boolean retained;
    private StoredQueue inboundQueue;
    private int inboundPacketId;
    private Done done;
    /** For a message another node forwarded with confirmation: its stream and id there; else 0. */
    private long forwardStream;
    private long forwardId;

    // results of prepare, for applied (the writer thread, in that order)
    private QueueEntry[] entries;
    private long[] heldSeqs;
    private long messageId;
    private int refused;

    public PublishTransaction(Message message, QueueLimits limits) {
        this.message = message;
        this.limits = limits;
    }

    /** A QoS 1/2 delivery to a stored queue; until the writer takes it, it counts towards the queue's backlog. */
    public void deliver(StoredQueue queue, Delivery delivery) {
        queues.add(queue);
        deliveries.add(delivery);
        queue.submitted();
    }

    /** A shared group with no member online holds the message (a place it reserved already). */
    public void hold(HeldGroup group) {
        if (groups.isEmpty()) {
            groups = new ArrayList<>(1);
        }
        groups.add(group);
    }

    /** The message replaces (or, with an empty payload, clears) the retained one on its topic. */
    public void retain() {
        retained = true;
    }

    /** The publisher's inbound QoS 2 id, recorded with the message so that a resend is not routed twice. */
    public void inboundQos2(StoredQueue publisher, int packetId) {
        inboundQueue = publisher;
        inboundPacketId = packetId;
    }

    /**
     * The message is one another node forwarded as {@code id} of its stream {@code stream}: each entry written is
     * marked with it in its session's replica (see {@link StoreWriter#forwardMark}).
     */
    public void forwardedAs(long stream, long id) {
        forwardStream = stream;
        forwardId = id;
    }

    public void whenStored(Done then) {
        done = then;
    }

    /** Whether there is nothing to write: the publish needs no store operation. */
    public boolean isEmpty() {
        return queues.isEmpty() && groups.isEmpty() && !retained && inboundQueue == null;
    }

    @Override
    public void prepare(StoreWriter w) {
        int references = 0;
        int size = message.payload().length;
        entries = new QueueEntry[queues.size()];
        for (int i = 0; i < queues.size(); i++) {
            StoredQueue q = queues.get(i);
            if (q.isClosed()) {
                q.taken();
                continue; // the session ended since the match; its state is being purged
            }
            QueueLimits bounds = q.limits() != null ? q.limits() : limits;
            if (q.overLimits(bounds, size)) {
                if (!bounds.dropOldest()) {
                    q.owner().refused();
                    q.taken();
                    refused++;
                    continue;
                }
                q.owner().overflowed();
            }
            if (messageId == 0) {
                messageId = w.newMessageId();
            }
            Delivery d = deliveries.get(i);
            QueueEntry entry = new QueueEntry(q.nextSeq(), messageId, d.qos(), d.retain(), d.subscriptionIds(),
                    d.sharedGroup() == null ? "" : d.sharedGroup(), false, size);
            w.putQueueEntry(q.key(), entry);
            if (forwardId != 0) {
                w.forwardMark(q.key(), forwardStream, forwardId);
            }
            q.counted(size);
            q.taken(); // after counting: a delivery moving between the two counts is seen twice at worst
            references++;
            entries[i] = entry;
            if (d.qos() == QoS.AT_LEAST_ONCE && q.sendsWhileWriting()) {
                // the put is in this batch: anything the owner submits on hearing it (a delete once the remote
                // acknowledged) goes into a later batch, written after it
                q.owner().writing(new StoredEntry(entry, message));
            }
        }
        heldSeqs = new long[groups.size()];
        for (int i = 0; i < groups.size(); i++) {
            if (messageId == 0) {
                messageId = w.newMessageId();
            }
            HeldGroup g = groups.get(i);
            heldSeqs[i] = g.nextHeldSeq();
            w.putHeld(g.key(), heldSeqs[i], messageId);
            references++;
        }
        if (references > 0) {
            w.putMessage(messageId, message, references);
        }
        if (retained) {
            if (message.payload().length == 0) {
                w.deleteRetained(message.topic());
            } else {
                w.putRetained(message);
            }
        }
        if (inboundQueue != null) {
            w.putInboundQos2(inboundQueue.key(), inboundPacketId);
            w.inboundCreated(inboundQueue.key(), inboundPacketId, message.createdAtMillis());
        }
    }

    @Override
    public void applied() {
        for (int i = 0; i < entries.length; i++) {
            if (entries[i] != null) {
                queues.get(i).owner().stored(new StoredEntry(entries[i], message));
            }
        }
        for (int i = 0; i < groups.size(); i++) {
            groups.get(i).held(heldSeqs[i], messageId, message);
        }
        if (done != null) {
            done.stored(refused);
        }
    }
}
