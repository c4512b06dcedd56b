package io.ternmq.broker.store;

import io.ternmq.broker.message.Message;
import io.ternmq.broker.session.Subscription;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Status;
import org.rocksdb.UInt64AddOperator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The default store: an embedded RocksDB under {@code data_dir/store}. One writer thread takes every
 * {@link StoreOp} in submission order, collects all that are waiting into one write batch, writes it once (synced in
 * {@code fsync} mode: one sync for the whole group, whichever connections the operations came from), and then runs
 * their {@link StoreOp#applied} callbacks in order. Reads of queues for sessions coming back online run on a separate
 * reader thread. Messages are stored once with a reference count (a merge operator adds and subtracts); a background
 * pass reclaims the ones nobody references, a bounded slice at a time.
 */
public final class RocksStore implements Store {
    private static final Logger LOG = LoggerFactory.getLogger(RocksStore.class);
    private static final int MAX_GROUP = 4096;
    private static final int GC_SLICE = 2000;

    /** When a write counts as stored. */
    public enum Durability { FSYNC, PERIODIC, NONE }

    static {
        RocksDB.loadLibrary();
    }

    private final Path directory;
    private final Durability durability;
    private final RocksDB db;
    private final DBOptions dbOptions;
    private final List<ColumnFamilyOptions> cfOptions = new ArrayList<>();
    private final List<ColumnFamilyHandle> handles = new ArrayList<>();
    private final ColumnFamilyHandle sessions;
    private final ColumnFamilyHandle subscriptions;
    private final ColumnFamilyHandle queues;
    private final ColumnFamilyHandle inbound;
    private final ColumnFamilyHandle messages;
    private final ColumnFamilyHandle references;
    private final ColumnFamilyHandle retained;
    private final ColumnFamilyHandle held;
    private final WriteOptions writeOptions;

    private final LinkedBlockingQueue<StoreOp> pending = new LinkedBlockingQueue<>();
    private final Thread writerThread;
    private final ExecutorService reader;
    private final ScheduledExecutorService housekeeping;
    private volatile boolean closing;
    private long lastMessageId;
    private byte[] gcCursor;

    /**
     * Opens (creating if needed) the store in {@code directory}.
     *
     * @throws StoreException naming the directory and the problem, e.g. corruption
     */
    public RocksStore(Path directory, Durability durability, long syncIntervalMillis) {
        this.directory = directory;
        this.durability = durability;
        try {
            Files.createDirectories(directory);
        } catch (java.io.IOException e) {
            throw new StoreException("cannot create " + directory + ": " + e.getMessage(), e);
        }
        dbOptions = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true)
                .setParanoidChecks(true).setMaxTotalWalSize(256L * 1024 * 1024).setKeepLogFileNum(3);
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        for (String name : List.of("default", "sessions", "subscriptions", "queues", "inbound", "messages",
                "references", "retained", "held")) {
            ColumnFamilyOptions o = new ColumnFamilyOptions().setCompressionType(CompressionType.LZ4_COMPRESSION);
            if (name.equals("references")) {
                o.setMergeOperator(new UInt64AddOperator());
            }
            cfOptions.add(o);
            descriptors.add(new ColumnFamilyDescriptor(name.getBytes(java.nio.charset.StandardCharsets.UTF_8), o));
        }
        try {
            db = RocksDB.open(dbOptions, directory.toString(), descriptors, handles);
        } catch (RocksDBException e) {
            closeOptions();
            Status s = e.getStatus();
            String what = s != null && s.getCode() == Status.Code.Corruption ? "corrupt" : "cannot be opened";
            throw new StoreException("store " + directory + " " + what + ": " + e.getMessage()
                    + (what.equals("corrupt") ? " (refusing to start rather than lose data; see docs/durability.md)"
                    : ""), e);
        }
        sessions = handles.get(1);
        subscriptions = handles.get(2);
        queues = handles.get(3);
        inbound = handles.get(4);
        messages = handles.get(5);
        references = handles.get(6);
        retained = handles.get(7);
        held = handles.get(8);
        writeOptions = new WriteOptions().setSync(durability == Durability.FSYNC);
        lastMessageId = lastKeyAsLong(messages);
        writerThread = new Thread(this::writeLoop, "ternmq-store-writer");
        writerThread.setDaemon(true);
        writerThread.start();
        reader = Executors.newSingleThreadExecutor(r -> daemon(r, "ternmq-store-reader"));
        housekeeping = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "ternmq-store-housekeeping"));
        housekeeping.scheduleWithFixedDelay(() -> submit(new CollectGarbage()), 1, 1, TimeUnit.SECONDS);
        if (durability == Durability.PERIODIC) {
            housekeeping.scheduleWithFixedDelay(this::syncWal, syncIntervalMillis, syncIntervalMillis,
                    TimeUnit.MILLISECONDS);
        }
        LOG.info("Store: RocksDB in {} ({} durability)", directory, durability.name().toLowerCase());
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    // ------------------------------------------------------------------ writing

    @Override
    public void submit(StoreOp op) {
        if (closing) {
            throw new IllegalStateException("store is closed");
        }
        pending.add(op);
    }

    private void writeLoop() {
        List<StoreOp> group = new ArrayList<>();
        Writer writer = new Writer();
        while (true) {
            try {
                StoreOp first = pending.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    if (closing && pending.isEmpty()) {
                        return;
                    }
                    continue;
                }
                group.add(first);
                pending.drainTo(group, MAX_GROUP - 1);
                try (WriteBatch batch = new WriteBatch()) {
                    writer.begin(batch);
                    for (StoreOp op : group) {
                        op.prepare(writer);
                    }
                    db.write(writeOptions, batch);
                }
                for (StoreOp op : group) {
                    try {
                        op.applied();
                    } catch (RuntimeException e) {
                        LOG.error("Store callback failed", e);
                    }
                }
            } catch (InterruptedException e) {
                return;
            } catch (RocksDBException | RuntimeException e) {
                // A write that fails must not be acknowledged: the operations' callbacks never run, and their
                // clients time out and resend. Log loudly; a failing disk needs an operator.
                LOG.error("Store write of {} operations failed; they were not acknowledged", group.size(), e);
            } finally {
                group.clear();
            }
        }
    }

    private void syncWal() {
        try {
            db.flushWal(true);
        } catch (RocksDBException e) {
            LOG.error("Syncing the store's write-ahead log failed", e);
        }
    }

    /** Fills one write batch; remembers this batch's queue writes so a session deletion sees them too. */
    private final class Writer implements StoreWriter {
        private WriteBatch batch;
        /** Queue keys written in this batch: message id, or -1 for deleted. */
        private final Map<ByteBuffer, Long> batchQueue = new HashMap<>();
        /** Queue entries put in this batch, for deleteFirstQueueEntry. */
        private final Map<ByteBuffer, QueueEntry> pendingEntries = new HashMap<>();
        /** Session records put in this batch, so that deleteSession compares epochs with the newest. */
        private final Map<String, SessionRecord> batchSessions = new HashMap<>();

        void begin(WriteBatch b) {
            batch = b;
            batchQueue.clear();
            pendingEntries.clear();
            batchSessions.clear();
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
                batch.merge(references, StoreCodec.id(id), uint64(delta));
            } catch (RocksDBException e) {
                throw new StoreException("write batch: " + e.getMessage(), e);
            }
        }

        @Override
        public long newMessageId() {
            return ++lastMessageId;
        }

        @Override
        public void putMessage(long id, Message message, int refs) {
            put(messages, StoreCodec.id(id), StoreCodec.message(message));
            addReferences(id, refs);
        }

        @Override
        public void releaseMessage(long id, int refs) {
            addReferences(id, -refs);
        }

        @Override
        public void putSession(SessionRecord session) {
            put(sessions, StoreCodec.utf8(session.clientId()), StoreCodec.session(session));
            batchSessions.put(session.clientId(), session);
        }

        @Override
        public void deleteSession(String clientId, String owner) {
            try {
                SessionRecord newest = batchSessions.get(clientId);
                if (newest == null && !batchSessions.containsKey(clientId)) {
                    byte[] stored = db.get(sessions, StoreCodec.utf8(clientId));
                    newest = stored == null ? null : StoreCodec.session(clientId, stored);
                }
                // only this incarnation's record: a new session of the same client may have written its own
                if (newest != null && StoreOwner.of(clientId, newest.epoch()).equals(owner)) {
                    delete(sessions, StoreCodec.utf8(clientId));
                    batchSessions.put(clientId, null);
                }
            } catch (RocksDBException e) {
                throw new StoreException("read session " + clientId + ": " + e.getMessage(), e);
            }
            new PurgeOwner(owner).prepare(this);
        }

        private void deletePrefix(ColumnFamilyHandle cf, byte[] prefix) {
            try (RocksIterator it = db.newIterator(cf)) {
                for (it.seek(prefix); it.isValid() && startsWith(it.key(), prefix); it.next()) {
                    delete(cf, it.key());
                }
            }
        }

        @Override
        public void putSubscription(String owner, Subscription s) {
            put(subscriptions, StoreCodec.key(owner, s.filter()), StoreCodec.subscription(s));
        }

        @Override
        public void deleteSubscription(String owner, String filter) {
            delete(subscriptions, StoreCodec.key(owner, filter));
        }

        @Override
        public void putQueueEntry(String owner, QueueEntry entry) {
            byte[] k = StoreCodec.key(owner, entry.seq());
            put(queues, k, StoreCodec.entry(entry));
            batchQueue.put(ByteBuffer.wrap(k), entry.messageId());
            pendingEntries.put(ByteBuffer.wrap(k), entry);
        }

        @Override
        public void markReleased(String owner, long seq) {
            byte[] k = StoreCodec.key(owner, seq);
            try {
                byte[] v = db.get(queues, k);
                if (v != null) {
                    put(queues, k, StoreCodec.entry(StoreCodec.entry(seq, v).asReleased()));
                }
            } catch (RocksDBException e) {
                throw new StoreException("read queue entry: " + e.getMessage(), e);
            }
        }

        @Override
        public void deleteQueueEntry(String owner, long seq, long messageId) {
            byte[] k = StoreCodec.key(owner, seq);
            delete(queues, k);
            releaseMessage(messageId, 1);
            batchQueue.put(ByteBuffer.wrap(k), -1L);
        }

        @Override
        public QueueEntry deleteFirstQueueEntry(String owner, long fromSeq) {
            byte[] prefix = StoreCodec.prefix(owner);
            // the oldest stored entry not touched by this batch, and the oldest this batch put: whichever is first
            QueueEntry first = null;
            try (RocksIterator it = db.newIterator(queues)) {
                for (it.seek(StoreCodec.key(owner, fromSeq)); it.isValid() && startsWith(it.key(), prefix);
                     it.next()) {
                    if (!batchQueue.containsKey(ByteBuffer.wrap(it.key()))) {
                        first = StoreCodec.entry(StoreCodec.seqOf(it.key()), it.value());
                        break;
                    }
                }
            }
            for (Map.Entry<ByteBuffer, QueueEntry> e : pendingEntries.entrySet()) {
                QueueEntry q = e.getValue();
                if (startsWith(e.getKey().array(), prefix) && q.seq() >= fromSeq && batchQueue.get(e.getKey()) >= 0
                        && (first == null || q.seq() < first.seq())) {
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
            put(inbound, StoreCodec.key(owner, packetId), new byte[0]);
        }

        @Override
        public void deleteInboundQos2(String owner, int packetId) {
            delete(inbound, StoreCodec.key(owner, packetId));
        }

        @Override
        public void putRetained(Message message) {
            put(retained, StoreCodec.utf8(message.topic()), StoreCodec.message(message));
        }

        @Override
        public void deleteRetained(String topic) {
            delete(retained, StoreCodec.utf8(topic));
        }

        @Override
        public void putHeld(String group, long seq, long messageId) {
            put(held, StoreCodec.key(group, seq), StoreCodec.id(messageId));
        }

        @Override
        public void deleteHeld(String group, long seq, long messageId) {
            delete(held, StoreCodec.key(group, seq));
            releaseMessage(messageId, 1);
        }
    }

    /** Deletes messages whose reference count reached zero, one slice per run, resuming where the last stopped. */
    private final class CollectGarbage implements StoreOp {
        @Override
        public void prepare(StoreWriter w) {
            Writer writer = (Writer) w;
            int seen = 0;
            try (RocksIterator it = db.newIterator(references)) {
                if (gcCursor == null) {
                    it.seekToFirst();
                } else {
                    it.seek(gcCursor);
                }
                for (; it.isValid() && seen < GC_SLICE; it.next(), seen++) {
                    if (uint64(it.value()) <= 0) {
                        writer.delete(messages, it.key());
                        writer.delete(references, it.key());
                    }
                }
                gcCursor = it.isValid() ? it.key() : null;
            }
        }
    }

    /**
     * Deletes what an ended session left (subscriptions, inbound ids, queue entries, releasing their messages), a
     * bounded slice per operation, queueing the next slice behind other writes until nothing is left.
     */
    private final class PurgeOwner implements StoreOp {
        private static final int SLICE = 2000;
        private final String owner;

        PurgeOwner(String owner) {
            this.owner = owner;
        }

        @Override
        public void prepare(StoreWriter w) {
            Writer writer = (Writer) w;
            byte[] prefix = StoreCodec.prefix(owner);
            int budget = SLICE;
            for (ColumnFamilyHandle cf : List.of(subscriptions, inbound, queues)) {
                try (RocksIterator it = db.newIterator(cf)) {
                    for (it.seek(prefix); it.isValid() && startsWith(it.key(), prefix) && budget > 0; it.next()) {
                        if (cf == queues) {
                            if (writer.batchQueue.containsKey(ByteBuffer.wrap(it.key()))) {
                                continue; // already deleted in this batch
                            }
                            writer.deleteQueueEntry(owner, StoreCodec.seqOf(it.key()),
                                    StoreCodec.entry(0, it.value()).messageId());
                        } else {
                            writer.delete(cf, it.key());
                        }
                        budget--;
                    }
                }
            }
            if (budget == 0) {
                pending.add(new PurgeOwner(owner)); // more left: continue behind whatever is waiting
            }
        }
    }

    // ------------------------------------------------------------------ reading

    @Override
    public Recovered recover() {
        Recovered r = new Recovered();
        Map<String, List<Subscription>> subs = new HashMap<>();
        java.util.Set<String> owners = new java.util.HashSet<>();
        forEach(subscriptions, (k, v) -> {
            try {
                String owner = StoreCodec.storeOwner(k);
                owners.add(owner);
                subs.computeIfAbsent(owner, x -> new ArrayList<>()).add(StoreCodec.subscription(v));
            } catch (RuntimeException e) {
                r.dropped.add("subscription " + printable(k) + ": " + e.getMessage());
            }
        });
        Map<String, List<Integer>> inboundIds = new HashMap<>();
        forEach(inbound, (k, v) -> {
            String owner = StoreCodec.storeOwner(k);
            owners.add(owner);
            inboundIds.computeIfAbsent(owner, x -> new ArrayList<>()).add(StoreCodec.packetIdOf(k));
        });
        Map<String, long[]> queueSummary = new HashMap<>();
        forEach(queues, (k, v) -> {
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
                r.dropped.add("queue entry " + printable(k) + ": " + e.getMessage());
            }
        });
        forEach(sessions, (k, v) -> {
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
            submit(new PurgeOwner(owner));
        }
        r.leftoverOwners = owners.size();
        forEach(retained, (k, v) -> {
            try {
                r.retained.add(StoreCodec.message(v));
            } catch (RuntimeException e) {
                r.dropped.add("retained message on " + StoreCodec.string(k) + ": " + e.getMessage());
            }
        });
        forEach(held, (k, v) -> {
            long messageId = StoreCodec.id(v);
            Message m = readMessage(messageId);
            if (m == null) {
                r.dropped.add("held message " + messageId + " of group " + printable(k) + ": message missing");
            } else {
                r.held.add(new Recovered.HeldMessage(StoreCodec.owner(k), StoreCodec.seqOf(k), messageId, m));
            }
        });
        return r;
    }

    @Override
    public void readQueue(String owner, long fromSeq, int max, Consumer<List<StoredEntry>> callback) {
        reader.execute(() -> {
            List<StoredEntry> out = new ArrayList<>();
            byte[] prefix = StoreCodec.prefix(owner);
            try (ReadOptions ro = new ReadOptions(); RocksIterator it = db.newIterator(queues, ro)) {
                for (it.seek(StoreCodec.key(owner, fromSeq)); it.isValid() && out.size() < max
                        && startsWith(it.key(), prefix); it.next()) {
                    QueueEntry e = StoreCodec.entry(StoreCodec.seqOf(it.key()), it.value());
                    Message m = readMessage(e.messageId());
                    if (m == null) {
                        LOG.error("Queue entry {} of '{}' refers to missing message {}; skipped", e.seq(),
                                printable(StoreCodec.utf8(owner)), e.messageId());
                        continue;
                    }
                    out.add(new StoredEntry(e, m));
                }
            } catch (RuntimeException e) {
                LOG.error("Reading the queue of '{}' failed", printable(StoreCodec.utf8(owner)), e);
            }
            callback.accept(out);
        });
    }

    private Message readMessage(long id) {
        try {
            byte[] v = db.get(messages, StoreCodec.id(id));
            return v == null ? null : StoreCodec.message(v);
        } catch (RocksDBException e) {
            throw new StoreException("read message " + id + ": " + e.getMessage(), e);
        }
    }

    private interface KeyValueVisitor {
        void visit(byte[] key, byte[] value);
    }

    private void forEach(ColumnFamilyHandle cf, KeyValueVisitor visitor) {
        try (RocksIterator it = db.newIterator(cf)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                visitor.visit(it.key(), it.value());
            }
        }
    }

    private long lastKeyAsLong(ColumnFamilyHandle cf) {
        try (RocksIterator it = db.newIterator(cf)) {
            it.seekToLast();
            return it.isValid() ? StoreCodec.id(it.key()) : 0;
        }
    }

    @Override
    public boolean persistent() {
        return true;
    }

    /** For tests: how many messages are stored (each once, however many queues reference it). */
    public long messageCount() {
        long[] n = new long[1];
        forEach(messages, (k, v) -> n[0]++);
        return n[0];
    }

    /** Runs one garbage collection pass over every reference count now, for tests. */
    public void collectGarbageNow() {
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        StoreOp gc = new CollectGarbage();
        gcCursor = null;
        submit(new StoreOp() {
            @Override
            public void prepare(StoreWriter w) {
                gcCursor = null;
                do {
                    gc.prepare(w);
                } while (gcCursor != null);
            }

            @Override
            public void applied() {
                done.countDown();
            }
        });
        try {
            done.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        housekeeping.shutdownNow();
        try {
            writerThread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        reader.shutdown();
        try {
            reader.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            db.flushWal(true);
        } catch (RocksDBException e) {
            LOG.warn("Final sync of the store failed", e);
        }
        for (ColumnFamilyHandle h : handles) {
            h.close();
        }
        db.close();
        writeOptions.close();
        closeOptions();
        LOG.info("Store {} closed", directory);
    }

    private void closeOptions() {
        dbOptions.close();
        cfOptions.forEach(ColumnFamilyOptions::close);
    }

    // ------------------------------------------------------------------ helpers

    private static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }

    /** UInt64AddOperator's operand: a little-endian 64-bit integer (negative deltas wrap, which adds correctly). */
    private static byte[] uint64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    private static long uint64(byte[] v) {
        return ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private static String printable(byte[] key) {
        return new String(key, java.nio.charset.StandardCharsets.UTF_8).replace('\0', '/');
    }
}
