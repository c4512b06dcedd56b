package io.ternmq.broker.store;

import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.Subscription;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The {@link StoreWriter} of a {@link RocksStore}: fills one write batch at a time on the store's writer thread, and
 * remembers the batch's queue writes so that a session deletion in the same batch sees them too. Also the two
 * housekeeping operations that run in the writer's order: reclaiming unreferenced messages and purging what ended
 * sessions left, each a bounded slice at a time.
 *
 * <p>A message's references are counted in the store by merges, and a message without references is reclaimed by
 * garbage collection. For messages whose first put it wrote, the writer also keeps the count in memory: the release
 * that takes it to zero deletes the message at once, in the batch of that release. A message acknowledged soon after
 * it was stored (a subscriber that keeps up, a bridge's remote) is then put and deleted within one memtable, which
 * RocksDB drops at flush, instead of reaching the disk and waiting for the collection.
 *
 * <p>The garbage collection checks the messages released while not counted in memory, by id; it scans every
 * reference count (a bounded slice a second) only after a start, for what a crash left, or when there were too many
 * such releases to remember. It never scans otherwise: the deletions above leave tombstones that a scan would have to
 * step over, on the writer's thread.
 */
final class RocksBatchWriter implements StoreWriter {
    private static final int GC_SLICE = 2000;

    private final RocksColumns c;
    /** Where an operation that has more to do queues its next slice: behind whatever waits already. */
    private final Consumer<StoreOp> resubmit;
    private long lastMessageId;
    private long lastDelayedId;
    /** Whether a full pass over the reference counts is under way (after a start, or when releases overflowed). */
    private boolean fullPass = true;
    /** Releases were forgotten during the pass under way: another pass follows it. */
    private boolean passAgain;
    /** Where the full pass's next slice starts; null: from the beginning. */
    private byte[] gcCursor;
    /**
     * Messages released while not counted in memory, to check; the first {@link #releasedBefore} are from earlier
     * batches (at most {@value #RELEASED_REMEMBERED}: more start a full pass).
     */
    private final ArrayDeque<Long> released = new ArrayDeque<>();
    private int releasedBefore;
    private static final int RELEASED_REMEMBERED = 65_536;

    /**
     * Messages counted in memory, at most {@value #COUNTED_MESSAGES} (the oldest let go: the garbage collection
     * still finds them), with their references: exactly the store's count, since it started at their first put.
     */
    private final LinkedHashMap<Long, int[]> counted = new LinkedHashMap<>(1024) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, int[]> eldest) {
            return size() > COUNTED_MESSAGES;
        }
    };
    private static final int COUNTED_MESSAGES = 65_536;
    /** The id {@link #newMessageId} gave last, until its first put; else 0. */
    private long freshMessageId;

    private WriteBatch batch;
    /**
     * The queue writes of this batch in order (key, and the entry put or null for a delete): only a session's
     * deletion and dropping a queue's oldest entry need them, through {@link #batchQueue()}, so most batches never
     * index them.
     */
    private final List<byte[]> queueWriteKeys = new ArrayList<>();
    private final List<QueueEntry> queueWriteEntries = new ArrayList<>();
    /** Queue keys written in this batch, message id or -1 for deleted; built on first use in a batch, else null. */
    private Map<ByteBuffer, Long> batchQueue;
    /** Queue entries put in this batch, for deleteFirstQueueEntry; built with {@link #batchQueue}. */
    private Map<ByteBuffer, QueueEntry> pendingEntries;
    /** Session records put in this batch, so that deleteSession compares epochs with the newest. */
    private final Map<String, SessionRecord> batchSessions = new HashMap<>();

    RocksBatchWriter(RocksColumns columns, Consumer<StoreOp> resubmit) {
        this.c = columns;
        this.resubmit = resubmit;
        this.lastMessageId = columns.lastKeyAsLong(columns.messages);
        this.lastDelayedId = columns.lastKeyAsLong(columns.delayed);
    }

    /** Restarts garbage collection from the first message (a full pass, for tests that count messages). */
    void restartGarbageCollection() {
        fullPass = true;
        gcCursor = null;
    }

    /** Whether the garbage collection has nothing left to check that this batch can see. */
    boolean garbageCollectionDone() {
        return !fullPass && releasedBefore == 0;
    }

    void begin(WriteBatch b) {
        batch = b;
        queueWriteKeys.clear();
        queueWriteEntries.clear();
        batchQueue = null;
        pendingEntries = null;
        batchSessions.clear();
        releasedBefore = released.size(); // a batch's own releases are not visible to its reads
    }

    /**
     * The last batch was not written: what was counted in memory for it is wrong, so every message goes back to being
     * reclaimed by the garbage collection.
     */
    void failed() {
        counted.clear();
        restartGarbageCollection();
    }

    private void queueWritten(byte[] key, QueueEntry put, long messageId) {
        if (batchQueue != null) {
            ByteBuffer k = ByteBuffer.wrap(key);
            batchQueue.put(k, messageId);
            if (put != null) {
                pendingEntries.put(k, put);
            }
        } else {
            queueWriteKeys.add(key);
            queueWriteEntries.add(put);
        }
    }

    /** The queue keys this batch wrote, indexed now if they were not yet (later writes of the batch keep it up). */
    private Map<ByteBuffer, Long> batchQueue() {
        if (batchQueue == null) {
            batchQueue = new HashMap<>();
            pendingEntries = new HashMap<>();
            for (int i = 0; i < queueWriteKeys.size(); i++) {
                ByteBuffer k = ByteBuffer.wrap(queueWriteKeys.get(i));
                QueueEntry e = queueWriteEntries.get(i);
                batchQueue.put(k, e == null ? -1L : e.messageId());
                if (e != null) {
                    pendingEntries.put(k, e);
                }
            }
        }
        return batchQueue;
    }

    private void put(ColumnFamilyHandle cf, byte[] k, byte[] v) {
        try {
            batch.put(cf, k, v);
        } catch (RocksDBException e) {
            throw new StoreException("write batch: " + e.getMessage(), e);
        }
    }

    private void delete(ColumnFamilyHandle cf, byte[] k) {
        try {
            batch.delete(cf, k);
        } catch (RocksDBException e) {
            throw new StoreException("write batch: " + e.getMessage(), e);
        }
    }

    private void addReferences(long id, long delta) {
        try {
            batch.merge(c.references, StoreCodec.id(id), RocksColumns.uint64(delta));
        } catch (RocksDBException e) {
            throw new StoreException("write batch: " + e.getMessage(), e);
        }
    }

    @Override
    public long newMessageId() {
        freshMessageId = ++lastMessageId;
        return freshMessageId;
    }

    @Override
    public void putMessage(long id, Message message, int refs) {
        put(c.messages, StoreCodec.id(id), StoreCodec.message(message));
        addReferences(id, refs);
        if (id == freshMessageId) {
            freshMessageId = 0;
            counted.put(id, new int[] {refs}); // its first put: the store's count starts here
        } else {
            int[] n = counted.get(id);
            if (n != null) {
                n[0] += refs;
            }
        }
    }

    @Override
    public void releaseMessage(long id, int refs) {
        int[] n = counted.get(id);
        if (n != null && (n[0] -= refs) <= 0) {
            counted.remove(id);
            byte[] k = StoreCodec.id(id);
            delete(c.messages, k);
            delete(c.references, k); // and every merge before it
            return;
        }
        addReferences(id, -refs);
        if (released.size() < RELEASED_REMEMBERED) {
            released.add(id);
        } else if (fullPass) {
            passAgain = true; // too many to remember: this pass may be past it already, the next one finds it
        } else {
            restartGarbageCollection(); // too many to remember: a full pass finds them
        }
    }

    @Override
    public void putSession(SessionRecord session) {
        put(c.sessions, StoreCodec.utf8(session.clientId()), StoreCodec.session(session));
        batchSessions.put(session.clientId(), session);
    }

    @Override
    public void deleteSession(String clientId, String owner) {
        try {
            SessionRecord newest = batchSessions.get(clientId);
            if (newest == null && !batchSessions.containsKey(clientId)) {
                byte[] stored = c.db.get(c.sessions, StoreCodec.utf8(clientId));
                newest = stored == null ? null : StoreCodec.session(clientId, stored);
            }
            // only this incarnation's record: a new session of the same client may have written its own
            if (newest != null && StoreOwner.of(clientId, newest.epoch()).equals(owner)) {
                delete(c.sessions, StoreCodec.utf8(clientId));
                batchSessions.put(clientId, null);
            }
        } catch (RocksDBException e) {
            throw new StoreException("read session " + clientId + ": " + e.getMessage(), e);
        }
        new PurgeOwner(owner).prepare(this);
    }

    private void deletePrefix(ColumnFamilyHandle cf, byte[] prefix) {
        try (RocksIterator it = c.db.newIterator(cf)) {
            for (it.seek(prefix); it.isValid() && RocksColumns.startsWith(it.key(), prefix); it.next()) {
                delete(cf, it.key());
            }
        }
    }

    @Override
    public void putSubscription(String owner, Subscription s) {
        put(c.subscriptions, StoreCodec.key(owner, s.filter()), StoreCodec.subscription(s));
    }

    @Override
    public void deleteSubscription(String owner, String filter) {
        delete(c.subscriptions, StoreCodec.key(owner, filter));
    }

    @Override
    public void putQueueEntry(String owner, QueueEntry entry) {
        byte[] k = StoreCodec.key(owner, entry.seq());
        put(c.queues, k, StoreCodec.entry(entry));
        queueWritten(k, entry, entry.messageId());
    }

    @Override
    public void markReleased(String owner, long seq) {
        byte[] k = StoreCodec.key(owner, seq);
        try {
            byte[] v = c.db.get(c.queues, k);
            if (v != null) {
                put(c.queues, k, StoreCodec.entry(StoreCodec.entry(seq, v).asReleased()));
            }
        } catch (RocksDBException e) {
            throw new StoreException("read queue entry: " + e.getMessage(), e);
        }
    }

    @Override
    public void deleteQueueEntry(String owner, long seq, long messageId) {
        byte[] k = StoreCodec.key(owner, seq);
        delete(c.queues, k);
        releaseMessage(messageId, 1);
        queueWritten(k, null, -1L);
    }

    @Override
    public QueueEntry deleteFirstQueueEntry(String owner, long fromSeq) {
        byte[] prefix = StoreCodec.prefix(owner);
        // the oldest stored entry not touched by this batch, and the oldest this batch put: whichever is first
        QueueEntry first = null;
        Map<ByteBuffer, Long> batchQueue = batchQueue();
        try (RocksIterator it = c.db.newIterator(c.queues)) {
            for (it.seek(StoreCodec.key(owner, fromSeq)); it.isValid() && RocksColumns.startsWith(it.key(), prefix);
                 it.next()) {
                if (!batchQueue.containsKey(ByteBuffer.wrap(it.key()))) {
                    first = StoreCodec.entry(StoreCodec.seqOf(it.key()), it.value());
                    break;
                }
            }
        }
        for (Map.Entry<ByteBuffer, QueueEntry> e : pendingEntries.entrySet()) {
            QueueEntry q = e.getValue();
            if (RocksColumns.startsWith(e.getKey().array(), prefix) && q.seq() >= fromSeq
                    && batchQueue.get(e.getKey()) >= 0 && (first == null || q.seq() < first.seq())) {
                first = q;
            }
        }
        if (first != null) {
            deleteQueueEntry(owner, first.seq(), first.messageId());
        }
        return first;
    }

    @Override
    public void putInboundQos2(String owner, int packetId) {
        put(c.inbound, StoreCodec.key(owner, packetId), new byte[0]);
    }

    @Override
    public void deleteInboundQos2(String owner, int packetId) {
        delete(c.inbound, StoreCodec.key(owner, packetId));
    }

    @Override
    public void putRetained(Message message) {
        put(c.retained, StoreCodec.utf8(message.topic()), StoreCodec.message(message));
    }

    @Override
    public void deleteRetained(String topic) {
        delete(c.retained, StoreCodec.utf8(topic));
    }

    @Override
    public void putHeld(String group, long seq, long messageId) {
        put(c.held, StoreCodec.key(group, seq), StoreCodec.id(messageId));
    }

    @Override
    public void deleteHeld(String group, long seq, long messageId) {
        delete(c.held, StoreCodec.key(group, seq));
        releaseMessage(messageId, 1);
    }

    @Override
    public long newDelayedId() {
        return ++lastDelayedId;
    }

    @Override
    public void putDelayed(long id, long dueMillis, Message message) {
        byte[] m = StoreCodec.message(message);
        put(c.delayed, StoreCodec.id(id), ByteBuffer.allocate(8 + m.length).putLong(dueMillis).put(m).array());
    }

    @Override
    public void deleteDelayed(long id) {
        delete(c.delayed, StoreCodec.id(id));
    }

    /**
     * Deletes messages whose reference count reached zero: those released while not counted in memory, and, during a
     * full pass, one slice of every count, resuming where the last slice stopped.
     */
    final class CollectGarbage implements StoreOp {
        @Override
        public void prepare(StoreWriter w) {
            try {
                for (; releasedBefore > 0; releasedBefore--) {
                    byte[] k = StoreCodec.id(released.poll());
                    byte[] count = c.db.get(c.references, k);
                    if (count != null && RocksColumns.uint64(count) <= 0) {
                        delete(c.messages, k);
                        delete(c.references, k);
                    }
                }
            } catch (RocksDBException e) {
                throw new StoreException("read reference count: " + e.getMessage(), e);
            }
            if (fullPass) {
                slice();
            }
        }

        private void slice() {
            int seen = 0;
            try (RocksIterator it = c.db.newIterator(c.references)) {
                if (gcCursor == null) {
                    it.seekToFirst();
                } else {
                    it.seek(gcCursor);
                }
                for (; it.isValid() && seen < GC_SLICE; it.next(), seen++) {
                    if (RocksColumns.uint64(it.value()) <= 0) {
                        delete(c.messages, it.key());
                        delete(c.references, it.key());
                    }
                }
                gcCursor = it.isValid() ? it.key() : null;
                if (gcCursor == null) {
                    fullPass = passAgain;
                    passAgain = false;
                }
            }
        }
    }

    /**
     * Deletes what an ended session left (subscriptions, inbound ids, queue entries, releasing their messages), a
     * bounded slice per operation, queueing the next slice behind other writes until nothing is left.
     */
    final class PurgeOwner implements StoreOp {
        private static final int SLICE = 2000;
        private final String owner;

        PurgeOwner(String owner) {
            this.owner = owner;
        }

        @Override
        public void prepare(StoreWriter w) {
            byte[] prefix = StoreCodec.prefix(owner);
            int budget = SLICE;
            for (ColumnFamilyHandle cf : List.of(c.subscriptions, c.inbound, c.queues)) {
                try (RocksIterator it = c.db.newIterator(cf)) {
                    for (it.seek(prefix); it.isValid() && RocksColumns.startsWith(it.key(), prefix) && budget > 0;
                         it.next()) {
                        if (cf == c.queues) {
                            if (batchQueue().containsKey(ByteBuffer.wrap(it.key()))) {
                                continue; // already deleted in this batch
                            }
                            deleteQueueEntry(owner, StoreCodec.seqOf(it.key()),
                                    StoreCodec.entry(0, it.value()).messageId());
                        } else {
                            delete(cf, it.key());
                        }
                        budget--;
                    }
                }
            }
            if (budget == 0) {
                resubmit.accept(new PurgeOwner(owner)); // more left: continue behind whatever is waiting
            }
        }
    }
}
