package io.ternmq.broker.store;

import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.Subscription;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The store of {@code storage.type memory}: the same contract as {@link RocksStore}, in maps, under one lock that
 * gives all operations their single order. Durable at once (nothing is), so {@link StoreOp#applied} runs inline.
 * Nothing survives the process, like Mosquitto with {@code persistence false}.
 */
public final class MemoryStore implements Store {

    private final Map<String, SessionRecord> sessions = new HashMap<>();
    // keyed by StoreOwner (client id and epoch)
    private final Map<String, Map<String, Subscription>> subscriptions = new HashMap<>();
    private final Map<String, TreeMap<Long, QueueEntry>> queues = new HashMap<>();
    private final Map<String, Set<Integer>> inbound = new HashMap<>();
    private final Map<Long, Message> messages = new HashMap<>();
    private final Map<Long, Integer> references = new HashMap<>();
    private final Map<String, Message> retained = new LinkedHashMap<>();
    private final Map<String, TreeMap<Long, Long>> held = new HashMap<>();
    private final TreeMap<Long, Recovered.DelayedMessage> delayed = new TreeMap<>();
    private long lastMessageId;
    private long lastDelayedId;
    private final Writer writer = new Writer();

    /** The cluster's copy of session writes; null on a single node. */
    private StoreMirror mirror;

    @Override
    public synchronized void submit(StoreOp op) {
        if (mirror == null) {
            op.prepare(writer);
            op.applied();
            return;
        }
        // each operation is its own group: its callback waits for its copy (in order, under this lock's order)
        MirroringWriter tee = new MirroringWriter(writer);
        op.prepare(tee);
        mirror.copy(tee.finish(), tee.publishers()).then(op::applied);
    }

    @Override
    public synchronized void mirrorTo(StoreMirror mirror) {
        this.mirror = mirror;
    }

    @Override
    public synchronized Recovered recover() {
        Recovered r = new Recovered();
        for (SessionRecord s : sessions.values()) {
            String id = StoreOwner.of(s.clientId(), s.epoch());
            TreeMap<Long, QueueEntry> q = queues.getOrDefault(id, new TreeMap<>());
            long bytes = q.values().stream().mapToLong(QueueEntry::payloadBytes).sum();
            r.sessions.add(new Recovered.StoredSession(s,
                    new ArrayList<>(subscriptions.getOrDefault(id, Map.of()).values()),
                    new ArrayList<>(inbound.getOrDefault(id, Set.of())), q.size(), bytes,
                    q.isEmpty() ? 0 : q.firstKey(), q.isEmpty() ? 0 : q.lastKey() + 1));
        }
        r.retained.addAll(retained.values());
        r.delayed.addAll(delayed.values());
        held.forEach((group, entries) -> entries.forEach((seq, id) ->
                r.held.add(new Recovered.HeldMessage(group, seq, id, messages.get(id)))));
        return r;
    }

    @Override
    public synchronized void readQueue(String owner, long fromSeq, int max, Consumer<List<StoredEntry>> callback) {
        List<StoredEntry> out = new ArrayList<>();
        TreeMap<Long, QueueEntry> q = queues.get(owner);
        if (q != null) {
            for (QueueEntry e : q.tailMap(fromSeq, true).values()) {
                if (out.size() == max) {
                    break;
                }
                out.add(new StoredEntry(e, messages.get(e.messageId())));
            }
        }
        callback.accept(out);
    }

    @Override
    public boolean survivesRestart() {
        return false;
    }

    @Override
    public void close() {
        // nothing to release
    }

    /** For tests: how many messages are stored (shared ones count once). */
    public synchronized int messageCount() {
        return messages.size();
    }

    private final class Writer implements StoreWriter {
        @Override
        public long newMessageId() {
            return ++lastMessageId;
        }

        @Override
        public void putMessage(long id, Message message, int refs) {
            messages.put(id, message);
            references.merge(id, refs, Integer::sum);
        }

        @Override
        public void releaseMessage(long id, int refs) {
            Integer left = references.merge(id, -refs, Integer::sum);
            if (left != null && left <= 0) {
                references.remove(id);
                messages.remove(id);
            }
        }

        @Override
        public void putSession(SessionRecord session) {
            sessions.put(session.clientId(), session);
        }

        @Override
        public void deleteSession(String clientId, String owner) {
            SessionRecord r = sessions.get(clientId);
            if (r != null && StoreOwner.of(clientId, r.epoch()).equals(owner)) {
                sessions.remove(clientId);
            }
            subscriptions.remove(owner);
            inbound.remove(owner);
            TreeMap<Long, QueueEntry> q = queues.remove(owner);
            if (q != null) {
                q.values().forEach(e -> releaseMessage(e.messageId(), 1));
            }
        }

        @Override
        public void putSubscription(String owner, Subscription s) {
            subscriptions.computeIfAbsent(owner, k -> new HashMap<>()).put(s.filter(), s);
        }

        @Override
        public void deleteSubscription(String owner, String filter) {
            Map<String, Subscription> m = subscriptions.get(owner);
            if (m != null) {
                m.remove(filter);
            }
        }

        @Override
        public void putQueueEntry(String owner, QueueEntry entry) {
            queues.computeIfAbsent(owner, k -> new TreeMap<>()).put(entry.seq(), entry);
        }

        @Override
        public void markReleased(String owner, long seq) {
            NavigableMap<Long, QueueEntry> q = queues.get(owner);
            if (q != null) {
                q.computeIfPresent(seq, (k, e) -> e.asReleased());
            }
        }

        @Override
        public void deleteQueueEntry(String owner, long seq, long messageId) {
            TreeMap<Long, QueueEntry> q = queues.get(owner);
            if (q != null && q.remove(seq) != null) {
                releaseMessage(messageId, 1);
            }
        }

        @Override
        public QueueEntry deleteFirstQueueEntry(String owner, long fromSeq) {
            TreeMap<Long, QueueEntry> q = queues.get(owner);
            Map.Entry<Long, QueueEntry> first = q == null ? null : q.ceilingEntry(fromSeq);
            if (first == null) {
                return null;
            }
            q.remove(first.getKey());
            releaseMessage(first.getValue().messageId(), 1);
            return first.getValue();
        }

        @Override
        public void putInboundQos2(String owner, int packetId) {
            inbound.computeIfAbsent(owner, k -> new TreeSet<>()).add(packetId);
        }

        @Override
        public void deleteInboundQos2(String owner, int packetId) {
            Set<Integer> ids = inbound.get(owner);
            if (ids != null) {
                ids.remove(packetId);
            }
        }

        @Override
        public void putRetained(Message message) {
            retained.put(message.topic(), message);
        }

        @Override
        public void deleteRetained(String topic) {
            retained.remove(topic);
        }

        @Override
        public void putHeld(String group, long seq, long messageId) {
            held.computeIfAbsent(group, k -> new TreeMap<>()).put(seq, messageId);
        }

        @Override
        public long newDelayedId() {
            return ++lastDelayedId;
        }

        @Override
        public void putDelayed(long id, long dueMillis, Message message) {
            delayed.put(id, new Recovered.DelayedMessage(id, dueMillis, message));
        }

        @Override
        public void deleteDelayed(long id) {
            delayed.remove(id);
        }

        @Override
        public void deleteHeld(String group, long seq, long messageId) {
            TreeMap<Long, Long> entries = held.get(group);
            if (entries != null && entries.remove(seq) != null) {
                releaseMessage(messageId, 1);
            }
        }
    }
}
