package io.ternmq.broker.store;

import io.ternmq.broker.message.Message;
import io.ternmq.broker.session.Subscription;

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

    /** Removes the session with its subscriptions, queue (releasing its messages) and inbound QoS 2 ids. */
    void deleteSession(String clientId);

    void putSubscription(String clientId, Subscription subscription);

    void deleteSubscription(String clientId, String filter);

    void putQueueEntry(String clientId, QueueEntry entry);

    /** The outbound QoS 2 message got its PUBREC: after a restart only its PUBREL is resent. */
    void markReleased(String clientId, long seq);

    /** Removes an entry and releases its message. */
    void deleteQueueEntry(String clientId, long seq, long messageId);

    /**
     * Removes the session's first queue entry with {@code seq >= fromSeq} (the oldest not yet in memory), releasing
     * its message. @return the removed entry, or null if there is none
     */
    QueueEntry deleteFirstQueueEntry(String clientId, long fromSeq);

    void putInboundQos2(String clientId, int packetId);

    void deleteInboundQos2(String clientId, int packetId);

    void putRetained(Message message);

    void deleteRetained(String topic);

    /** A message held for a shared subscription group while no member is online. */
    void putHeld(String group, long seq, long messageId);

    void deleteHeld(String group, long seq, long messageId);
}
