package io.ternmq.broker.store;

import io.ternmq.broker.config.Durability;
import org.rocksdb.RocksDBException;

import java.nio.file.Path;

/**
 * For tests: a RocksDB store with {@code fsync} durability whose syncs wait while this gate is shut. Writes go on
 * (readable at once); what waits for their sync (acknowledgements, a stored queue's durable notices) waits.
 */
public final class SyncGate implements AutoCloseable {
    private boolean shut;
    private int syncsStarted;

    /** A store in {@code dir} whose syncs pass this gate. */
    public RocksStore open(Path dir) {
        return new RocksStore(dir, Durability.FSYNC, 100, this::pass);
    }

    public synchronized void shut() {
        shut = true;
    }

    public synchronized void open() {
        shut = false;
        notifyAll();
    }

    /** Opens the gate. */
    @Override
    public void close() {
        open();
    }

    /** Syncs started so far: one more means the writer wrote a group and asked for its sync. */
    public synchronized int syncsStarted() {
        return syncsStarted;
    }

    private synchronized void pass() throws RocksDBException {
        syncsStarted++;
        while (shut) {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RocksDBException("interrupted while the sync gate was shut");
            }
        }
    }
}
