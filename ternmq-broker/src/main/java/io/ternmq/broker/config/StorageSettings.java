package io.ternmq.broker.config;


import java.nio.file.Path;

/**
 * Where the broker keeps persistent sessions, their queues, in-flight state and retained messages, and when a write
 * counts as stored.
 *
 * @param dataDir            where the broker keeps its data
 * @param type               on disk (RocksDB under {@code dataDir}) or in memory
 * @param durability         when a write counts as stored: fsync (synced before acknowledging), periodic, or none
 * @param syncIntervalMillis with durability periodic: how often the write-ahead log is synced
 */
public record StorageSettings(Path dataDir, Type type, Durability durability, int syncIntervalMillis) {

    /** {@code storage.type}. */
    public enum Type {
        /** An embedded RocksDB database under the data directory: survives restarts and crashes. */
        ROCKSDB,
        /** Nothing survives a restart. */
        MEMORY
    }
}
