package io.ternmq.broker.store;

import io.ternmq.broker.config.Durability;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.rocksdb.RocksDBException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static io.ternmq.broker.store.StoreContractTest.entry;
import static io.ternmq.broker.store.StoreContractTest.message;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The pipelined sync of {@code fsync} durability, with the sync held by the test: the writer goes on writing while
 * the syncer syncs, and a group's callbacks (the acknowledgements) run only after a sync that started after the
 * group was written.
 */
class RocksStoreSyncTest {
    private Path dir;
    private RocksStore store;
    /** Each sync takes a permit: the test decides when a sync ends. */
    private final Semaphore syncs = new Semaphore(0);
    private final AtomicInteger syncsStarted = new AtomicInteger();
    private final List<String> applied = Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void open() throws IOException {
        dir = Files.createTempDirectory("ternmq-sync-");
        store = new RocksStore(dir, Durability.FSYNC, 100, () -> {
            syncsStarted.incrementAndGet();
            try {
                syncs.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RocksDBException("interrupted");
            }
        });
    }

    @AfterEach
    void close() throws IOException {
        syncs.release(1_000); // the final groups and close's own sync
        store.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    /** Submits a write named {@code name}; its callback notes the name in {@link #applied}. */
    private void submit(String name, Consumer<StoreWriter> write) {
        store.submit(new StoreOp() {
            @Override
            public void prepare(StoreWriter w) {
                write.accept(w);
            }

            @Override
            public void applied() {
                applied.add(name);
            }
        });
    }

    private void putEntry(StoreWriter w, long seq) {
        long id = w.newMessageId();
        w.putMessage(id, message("t/" + seq, "m" + seq), 1);
        w.putQueueEntry("owner", entry(seq, id));
    }

    private int readable() {
        CompletableFuture<List<StoredEntry>> f = new CompletableFuture<>();
        store.readQueue("owner", 0, 100, f::complete);
        return f.join().size();
    }

    @Test
    @DisplayName("fsync: a group is acknowledged only after a sync that started after its write; groups written "
            + "during a sync wait for the next one")
    void callbacksWaitForTheirOwnSync() throws InterruptedException {
        submit("a", w -> putEntry(w, 1));
        await().atMost(Duration.ofSeconds(10)).until(() -> syncsStarted.get() == 1);
        assertThat(applied).as("a's sync has not ended").isEmpty();

        // written while a's sync runs: readable, not acknowledged
        submit("b", w -> putEntry(w, 2));
        await().atMost(Duration.ofSeconds(10)).until(() -> readable() == 2);
        syncs.release(); // a's sync ends; b's starts (its request waited)
        await().atMost(Duration.ofSeconds(10)).until(() -> applied.contains("a"));
        await().atMost(Duration.ofSeconds(10)).until(() -> syncsStarted.get() == 2);

        // the writer handles what is submitted now after the notice that acknowledged a
        CountDownLatch marker = new CountDownLatch(1);
        List<String> appliedAtMarker = new ArrayList<>();
        submit("c", w -> {
            appliedAtMarker.addAll(applied);
            marker.countDown();
        });
        assertThat(marker.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(appliedAtMarker).as("b was written before a's sync ended, not before it started").containsExactly("a");

        syncs.release(1_000);
        await().atMost(Duration.ofSeconds(10)).until(() -> applied.size() == 3);
        assertThat(applied).containsExactly("a", "b", "c");
    }
}
