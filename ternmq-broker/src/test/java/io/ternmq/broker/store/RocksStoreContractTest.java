package io.ternmq.broker.store;

import io.ternmq.broker.config.Durability;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The store contract, for RocksDB (what "survives" is what a reopened store reads from disk). */
class RocksStoreContractTest extends StoreContractTest {
    private Path dir;

    @Override
    protected Store open() {
        try {
            dir = Files.createTempDirectory("ternmq-store-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new RocksStore(dir, Durability.FSYNC, 100);
    }

    @Override
    protected Store reopen() {
        store.close();
        return new RocksStore(dir, Durability.FSYNC, 100);
    }

    @Override
    protected long messageCount() {
        RocksStore rocks = (RocksStore) store;
        rocks.collectGarbageNow();
        return rocks.messageCount();
    }

    @AfterEach
    void deleteDirectory() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    /** Messages in the store now, without a garbage collection pass first. */
    private long storedNow() {
        return ((RocksStore) store).messageCount();
    }

    @Test
    @DisplayName("a message whose last reference goes is deleted by that write, without waiting for garbage collection")
    void lastReleaseDeletesAtOnce() {
        long[] id = new long[1];
        run(w -> {
            id[0] = w.newMessageId();
            w.putQueueEntry(OWNER, entry(1, id[0]));
            w.putQueueEntry(StoreOwner.of("other", 1), entry(1, id[0]));
            w.putMessage(id[0], message("t", "abcd"), 2);
        });
        run(w -> w.deleteQueueEntry(OWNER, 1, id[0]));
        assertThat(storedNow()).as("one reference left").isEqualTo(1);
        run(w -> w.deleteQueueEntry(StoreOwner.of("other", 1), 1, id[0]));
        assertThat(storedNow()).isZero();
        // put and released in one batch, too
        run(w -> {
            long m = w.newMessageId();
            w.putMessage(m, message("t", "efgh"), 1);
            w.putQueueEntry(OWNER, entry(2, m));
            w.deleteQueueEntry(OWNER, 2, m);
        });
        assertThat(storedNow()).isZero();
        assertThat(read(OWNER, 0, 10)).isEmpty();
    }

    @Test
    @DisplayName("a message put again under its id (a held message given to a member) counts both references")
    void putAgainAddsReferences() {
        long[] id = new long[1];
        run(w -> {
            id[0] = w.newMessageId();
            w.putHeld("$share/g/t", 1, id[0]);
            w.putMessage(id[0], message("t", "held"), 1);
        });
        run(w -> {
            w.newMessageId(); // an id given out and never put: the next put of an older id is not a first put
            w.putQueueEntry(OWNER, entry(1, id[0]));
            w.putMessage(id[0], message("t", "held"), 1);
            w.deleteHeld("$share/g/t", 1, id[0]);
        });
        assertThat(storedNow()).isEqualTo(1);
        assertThat(messageCount()).as("after garbage collection too").isEqualTo(1);
        assertThat(read(OWNER, 0, 10)).singleElement().satisfies(e -> assertThat(e.message().topic()).isEqualTo("t"));
        run(w -> w.deleteQueueEntry(OWNER, 1, id[0]));
        assertThat(storedNow()).isZero();
    }

    @Test
    @DisplayName("a message stored before a restart keeps its references after it: released one by one, then reclaimed")
    void releasedAfterRestart() {
        long[] id = new long[1];
        run(w -> {
            // sessions for both queues: recovery purges the queues of sessions that are gone
            w.putSession(new SessionRecord("client", 42, 5, 3600, 0L, null, 0));
            w.putSession(new SessionRecord("other", 1, 5, 3600, 0L, null, 0));
            id[0] = w.newMessageId();
            w.putQueueEntry(OWNER, entry(1, id[0]));
            w.putQueueEntry(StoreOwner.of("other", 1), entry(1, id[0]));
            w.putMessage(id[0], message("t", "old"), 2);
        });
        store = reopen();
        store.recover();
        run(w -> {
            long fresh = w.newMessageId();
            assertThat(fresh).as("ids go on after the stored ones").isGreaterThan(id[0]);
            w.deleteQueueEntry(OWNER, 1, id[0]);
        });
        assertThat(messageCount()).as("one reference left").isEqualTo(1);
        run(w -> w.deleteQueueEntry(StoreOwner.of("other", 1), 1, id[0]));
        assertThat(messageCount()).isZero();
    }

    @Test
    @DisplayName("a damaged store is refused with a message naming its directory, never opened half-read")
    void corruptStoreRefused() throws IOException {
        store.close();
        Path current = dir.resolve("CURRENT");
        String manifest = Files.readString(current).strip();
        // damage the manifest that CURRENT points to: RocksDB's checksums catch it
        Path m = dir.resolve(manifest);
        byte[] bytes = Files.readAllBytes(m);
        for (int i = 0; i < bytes.length; i += 7) {
            bytes[i] ^= 0x5A;
        }
        Files.write(m, bytes);
        assertThatThrownBy(() -> new RocksStore(dir, Durability.FSYNC, 100))
                .isInstanceOf(StoreException.class).hasMessageContaining(dir.toString());
        store = new MemoryStore(); // for the contract's @AfterEach
    }
}
