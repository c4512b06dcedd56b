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
