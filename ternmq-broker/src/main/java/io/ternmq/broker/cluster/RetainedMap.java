package io.ternmq.broker.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.map.IMap;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * The cluster's retained messages, the replicated truth: topic to a versioned value, a Hazelcast map with
 * {@code cluster.backup_count} synchronous backups. A value is {@code version:long}, then a flag byte (1: the message
 * follows in {@link io.ternmq.broker.message.MessageCodec}'s form; 0: a tombstone, the topic was cleared).
 *
 * <p>Each change is an entry processor on the key's partition owner, which gives it the next version of that topic:
 * {@code max(previous + 1, stamp)}, the stamp being the writer's clock in milliseconds times 1,024. Versions of one
 * topic only grow (the owner serializes its changes, the backups replay them), so "highest version wins", applied by
 * every node to its own index, converges on the map's value whatever order the changes reach the nodes in.
 * Tombstones stay {@link #TOMBSTONE_MINUTES} minutes, so that a change that was in flight when its topic was cleared
 * cannot bring it back; after that a new message on the topic starts again from the clock. The processors are
 * deterministic (the stamp is computed by the caller), as backups replay them.
 */
final class RetainedMap {
    static final String MAP = "ternmq.retained";
    static final long TOMBSTONE_MINUTES = 10;

    private final IMap<String, byte[]> map;

    RetainedMap(HazelcastInstance hazelcast) {
        this.map = hazelcast.getMap(MAP);
    }

    /** A clock reading as a version stamp: the milliseconds, times 1,024 (room for a burst of changes per ms). */
    static long stamp(long millis) {
        return millis << 10;
    }

    /**
     * Sets (message bytes) or clears (null) a topic's retained message.
     *
     * @return the version the change got
     */
    CompletionStage<Long> set(String topic, byte[] message, long stamp) {
        return map.submitToKey(topic, new Set(message, stamp));
    }

    /**
     * A retained message this node restored from its store: kept only if the topic has no value and no tombstone
     * (the cluster knows better otherwise).
     */
    CompletionStage<Long> offer(String topic, byte[] message, long version) {
        return map.submitToKey(topic, new Offer(message, version));
    }

    /** Every value (blocking: only at start, never on an event loop): {@code (topic, value)}. */
    void forEach(BiConsumer<String, byte[]> each) {
        for (Map.Entry<String, byte[]> e : map.entrySet()) {
            each.accept(e.getKey(), e.getValue());
        }
    }

    static long version(byte[] value) {
        return ByteBuffer.wrap(value).getLong(0);
    }

    /** The message bytes of a value, or null for a tombstone. */
    static byte[] message(byte[] value) {
        if (value[8] == 0) {
            return null;
        }
        byte[] m = new byte[value.length - 9];
        System.arraycopy(value, 9, m, 0, m.length);
        return m;
    }

    static byte[] value(long version, byte[] message) {
        ByteBuffer b = ByteBuffer.allocate(9 + (message == null ? 0 : message.length));
        b.putLong(version).put((byte) (message == null ? 0 : 1));
        if (message != null) {
            b.put(message);
        }
        return b.array();
    }

    record Set(byte[] message, long stamp) implements EntryProcessor<String, byte[], Long> {
        @Override
        public Long process(Map.Entry<String, byte[]> e) {
            byte[] old = e.getValue();
            long version = Math.max(old == null ? 0 : version(old) + 1, stamp);
            byte[] value = value(version, message);
            if (message == null) {
                ((ExtendedMapEntry<String, byte[]>) e).setValue(value, TOMBSTONE_MINUTES, TimeUnit.MINUTES);
            } else {
                e.setValue(value);
            }
            return version;
        }
    }

    record Offer(byte[] message, long version) implements EntryProcessor<String, byte[], Long> {
        @Override
        public Long process(Map.Entry<String, byte[]> e) {
            byte[] old = e.getValue();
            if (old != null) {
                return RetainedMap.version(old);
            }
            e.setValue(value(version, message));
            return version;
        }
    }
}
