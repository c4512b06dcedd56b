package io.ternmq.broker.security;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Calls back when files change: certificates, keys, password and ACL files are reloaded without a restart. Uses the
 * platform's watch service on the files' directories (inotify on Linux), debounced so that a file written in several
 * steps is read once, plus a slow poll as a safety net (network file systems, Kubernetes' symlink swaps). A change
 * is a change of content, size or modification time; callbacks run on one background thread, never on an event
 * loop. Registrations are checked against the content they last saw, so a callback that fails (a key written before
 * its certificate) runs again at the next change.
 */
public final class FileWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FileWatcher.class);
    private static final long DEBOUNCE_MILLIS = 100;

    private final long pollSeconds;
    private final List<Registration> registrations = new CopyOnWriteArrayList<>();
    private final Set<Path> watchedDirectories = new HashSet<>();
    /** Threads start with the first {@link #watch}: a broker without files to watch has none. */
    private ScheduledExecutorService executor;
    private WatchService watchService;
    private ScheduledFuture<?> pendingCheck;
    private volatile boolean closed;

    /** @param pollSeconds how often files are also checked without an event; 0: never */
    public FileWatcher(long pollSeconds) {
        this.pollSeconds = pollSeconds;
    }

    private void startThreads() {
        if (executor != null) {
            return;
        }
        executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ternmq-file-watch");
            t.setDaemon(true);
            return t;
        });
        if (pollSeconds > 0) {
            executor.scheduleWithFixedDelay(this::checkAll, pollSeconds, pollSeconds, TimeUnit.SECONDS);
        }
        try {
            watchService = FileSystems.getDefault().newWatchService();
            Thread watchThread = new Thread(this::watchLoop, "ternmq-file-events");
            watchThread.setDaemon(true);
            watchThread.start();
        } catch (IOException | UnsupportedOperationException e) {
            LOG.warn("No file change notifications ({}); files are polled every {} s", e.toString(), pollSeconds);
            watchService = null;
        }
    }

    /** A group of files and what to do when any of them changes. */
    public final class Registration implements AutoCloseable {
        private final List<Path> files;
        private final Runnable onChange;
        private byte[] fingerprint;

        private Registration(List<Path> files, Runnable onChange) {
            this.files = files;
            this.onChange = onChange;
            this.fingerprint = fingerprint(files);
        }

        private void check(boolean force) {
            byte[] now = fingerprint(files);
            if (!force && Arrays.equals(now, fingerprint)) {
                return;
            }
            fingerprint = now;
            try {
                onChange.run();
            } catch (RuntimeException e) {
                LOG.error("Reloading {} failed: {}", files, e.toString(), e);
            }
        }

        @Override
        public void close() {
            registrations.remove(this);
        }
    }

    /** Watches the files (missing ones too: their appearance is a change); {@code onChange} runs on change. */
    public synchronized Registration watch(List<Path> files, Runnable onChange) {
        if (closed) {
            throw new IllegalStateException("file watcher closed");
        }
        startThreads();
        List<Path> absolute = files.stream().map(f -> f.toAbsolutePath().normalize()).toList();
        Registration r = new Registration(absolute, onChange);
        registrations.add(r);
        if (watchService != null) {
            for (Path f : absolute) {
                register(f.getParent());
                try {
                    // a symlinked file (Kubernetes secrets) changes where its target lives
                    Path real = f.toRealPath();
                    register(real.getParent());
                } catch (IOException e) {
                    // not there yet
                }
            }
        }
        return r;
    }

    private void register(Path dir) {
        if (dir == null || !watchedDirectories.add(dir)) {
            return;
        }
        try {
            dir.register(watchService, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                    StandardWatchEventKinds.ENTRY_DELETE);
        } catch (IOException | RuntimeException e) {
            watchedDirectories.remove(dir);
            LOG.debug("Cannot watch {}: {}", dir, e.toString());
        }
    }

    /** Runs every registration's callback now, changed or not (SIGHUP). Returns when they have run. */
    public void reloadAll() {
        ScheduledExecutorService executor = executor();
        if (executor == null) {
            return;
        }
        try {
            executor.submit(() -> registrations.forEach(r -> r.check(true))).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.error("Reload failed", e);
        }
    }

    /** Checks every registration now and returns when done (tests, and callers that just wrote a file). */
    public void checkNow() {
        ScheduledExecutorService executor = executor();
        if (executor == null) {
            return;
        }
        try {
            executor.submit(this::checkAll).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.error("File check failed", e);
        }
    }

    private synchronized ScheduledExecutorService executor() {
        return executor;
    }

    private void checkAll() {
        for (Registration r : registrations) {
            r.check(false);
        }
    }

    private void watchLoop() {
        while (!closed) {
            WatchKey key;
            try {
                key = watchService.take();
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            }
            key.pollEvents();
            key.reset();
            scheduleCheck();
        }
    }

    private synchronized void scheduleCheck() {
        if (closed) {
            return;
        }
        if (pendingCheck != null) {
            pendingCheck.cancel(false);
        }
        pendingCheck = executor.schedule(this::checkAll, DEBOUNCE_MILLIS, TimeUnit.MILLISECONDS);
    }

    private static byte[] fingerprint(List<Path> files) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (Path f : files) {
            md.update(f.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            try {
                if (Files.size(f) <= 16 * 1024 * 1024) {
                    md.update(Files.readAllBytes(f));
                } else {
                    md.update(Files.getLastModifiedTime(f).toString().getBytes(
                            java.nio.charset.StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                md.update((byte) 0xFF); // missing or unreadable
            }
        }
        return md.digest();
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (executor != null) {
            executor.shutdownNow();
        }
        if (watchService != null) {
            try {
                watchService.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        registrations.clear();
    }
}
