package io.ternmq.broker.store;

import io.ternmq.broker.config.Durability;
import io.ternmq.broker.message.Message;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * The default store: an embedded RocksDB under {@code data_dir/store} ({@link RocksColumns}). One writer thread takes
 * every {@link StoreOp} in submission order, collects all that are waiting into one write batch
 * ({@link RocksBatchWriter}), writes it once, and runs their {@link StoreOp#applied} callbacks in order once the write
 * is as durable as configured. In {@code fsync} mode the sync is pipelined: a syncer thread syncs the write-ahead
 * log for every group written so far while the writer goes on preparing and writing the next ones, and tells the
 * writer which groups are synced (one sync for many groups, whichever connections their operations came from); so
 * a group waits for at most one sync already under way, and the writer's work overlaps the disk's. Reads of
 * queues for sessions coming back online run on a separate reader thread. Messages are stored once with a reference
 * count (a merge operator adds and subtracts); a background pass reclaims the ones nobody references, a bounded slice
 * at a time.
 */
public final class RocksStore implements Store {
    private static final Logger LOG = LoggerFactory.getLogger(RocksStore.class);
    private static final int MAX_GROUP = 4096;

    private final RocksColumns columns;
    /** Writes of the pipelined path: never synced by the write itself (the syncer syncs them in fsync mode). */
    private final WriteOptions writeOptions;
    /** Writes of a cluster's mirrored groups: synced by the write itself in fsync mode. */
    private final WriteOptions mirroredWriteOptions;
    /** fsync durability: no group's callbacks run before the write-ahead log holding it is synced. */
    private final boolean syncsEachWrite;
    /** Groups written and waiting for their sync, oldest first (writer thread only). */
    private final ArrayDeque<WrittenGroup> awaitingSync = new ArrayDeque<>();
    private long groupsWritten;
    /** Written groups the syncer is asked to sync, by number; the syncer takes them all at once. */
    private final LinkedBlockingQueue<Long> syncRequests = new LinkedBlockingQueue<>();
    private final Thread syncerThread;
    private volatile LongConsumer syncObserver = nanos -> { };
    /** How the pipelined path syncs the write-ahead log (a test holds it, to see what waits for it). */
    private final WalSync walSync;
    private final RocksBatchWriter writer;
    private final LinkedBlockingQueue<StoreOp> pending = new LinkedBlockingQueue<>();
    private final Thread writerThread;
    private final ExecutorService reader;
    private final ScheduledExecutorService housekeeping;
    private volatile boolean closing;
    /** The cluster's copy of session writes; null on a single node. */
    private volatile StoreMirror mirror;

    /**
     * Opens (creating if needed) the store in {@code directory}.
     *
     * @throws StoreException naming the directory and the problem, e.g. corruption
     */
    public RocksStore(Path directory, Durability durability, long syncIntervalMillis) {
        this(directory, durability, syncIntervalMillis, null);
    }

    /** Syncs the write-ahead log. */
    @FunctionalInterface
    interface WalSync {
        void sync() throws RocksDBException;
    }

    /** @param walSync how the pipelined path syncs (null: RocksDB's {@code flushWal(true)}) */
    RocksStore(Path directory, Durability durability, long syncIntervalMillis, WalSync walSync) {
        columns = new RocksColumns(directory);
        this.walSync = walSync != null ? walSync : () -> columns.db.flushWal(true);
        writeOptions = new WriteOptions();
        mirroredWriteOptions = new WriteOptions().setSync(durability == Durability.FSYNC);
        syncsEachWrite = durability == Durability.FSYNC;
        writer = new RocksBatchWriter(columns, pending::add);
        writerThread = new Thread(this::writeLoop, "ternmq-store-writer");
        writerThread.setDaemon(true);
        writerThread.start();
        if (syncsEachWrite) {
            syncerThread = new Thread(this::syncLoop, "ternmq-store-syncer");
            syncerThread.setDaemon(true);
            syncerThread.start();
        } else {
            syncerThread = null;
        }
        reader = Executors.newSingleThreadExecutor(r -> daemon(r, "ternmq-store-reader"));
        housekeeping = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "ternmq-store-housekeeping"));
        housekeeping.scheduleWithFixedDelay(() -> submit(writer.new CollectGarbage()), 1, 1, TimeUnit.SECONDS);
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

    /** Groups written, up to and including this number, are synced: the syncer's word to the writer. */
    private record Synced(long upTo) implements StoreOp {
        @Override
        public void prepare(StoreWriter writer) {
            throw new IllegalStateException("not an operation");
        }
    }

    /** A group written and waiting for its sync. */
    private record WrittenGroup(long number, List<StoreOp> ops) {
    }

    private void writeLoop() {
        List<StoreOp> group = new ArrayList<>(MAX_GROUP);
        while (true) {
            try {
                StoreOp first = pending.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    if (closing && pending.isEmpty() && awaitingSync.isEmpty()) {
                        return;
                    }
                    continue;
                }
                group.add(first);
                pending.drainTo(group, MAX_GROUP - 1);
                long synced = takeSyncNotices(group);
                if (synced > 0) {
                    applySynced(synced); // earlier groups: their callbacks first
                }
                if (!group.isEmpty()) {
                    StoreMirror m = mirror;
                    if (m != null) {
                        syncAwaitingNow(); // a mirrored group's callbacks must not overtake earlier groups'
                        writeMirrored(group, m);
                    } else {
                        writeGroup(group);
                    }
                }
            } catch (InterruptedException e) {
                return;
            } catch (RocksDBException | RuntimeException e) {
                // A write that fails must not be acknowledged: the operations' callbacks never run, and their
                // clients time out and resend. Log loudly; a failing disk needs an operator.
                LOG.error("Store write of {} operations failed; they were not acknowledged", group.size(), e);
                writer.failed();
            } finally {
                group.clear();
            }
        }
    }

    /** Removes the syncer's notices from {@code group}: the highest group number they say is synced, or 0. */
    private static long takeSyncNotices(List<StoreOp> group) {
        long synced = 0;
        for (int i = group.size() - 1; i >= 0; i--) {
            if (group.get(i) instanceof Synced s) {
                synced = Math.max(synced, s.upTo());
                group.remove(i);
            }
        }
        return synced;
    }

    private void writeGroup(List<StoreOp> group) throws RocksDBException {
        try (WriteBatch batch = new WriteBatch()) {
            writer.begin(batch);
            for (StoreOp op : group) {
                op.prepare(writer);
            }
            columns.db.write(writeOptions, batch);
        }
        if (syncsEachWrite) {
            long number = ++groupsWritten;
            awaitingSync.add(new WrittenGroup(number, List.copyOf(group)));
            syncRequests.add(number);
        } else {
            applied(group);
        }
    }

    private void applySynced(long upTo) {
        while (!awaitingSync.isEmpty() && awaitingSync.peek().number() <= upTo) {
            applied(awaitingSync.poll().ops());
        }
    }

    /** Syncs here and now what was written and not yet synced, and runs its callbacks (the writer thread). */
    private void syncAwaitingNow() throws RocksDBException {
        if (!awaitingSync.isEmpty()) {
            walSync.sync();
            applySynced(groupsWritten);
        }
    }

    /**
     * The syncer: syncs the write-ahead log for every group written when it starts (one sync for all that asked
     * meanwhile) and tells the writer. A sync that fails tells nothing: those groups are acknowledged only if a
     * later sync succeeds, which makes them durable too.
     */
    private void syncLoop() {
        List<Long> asked = new ArrayList<>();
        while (true) {
            try {
                asked.add(syncRequests.take());
                syncRequests.drainTo(asked);
                long upTo = asked.get(asked.size() - 1); // asked in the order written
                asked.clear();
                long t0 = System.nanoTime();
                walSync.sync();
                syncObserver.accept(System.nanoTime() - t0);
                pending.add(new Synced(upTo));
            } catch (InterruptedException e) {
                return;
            } catch (RocksDBException | RuntimeException e) {
                LOG.error("Syncing the store's write-ahead log failed; what it held is not acknowledged", e);
            }
        }
    }

    /** A mirrored group's local write: in fsync mode the write syncs itself (the syncer serves single-node groups). */
    private void writeMirroredBatch(WriteBatch batch) throws RocksDBException {
        if (syncsEachWrite) {
            long t0 = System.nanoTime();
            columns.db.write(mirroredWriteOptions, batch);
            syncObserver.accept(System.nanoTime() - t0);
        } else {
            columns.db.write(mirroredWriteOptions, batch);
        }
    }

    private static void applied(List<StoreOp> group) {
        for (StoreOp op : group) {
            try {
                op.applied();
            } catch (RuntimeException e) {
                LOG.error("Store callback failed", e);
            }
        }
    }

    /**
     * A group in a cluster: its session writes go to the mirror before the local write (the two overlap), and its
     * callbacks run once both are done, in group order.
     */
    private void writeMirrored(List<StoreOp> group, StoreMirror m) throws RocksDBException {
        StoreMirror.Copy copy;
        try (WriteBatch batch = new WriteBatch()) {
            writer.begin(batch);
            MirroringWriter tee = new MirroringWriter(writer);
            for (StoreOp op : group) {
                op.prepare(tee);
            }
            copy = m.copy(tee.finish(), tee.publishers());
            try {
                writeMirroredBatch(batch);
            } catch (RocksDBException | RuntimeException e) {
                copy.then(null);
                throw e;
            }
        }
        List<StoreOp> done = List.copyOf(group);
        copy.then(() -> applied(done));
    }

    @Override
    public void mirrorTo(StoreMirror mirror) {
        this.mirror = mirror;
    }

    @Override
    public synchronized void observeSyncs(LongConsumer nanos) {
        syncObserver = syncObserver.andThen(nanos); // called at start only: Prometheus, the admin's history
    }

    private void syncWal() {
        try {
            long t0 = System.nanoTime();
            columns.db.flushWal(true);
            syncObserver.accept(System.nanoTime() - t0);
        } catch (RocksDBException e) {
            LOG.error("Syncing the store's write-ahead log failed", e);
        }
    }

    // ------------------------------------------------------------------ reading

    @Override
    public Recovered recover() {
        // what ended sessions left (a purge cut short by a crash) is purged in the background
        return new RocksRecovery(columns).read(owner -> submit(writer.new PurgeOwner(owner)));
    }

    @Override
    public void readQueue(String owner, long fromSeq, int max, Consumer<List<StoredEntry>> callback) {
        reader.execute(() -> {
            List<StoredEntry> out = new ArrayList<>();
            byte[] prefix = StoreCodec.prefix(owner);
            // one snapshot for the entries and their messages: an entry acknowledged meanwhile may have had its
            // message deleted at once (see RocksBatchWriter), and must not read as one whose message is missing
            Snapshot snapshot = columns.db.getSnapshot();
            try (ReadOptions ro = new ReadOptions().setSnapshot(snapshot);
                 RocksIterator it = columns.db.newIterator(columns.queues, ro)) {
                for (it.seek(StoreCodec.key(owner, fromSeq)); it.isValid() && out.size() < max
                        && RocksColumns.startsWith(it.key(), prefix); it.next()) {
                    QueueEntry e = StoreCodec.entry(StoreCodec.seqOf(it.key()), it.value());
                    Message m = columns.readMessage(e.messageId(), ro);
                    if (m == null) {
                        LOG.error("Queue entry {} of '{}' refers to missing message {}; skipped", e.seq(),
                                RocksColumns.printable(StoreCodec.utf8(owner)), e.messageId());
                        continue;
                    }
                    out.add(new StoredEntry(e, m));
                }
            } catch (RuntimeException e) {
                LOG.error("Reading the queue of '{}' failed", RocksColumns.printable(StoreCodec.utf8(owner)), e);
            } finally {
                columns.db.releaseSnapshot(snapshot);
            }
            callback.accept(out);
        });
    }

    @Override
    public boolean survivesRestart() {
        return true;
    }

    /** For tests: how many messages are stored (each once, however many queues reference it). */
    public long messageCount() {
        long[] n = new long[1];
        columns.forEach(columns.messages, (k, v) -> n[0]++);
        return n[0];
    }

    /** Runs one garbage collection pass over every reference count now, for tests. */
    public void collectGarbageNow() {
        CountDownLatch done = new CountDownLatch(1);
        StoreOp gc = writer.new CollectGarbage();
        submit(new StoreOp() {
            @Override
            public void prepare(StoreWriter w) {
                writer.restartGarbageCollection();
                do {
                    gc.prepare(w);
                } while (!writer.garbageCollectionDone());
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
            writerThread.join(10_000); // it ends once every group it wrote is synced and applied
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (syncerThread != null) {
            syncerThread.interrupt();
        }
        reader.shutdown();
        try {
            reader.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            columns.db.flushWal(true);
        } catch (RocksDBException e) {
            LOG.warn("Final sync of the store failed", e);
        }
        if (syncerThread != null) {
            try {
                syncerThread.join(5_000); // before the database closes under a sync
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        writeOptions.close();
        mirroredWriteOptions.close();
        columns.close();
        LOG.info("Store {} closed", columns.directory);
    }
}
