package io.ternmq.broker.store;

import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.Subscription;

import java.util.ArrayList;
import java.util.List;

/**
 * What a store held at start: every persistent session with its subscriptions, inbound QoS 2 ids and a summary of
 * its queue (the entries themselves are read when the session comes back online), retained messages, and messages
 * held for shared groups.
 */
public final class Recovered {

    /** One persistent session as stored. {@code nextSeq} is one past its highest queue entry. */
    public record StoredSession(SessionRecord record, List<Subscription> subscriptions, List<Integer> inboundQos2,
                                long queuedCount, long queuedBytes, long firstSeq, long nextSeq) {

        public StoredSession withRecord(SessionRecord newRecord) {
            return new StoredSession(newRecord, subscriptions, inboundQos2, queuedCount, queuedBytes, firstSeq,
                    nextSeq);
        }
    }

    /** A message held for a shared group ({@code group} is its whole filter, {@code $share/{name}/{filter}}). */
    public record HeldMessage(String group, long seq, long messageId, Message message) {

        /** The operation that drops it, when its group has no member left to take it. */
        public StoreOp discard() {
            return w -> w.deleteHeld(group, seq, messageId);
        }
    }

    public final List<StoredSession> sessions = new ArrayList<>();
    /** A message waiting for its time ({@code $delayed/...}), in id order. */
    public record DelayedMessage(long id, long dueMillis, Message message) {
    }

    public final List<Message> retained = new ArrayList<>();
    public final List<DelayedMessage> delayed = new ArrayList<>();
    public final List<HeldMessage> held = new ArrayList<>();
    /** Records that could not be read and were left out, each described for the log. */
    public final List<String> dropped = new ArrayList<>();
    /** Ended sessions whose leftovers (a purge a crash cut short) the store is purging in the background. */
    public int leftoverOwners;
}
