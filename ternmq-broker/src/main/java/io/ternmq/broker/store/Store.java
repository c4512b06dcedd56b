package io.ternmq.broker.store;

import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * Where persistent sessions, their queues and in-flight state, inbound QoS 2 state, retained messages and shared
 * groups' held messages live. {@link RocksStore} keeps them on disk; {@link MemoryStore} in memory (nothing survives
 * a restart). Both honour the same contract, which {@code StoreContractTest} checks.
 *
 * <p>All writes go through {@link #submit} as {@link StoreOp}s, run in one order; {@link StoreOp#applied} runs, in
 * that order, once the writes are durable. This single order is what lets the broker number queue entries and hand
 * them to sessions in the order they were stored.
 */
public interface Store extends AutoCloseable {

    void submit(StoreOp op);

    /** Reads everything back; called once, before any client connects. */
    Recovered recover();

    /**
     * Reads a session's queue entries (by its {@link StoreOwner}) with {@code seq >= fromSeq}, at most {@code max}, in order, with their
     * messages, and hands them to {@code callback} (on a store thread, or at once for a memory store).
     */
    void readQueue(String storeOwner, long fromSeq, int max, Consumer<List<StoredEntry>> callback);

    /** Whether what it holds survives a restart. */
    boolean survivesRestart();

    /**
     * Tells {@code nanos} how long each sync to disk took, on the thread that synced (once per group of writes, never
     * per message), besides the observers added before. A store that never syncs never calls it.
     */
    default void observeSyncs(LongConsumer nanos) {
    }

    /**
     * From now on, also copies every group's session writes to {@code mirror} and acknowledges a group only once the
     * copy is held too ({@link StoreMirror}); null stops copying (the cluster is leaving). Set before clients
     * connect; a single node never sets one.
     */
    void mirrorTo(StoreMirror mirror);

    @Override
    void close();
}
