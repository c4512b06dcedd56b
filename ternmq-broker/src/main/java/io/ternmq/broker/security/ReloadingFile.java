package io.ternmq.broker.security;

import io.ternmq.broker.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * A file parsed into an immutable value that is replaced when the file changes. A file that cannot be read or parsed
 * at start stops the broker; later, the last good version stays in use and the error is logged.
 *
 * @param <T> the parsed form
 */
public final class ReloadingFile<T> implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReloadingFile.class);

    /** Parses the file; throws IOException or IllegalArgumentException. */
    public interface Loader<T> {
        T load(Path file) throws IOException;
    }

    private final Path file;
    private final String what;
    private final Loader<T> loader;
    private final FileWatcher.Registration registration;
    private final List<Consumer<T>> listeners = new CopyOnWriteArrayList<>();
    private volatile T current;

    /**
     * @param what for messages, e.g. "password file"
     * @throws ConfigException if the file cannot be loaded now
     */
    public ReloadingFile(Path file, String what, Loader<T> loader, FileWatcher watcher) {
        this.file = file;
        this.what = what;
        this.loader = loader;
        try {
            this.current = loader.load(file);
        } catch (IOException | IllegalArgumentException e) {
            throw new ConfigException(what + " " + file + ": " + message(e));
        }
        this.registration = watcher == null ? null : watcher.watch(List.of(file), this::reload);
    }

    public T current() {
        return current;
    }

    public Path file() {
        return file;
    }

    /** Called with the new value after each successful reload. */
    public void onReload(Consumer<T> listener) {
        listeners.add(listener);
    }

    /** Re-reads the file now. @return whether it loaded */
    public boolean reload() {
        return reloadNow().reloaded();
    }

    /** Re-reads the file now, saying what happened (on an error the last good version stays). */
    public ReloadOutcome reloadNow() {
        try {
            T loaded = loader.load(file);
            current = loaded;
            LOG.info("Reloaded {} {}", what, file);
            listeners.forEach(l -> l.accept(loaded));
            return new ReloadOutcome(what, file.toString(), null);
        } catch (IOException | IllegalArgumentException e) {
            LOG.error("Cannot reload {} {}; keeping the previous version: {}", what, file, message(e));
            return new ReloadOutcome(what, file.toString(), message(e));
        }
    }

    private static String message(Exception e) {
        return e instanceof IOException ? "cannot read: " + e : e.getMessage();
    }

    @Override
    public void close() {
        if (registration != null) {
            registration.close();
        }
    }
}
