package io.ternmq.broker.store;

import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.Subscription;

/**
 * The writes a {@link StoreOp} may make. Messages are stored once and referenced by id from every queue that holds
 * them; {@link #releaseMessage} drops references, and a message without references is reclaimed.
 */
public interface StoreWriter {

    /** A fresh message id (ids only grow, across restarts too). */
    long newMessageId();

    void putMessage(long id, Message message, int references);

    void releaseMessage(long id, int references);

    void putSession(SessionRecord session);

    /**
     * Removes the session record (if it is still this incarnation's), then its subscriptions, inbound QoS 2 ids and
     * queue (releasing its messages) in bounded slices, so that a huge queue never stalls other writes.
     *
     * @param owner the session's {@link StoreOwner}
     */
    void deleteSession(String clientId, String owner);

    /**
     * Like {@link #deleteSession}, for a stale copy of a session another node holds now: gone from this store only,
     * never from the cluster's copy, which is that node's (it may not have replaced this incarnation there yet).
     */
    default void deleteStaleCopy(String clientId, String owner) {
        deleteSession(clientId, owner);
    }

    // Everything below is keyed by the session's {@link StoreOwner} (client id and epoch).

    void putSubscription(String owner, Subscription subscription);

    void deleteSubscription(String owner, String filter);

    void putQueueEntry(String owner, QueueEntry entry);

    /**
     * The queue entry just put holds the message another node forwarded as {@code id} of its stream
     * {@code stream} (in a cluster): only a session's replica keeps it, so that a node adopting the session after
     * this one died knows which of that stream's unconfirmed messages it has. Nothing for the store's own files.
     */
    default void forwardMark(String owner, long stream, long id) {
    }

    /**
     * The session was adopted from the dead run {@code run} (in a cluster), and of that run's orphans (messages
     * forwarded to it that it never confirmed) its holder accounted for those of {@code stream} in {@code ranges}
     * (first and last of each; empty: none yet): only a session's replica keeps it, so that a node adopting the
     * session after its holder died too still gives it that run's late orphans, and no others. Nothing for the
     * store's own files.
     */
    default void orphansAccounted(String owner, String run, long stream, long[] ranges) {
    }

    /**
     * The inbound QoS 2 message whose id was just put was created (received) at {@code createdAtMillis}: only a
     * session's replica keeps it, so that the node adopting the session after this one died can tell the other nodes
     * which message a resend of that id is. Nothing for the store's own files.
     */
    default void inboundCreated(String owner, int packetId, long createdAtMillis) {
    }

    /**
     * The session about to be written under {@code owner} is one another node is handing over, whose claim has not
     * committed: only a session's replica keeps the incarnation it replaces, until {@link #held} or until this one is
     * deleted (the claim given up). Nothing for the store's own files.
     */
    default void claimed(String owner) {
    }

    /** The claim of the session stored under {@code owner} committed ({@link #claimed}). Nothing for the store's own files. */
    default void held(String owner) {
    }

    /** The outbound QoS 2 message got its PUBREC: after a restart only its PUBREL is resent. */
    void markReleased(String owner, long seq);

    /** Removes an entry and releases its message. */
    void deleteQueueEntry(String owner, long seq, long messageId);

    /**
     * Removes the session's first queue entry with {@code seq >= fromSeq} (the oldest not yet in memory), releasing
     * its message. @return the removed entry, or null if there is none
     */
    QueueEntry deleteFirstQueueEntry(String owner, long fromSeq);

    void putInboundQos2(String owner, int packetId);

    void deleteInboundQos2(String owner, int packetId);

    void putRetained(Message message);

    void deleteRetained(String topic);

    /** A message held for a shared subscription group while no member is online. */
    void putHeld(String group, long seq, long messageId);

    void deleteHeld(String group, long seq, long messageId);

    /** A fresh id for a delayed message (ids only grow, across restarts too). */
    long newDelayedId();

    /** A message to publish at {@code dueMillis} ({@code $delayed/...}), kept until {@link #deleteDelayed}. */
    void putDelayed(long id, long dueMillis, Message message);

    /** The delayed message was released (or dropped). */
    void deleteDelayed(long id);
}
