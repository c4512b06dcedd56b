package io.ternmq.broker.security;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Things plugins share across listeners and across each other, e.g. one loaded password file used by the {@code file}
 * and {@code scram-sha-256} providers of several listeners. Closed (AutoCloseable values) with the broker.
 */
public final class SharedResources implements AutoCloseable {
    private final Map<String, Object> values = new LinkedHashMap<>();

    /** The value under this key, created by {@code create} the first time. */
    @SuppressWarnings("unchecked")
    public synchronized <T> T get(String key, Supplier<T> create) {
        Object v = values.get(key);
        if (v == null) {
            v = create.get();
            values.put(key, v);
        }
        return (T) v;
    }

    /** The password file at this path, loaded once and reloaded when it changes. */
    public ReloadingFile<PasswordFile> passwordFile(java.nio.file.Path file, FileWatcher watcher) {
        return get("password_file:" + file.toAbsolutePath().normalize(),
                () -> new ReloadingFile<>(file, "password file", PasswordFile::load, watcher));
    }

    /** The ACL file at this path, loaded once and reloaded when it changes. */
    public ReloadingFile<AclFile> aclFile(java.nio.file.Path file, FileWatcher watcher) {
        return get("acl_file:" + file.toAbsolutePath().normalize(),
                () -> new ReloadingFile<>(file, "ACL file", AclFile::load, watcher));
    }

    /** Reloads every shared file now: what each did. */
    public synchronized List<ReloadOutcome> reload() {
        List<ReloadOutcome> done = new ArrayList<>();
        for (Object v : values.values()) {
            if (v instanceof ReloadingFile<?> f) {
                done.add(f.reloadNow());
            }
        }
        return done;
    }

    @Override
    public synchronized void close() {
        List<Object> all = new ArrayList<>(values.values());
        values.clear();
        for (Object v : all) {
            if (v instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    // closing anyway
                }
            }
        }
    }
}
