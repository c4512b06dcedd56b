package io.ternmq.broker.store;

import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.Subscription;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@link StoreWriter} that writes through to the store's own and also records, per client id, what one group
 * writes to sessions, in the log format {@link ReplicatedSession} applies. Queue entries name their message by id
 * before the message itself is put (a publish writes its entries first), so messages are resolved when the group is
 * {@link #finish finished}. The store's writing thread only.
 */
final class MirroringWriter implements StoreWriter {
    private final StoreWriter store;
    private final Map<String, List<Op>> logs = new HashMap<>();
    private final Map<Long, Message> messages = new HashMap<>();
    /** Client ids whose inbound QoS 2 packet ids the group stores ({@link StoreMirror#copy}'s first). */
    private Set<String> publishers = Set.of();

    /** One recorded write; {@code message} set for queue entries. */
    private record Op(byte code, long epoch, long number, byte[] data, long messageId) {
    }

    MirroringWriter(StoreWriter store) {
        this.store = store;
    }

    private void log(String owner, byte code, long number, byte[] data, long messageId) {
        int nul = owner.indexOf('\0');
        String clientId = owner.substring(0, nul);
        long epoch = Long.parseUnsignedLong(owner.substring(nul + 1), 16);
        logs.computeIfAbsent(clientId, k -> new ArrayList<>(4)).add(new Op(code, epoch, number, data, messageId));
    }

    /** The client ids whose inbound QoS 2 packet ids the group stores: their copies go first. */
    Set<String> publishers() {
        return publishers;
    }

    /** What the group wrote to sessions, one log per client id; empty if nothing. */
    Map<String, byte[]> finish() {
        Map<String, byte[]> out = new HashMap<>(logs.size() * 2);
        for (Map.Entry<String, List<Op>> e : logs.entrySet()) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
            DataOutputStream d = new DataOutputStream(bytes);
            try {
                for (Op op : e.getValue()) {
                    Message m = op.code == ReplicatedSession.PUT_ENTRY ? messages.get(op.messageId) : null;
                    ReplicatedSession.writeOp(d, op.code, op.epoch, op.number, op.data,
                            m == null ? null : StoreCodec.message(m));
                }
            } catch (IOException x) {
                throw new UncheckedIOException(x);
            }
            out.put(e.getKey(), bytes.toByteArray());
        }
        return out;
    }

    @Override
    public long newMessageId() {
        return store.newMessageId();
    }

    @Override
    public void putMessage(long id, Message message, int references) {
        store.putMessage(id, message, references);
        messages.put(id, message);
    }

    @Override
    public void releaseMessage(long id, int references) {
        store.releaseMessage(id, references);
    }

    @Override
    public void putSession(SessionRecord session) {
        store.putSession(session);
        log(StoreOwner.of(session.clientId(), session.epoch()), ReplicatedSession.PUT_RECORD, 0,
                StoreCodec.session(session), 0);
    }

    @Override
    public void deleteSession(String clientId, String owner) {
        store.deleteSession(clientId, owner);
        log(owner, ReplicatedSession.DELETE, 0, null, 0);
    }

    @Override
    public void deleteStaleCopy(String clientId, String owner) {
        store.deleteSession(clientId, owner); // not copied: the cluster's copy is its current holder's
    }

    @Override
    public void putSubscription(String owner, Subscription subscription) {
        store.putSubscription(owner, subscription);
        log(owner, ReplicatedSession.PUT_SUBSCRIPTION, 0, StoreCodec.subscription(subscription), 0);
    }

    @Override
    public void deleteSubscription(String owner, String filter) {
        store.deleteSubscription(owner, filter);
        log(owner, ReplicatedSession.DELETE_SUBSCRIPTION, 0, StoreCodec.utf8(filter), 0);
    }

    @Override
    public void putQueueEntry(String owner, QueueEntry entry) {
        store.putQueueEntry(owner, entry);
        log(owner, ReplicatedSession.PUT_ENTRY, entry.seq(), StoreCodec.entry(entry), entry.messageId());
    }

    @Override
    public void inboundCreated(String owner, int packetId, long createdAtMillis) {
        log(owner, ReplicatedSession.INBOUND_CREATED, packetId, ReplicatedSession.streamBytes(createdAtMillis), 0);
    }

    @Override
    public void claimed(String owner) {
        log(owner, ReplicatedSession.CLAIM, 0, null, 0);
    }

    @Override
    public void held(String owner) {
        log(owner, ReplicatedSession.HELD, 0, null, 0);
    }

    @Override
    public void forwardMark(String owner, long stream, long id) {
        log(owner, ReplicatedSession.FORWARD_MARK, id, ReplicatedSession.streamBytes(stream), 0);
    }

    @Override
    public void orphansAccounted(String owner, String run, long stream, long[] ranges) {
        log(owner, ReplicatedSession.ORPHANS_ACCOUNTED, stream, ReplicatedSession.orphanBytes(run, ranges), 0);
    }

    @Override
    public void markReleased(String owner, long seq) {
        store.markReleased(owner, seq);
        log(owner, ReplicatedSession.RELEASE_ENTRY, seq, null, 0);
    }

    @Override
    public void deleteQueueEntry(String owner, long seq, long messageId) {
        store.deleteQueueEntry(owner, seq, messageId);
        log(owner, ReplicatedSession.DELETE_ENTRY, seq, null, 0);
    }

    @Override
    public QueueEntry deleteFirstQueueEntry(String owner, long fromSeq) {
        QueueEntry gone = store.deleteFirstQueueEntry(owner, fromSeq);
        if (gone != null) {
            log(owner, ReplicatedSession.DELETE_ENTRY, gone.seq(), null, 0);
        }
        return gone;
    }

    @Override
    public void putInboundQos2(String owner, int packetId) {
        store.putInboundQos2(owner, packetId);
        log(owner, ReplicatedSession.PUT_INBOUND_QOS2, packetId, null, 0);
        if (publishers.isEmpty()) {
            publishers = new HashSet<>(2);
        }
        publishers.add(owner.substring(0, owner.indexOf('\0')));
    }

    @Override
    public void deleteInboundQos2(String owner, int packetId) {
        store.deleteInboundQos2(owner, packetId);
        log(owner, ReplicatedSession.DELETE_INBOUND_QOS2, packetId, null, 0);
    }

    @Override
    public void putRetained(Message message) {
        store.putRetained(message);
    }

    @Override
    public void deleteRetained(String topic) {
        store.deleteRetained(topic);
    }

    // delayed messages are the node's own (docs/cluster.md): not part of any session's replica

    @Override
    public long newDelayedId() {
        return store.newDelayedId();
    }

    @Override
    public void putDelayed(long id, long dueMillis, Message message) {
        store.putDelayed(id, dueMillis, message);
    }

    @Override
    public void deleteDelayed(long id) {
        store.deleteDelayed(id);
    }

    @Override
    public void putHeld(String group, long seq, long messageId) {
        store.putHeld(group, seq, messageId);
    }

    @Override
    public void deleteHeld(String group, long seq, long messageId) {
        store.deleteHeld(group, seq, messageId);
    }
}
