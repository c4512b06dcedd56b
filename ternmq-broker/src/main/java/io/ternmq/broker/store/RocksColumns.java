package io.ternmq.broker.store;

import io.ternmq.broker.message.Message;
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

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The RocksDB database of a {@link RocksStore} and its column families (one per kind of record), opened and closed
 * together, with the byte helpers every part of the store shares. Keys are laid out by {@link StoreCodec}.
 */
final class RocksColumns implements AutoCloseable {
    final Path directory;
    final RocksDB db;
    private final DBOptions dbOptions;
    private final List<ColumnFamilyOptions> cfOptions = new ArrayList<>();
    private final List<ColumnFamilyHandle> handles = new ArrayList<>();
    final ColumnFamilyHandle sessions;
    final ColumnFamilyHandle subscriptions;
    final ColumnFamilyHandle queues;
    final ColumnFamilyHandle inbound;
    final ColumnFamilyHandle messages;
    /** Reference counts of messages, changed by a merge operator that adds. */
    final ColumnFamilyHandle references;
    final ColumnFamilyHandle retained;
    final ColumnFamilyHandle held;
    /** Delayed messages by id: the due time (8 bytes), then the message. */
    final ColumnFamilyHandle delayed;

    /**
     * Opens (creating if needed) the database in {@code directory}.
     *
     * @throws StoreException naming the directory and the problem, e.g. corruption
     */
    RocksColumns(Path directory) {
        this.directory = directory;
        try {
            Files.createDirectories(directory);
        } catch (java.io.IOException e) {
            throw new StoreException("cannot create " + directory + ": " + e.getMessage(), e);
        }
        RocksLibrary.load(directory.resolveSibling("native"));
        dbOptions = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true)
                .setParanoidChecks(true).setMaxTotalWalSize(256L * 1024 * 1024).setKeepLogFileNum(3);
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        for (String name : List.of("default", "sessions", "subscriptions", "queues", "inbound", "messages",
                "references", "retained", "held", "delayed")) {
            ColumnFamilyOptions o = new ColumnFamilyOptions().setCompressionType(CompressionType.LZ4_COMPRESSION);
            if (name.equals("references")) {
                o.setMergeOperator(new UInt64AddOperator());
            }
            cfOptions.add(o);
            descriptors.add(new ColumnFamilyDescriptor(name.getBytes(StandardCharsets.UTF_8), o));
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
        delayed = handles.get(9);
    }

    /** @return the stored message, or null if it is gone */
    Message readMessage(long id) {
        try {
            byte[] v = db.get(messages, StoreCodec.id(id));
            return v == null ? null : StoreCodec.message(v);
        } catch (RocksDBException e) {
            throw new StoreException("read message " + id + ": " + e.getMessage(), e);
        }
    }

    /** @return the message as {@code options} see the store (a snapshot), or null if it is gone there */
    Message readMessage(long id, ReadOptions options) {
        try {
            byte[] v = db.get(messages, options, StoreCodec.id(id));
            return v == null ? null : StoreCodec.message(v);
        } catch (RocksDBException e) {
            throw new StoreException("read message " + id + ": " + e.getMessage(), e);
        }
    }

    interface KeyValueVisitor {
        void visit(byte[] key, byte[] value);
    }

    void forEach(ColumnFamilyHandle cf, KeyValueVisitor visitor) {
        try (RocksIterator it = db.newIterator(cf)) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                visitor.visit(it.key(), it.value());
            }
        }
    }

    long lastKeyAsLong(ColumnFamilyHandle cf) {
        try (RocksIterator it = db.newIterator(cf)) {
            it.seekToLast();
            return it.isValid() ? StoreCodec.id(it.key()) : 0;
        }
    }

    @Override
    public void close() {
        for (ColumnFamilyHandle h : handles) {
            h.close();
        }
        db.close();
        closeOptions();
    }

    private void closeOptions() {
        dbOptions.close();
        cfOptions.forEach(ColumnFamilyOptions::close);
    }

    static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }

    /** UInt64AddOperator's operand: a little-endian 64-bit integer (negative deltas wrap, which adds correctly). */
    static byte[] uint64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    static long uint64(byte[] v) {
        return ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** A key for logs: NUL separators shown as '/'. */
    static String printable(byte[] key) {
        return new String(key, StandardCharsets.UTF_8).replace('\0', '/');
    }
}
