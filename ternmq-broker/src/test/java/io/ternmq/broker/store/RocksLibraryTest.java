package io.ternmq.broker.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.RocksDB;
import org.rocksdb.util.Environment;

import java.io.IOException;
import java.net.JarURLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RocksLibraryTest {
    private static long librarySizeInJar() throws IOException {
        String name = Environment.getJniLibraryFileName("rocksdb");
        return ((JarURLConnection) RocksDB.class.getResource("/" + name).openConnection()).getJarEntry().getSize();
    }

    private static List<Path> copies(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(Files::isRegularFile).toList();
        }
    }

    private static Path copy(Path root) throws IOException {
        String name = Environment.getJniLibraryFileName("rocksdb");
        return copies(root).stream().filter(p -> p.getFileName().toString().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void copiesTheLibraryOnceAndReusesTheCopy(@TempDir Path root) throws IOException {
        RocksLibrary.cachedCopy(root);
        Path copy = copy(root);
        assertThat(copies(root)).as("the copy and the name RocksDB looks for, no partial file left")
                .extracting(p -> p.getFileName().toString())
                .containsExactlyInAnyOrder(Environment.getJniLibraryFileName("rocksdb"),
                        Environment.getJniLibraryFileName("rocksdbjni"));
        assertThat(Files.size(copy)).isEqualTo(librarySizeInJar());

        FileTime before = FileTime.fromMillis(1_000_000L);
        Files.setLastModifiedTime(copy, before);
        RocksLibrary.cachedCopy(root);
        assertThat(Files.getLastModifiedTime(copy)).as("the copy is reused, not rewritten").isEqualTo(before);
    }

    @Test
    void replacesATruncatedCopy(@TempDir Path root) throws IOException {
        RocksLibrary.cachedCopy(root);
        Path copy = copy(root);
        Files.delete(copy);
        Files.write(copy, new byte[] {1, 2, 3}); // as a copy made by hand, or a disk that lost blocks, might leave
        RocksLibrary.cachedCopy(root);
        assertThat(Files.size(copy(root))).isEqualTo(librarySizeInJar());
        assertThat(copies(root)).hasSize(2);
    }

    @Test
    void anUnusableDirectoryIsNoError(@TempDir Path root) throws IOException {
        Path notADirectory = Files.writeString(root.resolve("file"), "x");
        RocksLibrary.load(notADirectory.resolve("native")); // RocksDB's own loader takes over, or it was loaded
        assertThat(copies(root)).containsExactly(notADirectory);
        assertThatThrownBy(() -> RocksLibrary.cachedCopy(notADirectory.resolve("native")))
                .as("the copy fails; load() falls back").isInstanceOf(IOException.class);
    }
}
