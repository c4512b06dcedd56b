package io.ternmq.broker.store;

import org.rocksdb.RocksDB;
import org.rocksdb.util.Environment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Loads RocksDB's native library from a copy kept beside the data. RocksDB's own loader copies the 17 MB library out
 * of the jar into a new temporary file at every start, about a sixth of the broker's start-up time; this one copies
 * it once into {@code <data_dir>/native/<crc>/} (the CRC of the library inside the jar, so another RocksDB version gets
 * its own copy) and loads that copy afterwards. Anything unexpected (no such library in the jar, a read-only or
 * {@code noexec} data directory) falls back to RocksDB's loader.
 */
final class RocksLibrary {
    private static final Logger LOG = LoggerFactory.getLogger(RocksLibrary.class);

    /** Once loaded, a process never copies or loads it again (tests open many stores with fresh directories). */
    private static boolean loaded;

    private RocksLibrary() {
    }

    /** Loads the library, from the copy under {@code cacheRoot} where possible; a no-op once loaded. */
    static synchronized void load(Path cacheRoot) {
        if (loaded) {
            return;
        }
        try {
            Path dir = cachedCopy(cacheRoot);
            if (dir != null) {
                RocksDB.loadLibrary(List.of(dir.toString()));
                loaded = true;
                return;
            }
        } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
            LOG.debug("RocksDB's library not loaded from {} ({}); RocksDB extracts it itself", cacheRoot, e.toString());
        }
        RocksDB.loadLibrary();
        loaded = true;
    }

    /** The directory holding the library's copy, made if missing; null if the jar has no library for this system. */
    static Path cachedCopy(Path cacheRoot) throws IOException {
        String name = Environment.getJniLibraryFileName("rocksdb"); // librocksdbjni-linux64.so here
        URL resource = RocksDB.class.getResource("/" + name);
        if (resource == null) {
            return null;
        }
        URLConnection connection = resource.openConnection();
        if (!(connection instanceof JarURLConnection jar) || jar.getJarEntry() == null
                || jar.getJarEntry().getCrc() < 0) {
            return null;
        }
        long size = jar.getJarEntry().getSize();
        Path dir = cacheRoot.resolve(Long.toHexString(jar.getJarEntry().getCrc()));
        Path library = dir.resolve(name);
        // RocksDB.loadLibrary(paths) looks for getJniLibraryFileName("rocksdbjni") (librocksdbjnijni-linux64.so in
        // 11.8): the copy answers to that name too, through a link
        Path alias = dir.resolve(Environment.getJniLibraryFileName("rocksdbjni"));
        if (Files.isRegularFile(library) && Files.size(library) == size && Files.isRegularFile(alias)) {
            return dir;
        }
        Files.createDirectories(dir);
        // written aside and renamed: a start interrupted half-way never leaves a truncated library to load
        Path partial = Files.createTempFile(dir, name, ".partial");
        try (InputStream in = connection.getInputStream()) {
            Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
            Files.move(partial, library, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(partial);
        }
        if (!alias.equals(library)) {
            Files.deleteIfExists(alias);
            Files.createLink(alias, library);
        }
        LOG.debug("RocksDB's library copied to {}", library);
        return dir;
    }
}
