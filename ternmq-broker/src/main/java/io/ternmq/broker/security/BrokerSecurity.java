package io.ternmq.broker.security;

import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.config.ConfigException;
import io.ternmq.broker.config.ListenerConfig;
import io.ternmq.broker.metrics.BrokerMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The security of every listener, built at start: from the configuration and the {@link SecurityProvider}s found by
 * ServiceLoader ({@link #fromConfig}), or with one authenticator the embedder chose ({@link #fixed}). Owns the file
 * watcher that reloads password, ACL and certificate files, the worker pool for password hashing, and the
 * {@link AuthFailureDelay}.
 */
public final class BrokerSecurity implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerSecurity.class);
    private static final long FILE_POLL_SECONDS = 30;

    private final List<ListenerSecurity> listeners;
    private final FileWatcher watcher;
    private final ThreadPoolExecutor hashing;
    private final SharedResources shared;
    private final AuthFailureDelay authFailureDelay;

    private BrokerSecurity(List<ListenerSecurity> listeners, FileWatcher watcher, ThreadPoolExecutor hashing,
                           SharedResources shared, AuthFailureDelay authFailureDelay) {
        this.listeners = List.copyOf(listeners);
        this.watcher = watcher;
        this.hashing = hashing;
        this.shared = shared;
        this.authFailureDelay = authFailureDelay;
    }

    /** Every listener authenticates with the embedder's authenticator and methods; everything is authorized. */
    public static BrokerSecurity fixed(BrokerConfig config, Authenticator authenticator,
                                       Collection<EnhancedAuthenticator> enhanced) {
        List<ListenerSecurity> ls = new ArrayList<>();
        for (ListenerConfig l : config.transport().listeners()) {
            ls.add(ListenerSecurity.fixed(l, authenticator, enhanced));
        }
        return new BrokerSecurity(ls, new FileWatcher(FILE_POLL_SECONDS), hashingPool(), new SharedResources(),
                delay(config));
    }

    /** From the configuration, with the providers ServiceLoader finds. */
    public static BrokerSecurity fromConfig(BrokerConfig config, BrokerMetrics metrics) {
        return fromConfig(config, metrics, classPathProviders());
    }

    /** The providers on the broker's class path: the built-in ones and any ServiceLoader finds beside them. */
    public static List<SecurityProvider> classPathProviders() {
        List<SecurityProvider> providers = new ArrayList<>();
        ServiceLoader.load(SecurityProvider.class, BrokerSecurity.class.getClassLoader()).forEach(providers::add);
        return providers;
    }

    /**
     * From the configuration, with these providers.
     *
     * @throws ConfigException if a listener names an unknown plugin or a plugin cannot be built
     */
    public static BrokerSecurity fromConfig(BrokerConfig config, BrokerMetrics metrics,
                                            List<SecurityProvider> providers) {
        Map<String, SecurityProvider> byName = new LinkedHashMap<>();
        for (SecurityProvider p : providers) {
            byName.putIfAbsent(p.name(), p);
        }
        FileWatcher watcher = new FileWatcher(FILE_POLL_SECONDS);
        ThreadPoolExecutor hashing = hashingPool();
        SharedResources shared = new SharedResources();
        List<ListenerSecurity> built = new ArrayList<>();
        try {
            for (ListenerConfig l : config.transport().listeners()) {
                SecurityContext ctx = new SecurityContext(l, watcher, hashing, metrics, shared);
                List<SecurityPlugin> plugins = new ArrayList<>();
                List<String> names = new ArrayList<>();
                for (SecurityProvider p : byName.values()) {
                    if (p.enabledByDefault(l)) {
                        names.add(p.name());
                    }
                }
                for (String name : l.auth().plugins()) {
                    if (!byName.containsKey(name)) {
                        throw new ConfigException("listener " + l + ": plugin '" + name + "' is not on the class path"
                                + " nor in an extension (known: " + String.join(", ", byName.keySet()) + ")");
                    }
                    if (!names.contains(name)) {
                        names.add(name);
                    }
                }
                for (String name : names) {
                    plugins.add(byName.get(name).create(ctx));
                }
                built.add(ListenerSecurity.assemble(l, config.allowAnonymous(l), plugins));
            }
        } catch (RuntimeException e) {
            built.forEach(ListenerSecurity::close);
            shared.close();
            watcher.close();
            hashing.shutdownNow();
            throw e;
        }
        return new BrokerSecurity(built, watcher, hashing, shared, delay(config));
    }

    /** Password checks (PBKDF2, slow on purpose) run here, never on an event loop; threads go when idle. */
    private static ThreadPoolExecutor hashingPool() {
        int cores = Runtime.getRuntime().availableProcessors();
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor hashing = new ThreadPoolExecutor(Math.max(1, cores / 2), Math.max(1, cores / 2),
                30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(256), r -> {
                    Thread t = new Thread(r, "ternmq-auth-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        hashing.allowCoreThreadTimeOut(true);
        return hashing;
    }

    /**
     * Checks user names and passwords against this password file (loaded now, reloaded when it changes and on
     * SIGHUP), off the event loops and with the MQTT side's cache of recent successes: the admin listener's users.
     *
     * @throws ConfigException if the file cannot be read
     */
    public Authenticator passwordFileAuthenticator(Path file) {
        return new PasswordFileAuthenticator(shared.passwordFile(file, watcher), hashing);
    }

    private static AuthFailureDelay delay(BrokerConfig config) {
        return new AuthFailureDelay(config.security().authFailureDelayMillis(),
                config.security().authFailureDelayMaxMillis());
    }

    /** The security of the listener at this index of {@link io.ternmq.broker.config.TransportSettings#listeners()}. */
    public ListenerSecurity listener(int index) {
        return listeners.get(index);
    }

    public List<ListenerSecurity> listeners() {
        return listeners;
    }

    public FileWatcher watcher() {
        return watcher;
    }

    public AuthFailureDelay authFailureDelay() {
        return authFailureDelay;
    }

    /**
     * Re-reads every password and ACL file and drops caches (SIGHUP): what each file did. Certificates are the
     * transport's.
     */
    public List<ReloadOutcome> reload() {
        LOG.info("Reloading password and ACL files");
        List<ReloadOutcome> done = shared.reload();
        listeners.forEach(ListenerSecurity::reload);
        return done;
    }

    @Override
    public void close() {
        listeners.forEach(ListenerSecurity::close);
        shared.close();
        watcher.close();
        if (hashing != null) {
            hashing.shutdownNow();
        }
    }
}
