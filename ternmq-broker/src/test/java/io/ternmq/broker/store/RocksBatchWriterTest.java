package io.ternmq.broker.store;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static io.ternmq.broker.store.StoreContractTest.message;
import static org.assertj.core.api.Assertions.assertThat;

/** The writer's garbage collection, batch by batch, as the store's writer thread drives it. */
class RocksBatchWriterTest {
    private Path dir;
    private RocksColumns columns;

    @BeforeEach
    void open() throws IOException {
        dir = Files.createTempDirectory("ternmq-writer-");
        columns = new RocksColumns(dir.resolve("store"));
    }

    @AfterEach
    void close() throws IOException {
        columns.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    /** One batch, written as the store writes it. */
    private void batch(RocksBatchWriter w, Consumer<RocksBatchWriter> ops) throws RocksDBException {
        try (WriteBatch b = new WriteBatch(); WriteOptions o = new WriteOptions()) {
            w.begin(b);
            ops.accept(w);
            columns.db.write(o, b);
        }
    }

    private long stored() {
        long[] n = new long[1];
        columns.forEach(columns.messages, (k, v) -> n[0]++);
        return n[0];
    }

    @Test
    @DisplayName("a message released while not counted in memory is reclaimed by id, with no full pass")
    void releasedCheckedById() throws RocksDBException {
        RocksBatchWriter before = new RocksBatchWriter(columns, op -> { });
        long[] id = new long[1];
        batch(before, w -> {
            id[0] = w.newMessageId();
            w.putMessage(id[0], message("t", "kept"), 2);
        });
        // a new writer, as after a restart: it did not count this message
        RocksBatchWriter w = new RocksBatchWriter(columns, op -> { });
        RocksBatchWriter.CollectGarbage gc = w.new CollectGarbage();
        batch(w, x -> gc.prepare(x));
        assertThat(w.garbageCollectionDone()).as("the full pass after a start, over one count").isTrue();
        batch(w, x -> {
            x.releaseMessage(id[0], 1);
            gc.prepare(x); // in the batch of the release: it cannot see it yet, and leaves it for later
        });
        batch(w, x -> gc.prepare(x));
        assertThat(stored()).as("one reference left").isEqualTo(1);
        assertThat(w.garbageCollectionDone()).isTrue();
        batch(w, x -> x.releaseMessage(id[0], 1));
        batch(w, x -> gc.prepare(x));
        assertThat(stored()).isZero();
        assertThat(w.garbageCollectionDone()).isTrue();
    }

    @Test
    @DisplayName("a message counted from its first put is deleted by its last release, in that batch")
    void countedDeletedAtLastRelease() throws RocksDBException {
        RocksBatchWriter w = new RocksBatchWriter(columns, op -> { });
        long[] id = new long[1];
        batch(w, x -> {
            id[0] = x.newMessageId();
            x.putMessage(id[0], message("t", "m"), 3);
        });
        batch(w, x -> x.releaseMessage(id[0], 2));
        assertThat(stored()).isEqualTo(1);
        batch(w, x -> x.releaseMessage(id[0], 1));
        assertThat(stored()).isZero();
        assertThat(columns.db.get(columns.references, StoreCodec.id(id[0]))).as("its count too").isNull();
    }
}
