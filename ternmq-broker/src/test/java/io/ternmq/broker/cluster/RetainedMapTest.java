package io.ternmq.broker.cluster;

import com.hazelcast.map.ExtendedMapEntry;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The versions of the cluster's retained map: each change of a topic gets a higher version than the one before, on
 * the owner and, replayed, identically on a backup; a clear leaves a tombstone that expires; a restored message is
 * kept only where the map knows nothing of the topic.
 */
class RetainedMapTest {

    /** One map entry, as an entry processor sees it. */
    private static final class Entry implements ExtendedMapEntry<String, byte[]> {
        byte[] value;
        long ttlMillis = -1;

        @Override
        public String getKey() {
            return "t";
        }

        @Override
        public byte[] getValue() {
            return value;
        }

        @Override
        public byte[] setValue(byte[] v) {
            byte[] old = value;
            value = v;
            ttlMillis = -1;
            return old;
        }

        @Override
        public byte[] setValue(byte[] v, long ttl, TimeUnit unit) {
            byte[] old = setValue(v);
            ttlMillis = unit.toMillis(ttl);
            return old;
        }

        @Override
        public byte[] setValueWithoutChangingExpiryTime(byte[] v) {
            byte[] old = value;
            value = v;
            return old;
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    @DisplayName("versions of a topic only grow, even when a writer's clock is behind; a backup replaying the same "
            + "changes ends with the same value")
    void versionsGrow() {
        Entry owner = new Entry();
        Entry backup = new Entry();
        RetainedMap.Set[] changes = {new RetainedMap.Set(bytes("a"), RetainedMap.stamp(1_000)),
                new RetainedMap.Set(bytes("b"), RetainedMap.stamp(900)), // a writer whose clock is behind
                new RetainedMap.Set(bytes("c"), RetainedMap.stamp(2_000))};
        long[] versions = new long[changes.length];
        for (int i = 0; i < changes.length; i++) {
            versions[i] = changes[i].process(owner);
            assertThat(changes[i].process(backup)).isEqualTo(versions[i]);
        }
        assertThat(versions[1]).as("the writer behind gets the previous version + 1")
                .isEqualTo(versions[0] + 1);
        assertThat(versions[2]).isGreaterThan(versions[1]);
        assertThat(RetainedMap.version(owner.value)).isEqualTo(RetainedMap.stamp(2_000));
        assertThat(RetainedMap.message(owner.value)).isEqualTo(bytes("c"));
        assertThat(backup.value).isEqualTo(owner.value);
    }

    @Test
    @DisplayName("a clear leaves a tombstone with a higher version and a time to live; a set after it wins again")
    void clearLeavesATombstone() {
        Entry e = new Entry();
        long set = new RetainedMap.Set(bytes("a"), RetainedMap.stamp(1_000)).process(e);
        long cleared = new RetainedMap.Set(null, RetainedMap.stamp(1_000)).process(e);
        assertThat(cleared).isGreaterThan(set);
        assertThat(RetainedMap.message(e.value)).as("a tombstone").isNull();
        assertThat(e.ttlMillis).isEqualTo(TimeUnit.MINUTES.toMillis(RetainedMap.TOMBSTONE_MINUTES));
        long again = new RetainedMap.Set(bytes("b"), RetainedMap.stamp(1_000)).process(e);
        assertThat(again).isGreaterThan(cleared);
        assertThat(e.ttlMillis).as("a message does not expire").isEqualTo(-1);
    }

    @Test
    @DisplayName("a restored message is offered: kept only where the topic has neither a value nor a tombstone")
    void offerKeepsWhatTheMapKnows() {
        Entry empty = new Entry();
        assertThat(new RetainedMap.Offer(bytes("old"), 5).process(empty)).isEqualTo(5);
        assertThat(RetainedMap.message(empty.value)).isEqualTo(bytes("old"));

        Entry tombstone = new Entry();
        long cleared = new RetainedMap.Set(null, RetainedMap.stamp(1_000)).process(tombstone);
        assertThat(new RetainedMap.Offer(bytes("old"), 5).process(tombstone)).isEqualTo(cleared);
        assertThat(RetainedMap.message(tombstone.value)).isNull();
    }
}
