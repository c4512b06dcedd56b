package io.ternmq.broker.store;

import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.Subscription;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Reads a {@link RocksStore} back at start-up: every session with a summary of its queue, retained and held
 * messages.
 */
final class RocksRecovery {
    private final RocksColumns c;

    RocksRecovery(RocksColumns columns) {
        this.c = columns;
    }

    /** Everything the store holds, and the owners whose leftovers still need purging. */
    Recovered read(Consumer<String> purge) {
        Recovered r = new Recovered();
        Map<String, List<Subscription>> subs = new HashMap<>();
        java.util.Set<String> owners = new java.util.HashSet<>();
        c.forEach(c.subscriptions, (k, v) -> {
            try {
                String owner = StoreCodec.storeOwner(k);
                owners.add(owner);
                subs.computeIfAbsent(owner, x -> new ArrayList<>()).add(StoreCodec.subscription(v));
            } catch (RuntimeException e) {
                r.dropped.add("subscription " + RocksColumns.printable(k) + ": " + e.getMessage());
            }
        });
        Map<String, List<Integer>> inboundIds = new HashMap<>();
        c.forEach(c.inbound, (k, v) -> {
            String owner = StoreCodec.storeOwner(k);
            owners.add(owner);
            inboundIds.computeIfAbsent(owner, x -> new ArrayList<>()).add(StoreCodec.packetIdOf(k));
        });
        Map<String, long[]> queueSummary = new HashMap<>();
        c.forEach(c.queues, (k, v) -> {
            try {
                String owner = StoreCodec.storeOwner(k);
                owners.add(owner);
                long[] q = queueSummary.computeIfAbsent(owner, x -> new long[] {0, 0, Long.MAX_VALUE, 0});
                QueueEntry e = StoreCodec.entry(StoreCodec.seqOf(k), v);
                q[0]++;
                q[1] += e.payloadBytes();
                q[2] = Math.min(q[2], e.seq());
                q[3] = Math.max(q[3], e.seq() + 1);
            } catch (RuntimeException e) {
                r.dropped.add("queue entry " + RocksColumns.printable(k) + ": " + e.getMessage());
            }
        });
        c.forEach(c.sessions, (k, v) -> {
            String id = StoreCodec.string(k);
            try {
                SessionRecord record = StoreCodec.session(id, v);
                String owner = StoreOwner.of(id, record.epoch());
                owners.remove(owner);
                long[] q = queueSummary.getOrDefault(owner, new long[] {0, 0, 0, 0});
                r.sessions.add(new Recovered.StoredSession(record, subs.getOrDefault(owner, List.of()),
                        inboundIds.getOrDefault(owner, List.of()), q[0], q[1], q[0] == 0 ? 0 : q[2], q[3]));
            } catch (RuntimeException e) {
                r.dropped.add("session " + id + ": " + e.getMessage());
            }
        });
        // what ended sessions left (a purge cut short by a crash): finish purging it in the background
        for (String owner : owners) {
            purge.accept(owner);
        }
        r.leftoverOwners = owners.size();
        c.forEach(c.retained, (k, v) -> {
            try {
                r.retained.add(StoreCodec.message(v));
            } catch (RuntimeException e) {
                r.dropped.add("retained message on " + StoreCodec.string(k) + ": " + e.getMessage());
            }
        });
        c.forEach(c.delayed, (k, v) -> {
            try {
                long due = java.nio.ByteBuffer.wrap(v).getLong();
                r.delayed.add(new Recovered.DelayedMessage(StoreCodec.id(k), due,
                        StoreCodec.message(java.util.Arrays.copyOfRange(v, 8, v.length))));
            } catch (RuntimeException e) {
                r.dropped.add("delayed message " + StoreCodec.id(k) + ": " + e.getMessage());
            }
        });
        c.forEach(c.held, (k, v) -> {
            long messageId = StoreCodec.id(v);
            Message m = c.readMessage(messageId);
            if (m == null) {
                r.dropped.add("held message " + messageId + " of group " + RocksColumns.printable(k)
                        + ": message missing");
            } else {
                r.held.add(new Recovered.HeldMessage(StoreCodec.owner(k), StoreCodec.seqOf(k), messageId, m));
            }
        });
        return r;
    }
}
