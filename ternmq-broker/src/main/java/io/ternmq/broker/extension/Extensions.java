package io.ternmq.broker.extension;

import io.ternmq.broker.config.ConfigException;
import io.ternmq.broker.service.BrokerService;
import io.ternmq.broker.security.SecurityProvider;
import io.ternmq.extension.api.ExtensionMain;
import io.ternmq.extension.api.ExtensionSecurityProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The extensions of {@code extensions_dir}: each folder read ({@link ExtensionDescriptor}), loaded in a class loader
 * of its own ({@link ExtensionClassLoader}) before the broker's security is built (their jars may carry security
 * providers), started by priority (highest first) before the first listener opens,
 * and stopped, in reverse order, when the broker stops. A folder with a {@code DISABLED} file is skipped. An extension
 * that cannot be read or started is logged and left out, unless it is {@code required}: then the broker does not
 * start ({@link ConfigException}: exit status 2).
 */
public final class Extensions implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Extensions.class);
    public static final String DISABLED = "DISABLED";

    /** A folder read, with its class loader; not started yet. */
    private record Loaded(ExtensionDescriptor descriptor, ExtensionClassLoader loader) {
    }

    /** A started extension. */
    private record Running(ExtensionDescriptor descriptor, ExtensionMain main, ExtensionStats stats,
                           BrokerExtensionContext context, ExtensionClassLoader loader) {
    }

    private final List<Loaded> loaded;
    private final long slowCallMillis;
    private final List<Running> running = new ArrayList<>();
    private SharedExtensionExecutor executor;
    private Interceptors interceptors = Interceptors.NONE;

    private Extensions(List<Loaded> loaded, long slowCallMillis) {
        this.loaded = loaded;
        this.slowCallMillis = slowCallMillis;
    }

    /** No extension directory, or nothing in it. */
    public static Extensions none() {
        return new Extensions(List.of(), 0);
    }

    /**
     * Reads the folders of {@code dir} (a missing directory: none) and gives each a class loader; nothing starts
     * yet. The broker's security is built after this, so that it finds the security providers the jars carry
     * ({@link #securityProviders}); the extensions start later, before the first listener opens ({@link #start}).
     *
     * @throws ConfigException if a required extension cannot be read
     */
    public static Extensions load(Path dir, long slowCallMillis) {
        if (!Files.isDirectory(dir)) {
            LOG.debug("No extensions: {} is not a directory", dir.toAbsolutePath());
            return none();
        }
        List<Loaded> loaded = new ArrayList<>();
        for (ExtensionDescriptor d : read(dir)) {
            loaded.add(new Loaded(d, new ExtensionClassLoader(d.id(), urls(d))));
        }
        return new Extensions(loaded, slowCallMillis);
    }

    /** Reads, loads and starts the extensions of {@code dir}: {@link #load}, then {@link #start}. */
    public static Extensions start(Path dir, long slowCallMillis, BrokerService service) {
        Extensions extensions = load(dir, slowCallMillis);
        extensions.start(service);
        return extensions;
    }

    /**
     * The {@link ExtensionSecurityProvider}s the loaded extensions' jars list, as the broker's security takes
     * providers. An extension whose providers cannot be instantiated is left out (it will not start either), unless
     * it is required: then the broker does not start.
     *
     * @throws ConfigException for a required extension whose providers fail
     */
    public List<SecurityProvider> securityProviders() {
        List<SecurityProvider> providers = new ArrayList<>();
        for (Iterator<Loaded> it = loaded.iterator(); it.hasNext(); ) {
            Loaded l = it.next();
            List<ExtensionSecurityProvider> found = new ArrayList<>();
            try {
                ServiceLoader.load(ExtensionSecurityProvider.class, l.loader()).forEach(found::add);
            } catch (ServiceConfigurationError | LinkageError e) {
                close(l.loader());
                it.remove();
                refused(l.descriptor().required(), l.descriptor() + ": its security providers cannot be loaded: "
                        + e);
                continue;
            }
            for (ExtensionSecurityProvider p : found) {
                providers.add(new ExtensionSecurityAdapter(p, l.descriptor(), l.loader()));
            }
        }
        return providers;
    }

    /**
     * Starts the loaded extensions by priority (highest first); their registrations make the {@link #interceptors}.
     *
     * @throws ConfigException if a required extension cannot be started
     */
    public void start(BrokerService service) {
        if (loaded.isEmpty()) {
            return;
        }
        executor = new SharedExtensionExecutor(Math.max(2, Runtime.getRuntime().availableProcessors()));
        ExtensionServices services = new ExtensionServices(service, executor);
        Interceptors.Builder chains = new Interceptors.Builder();
        try {
            for (Loaded l : loaded) {
                Running r = startOne(l, slowCallMillis, services, executor, chains);
                if (r != null) {
                    running.add(r);
                }
            }
        } catch (ConfigException e) {
            close();
            throw e;
        }
        interceptors = chains.build();
        LOG.info("{} extension(s) started: {}", running.size(),
                running.stream().map(r -> r.descriptor().id() + " " + r.descriptor().version()).toList());
    }

    /** The folders of {@code dir}, read and sorted by priority; unreadable ones logged (or fatal if required). */
    private static List<ExtensionDescriptor> read(Path dir) {
        List<Path> folders;
        try (Stream<Path> s = Files.list(dir)) {
            folders = s.filter(Files::isDirectory).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list extensions_dir " + dir + ": " + e, e);
        }
        List<ExtensionDescriptor> found = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (Path folder : folders) {
            if (Files.exists(folder.resolve(DISABLED))) {
                LOG.info("Extension folder {} is disabled (it holds a {} file): skipped", folder, DISABLED);
                continue;
            }
            ExtensionDescriptor d;
            try {
                d = ExtensionDescriptor.read(folder);
            } catch (ExtensionDescriptor.Invalid e) {
                refused(e.required(), e.getMessage());
                continue;
            }
            if (!ids.add(d.id())) {
                refused(d.required(), folder + ": id '" + d.id() + "' is already used by another extension folder");
                continue;
            }
            found.add(d);
        }
        found.sort(Comparator.comparingInt(ExtensionDescriptor::priority).reversed()
                .thenComparing(ExtensionDescriptor::id));
        return found;
    }

    private static void refused(boolean required, String why) {
        if (required) {
            throw new ConfigException("required extension refused: " + why);
        }
        LOG.error("Extension refused, broker starts without it: {}", why);
    }

    private static Running startOne(Loaded l, long slowCallMillis, ExtensionServices services,
                                    SharedExtensionExecutor executor, Interceptors.Builder chains) {
        ExtensionDescriptor d = l.descriptor();
        ExtensionClassLoader loader = l.loader();
        ExtensionStats stats = new ExtensionStats(d.id(), slowCallMillis);
        BrokerExtensionContext context = new BrokerExtensionContext(d, stats, services, executor, chains);
        ExtensionMain main;
        Thread current = Thread.currentThread();
        ClassLoader previous = current.getContextClassLoader();
        current.setContextClassLoader(loader); // libraries that look up classes through it find the extension's
        try {
            main = mainOf(d, loader);
            main.start(context);
        } catch (Exception | LinkageError | ServiceConfigurationError e) {
            context.discard();
            close(loader);
            String why = d + " failed to start: " + e;
            if (d.required()) {
                LOG.error("Required {}", why, e);
                throw new ConfigException("required " + why);
            }
            LOG.error("{}; the broker starts without it", why, e);
            return null;
        } finally {
            current.setContextClassLoader(previous);
        }
        context.commit();
        LOG.info("Started {}", d);
        return new Running(d, main, stats, context, loader);
    }

    private static ExtensionMain mainOf(ExtensionDescriptor d, ClassLoader loader) {
        List<ExtensionMain> mains = new ArrayList<>();
        ServiceLoader.load(ExtensionMain.class, loader).forEach(mains::add);
        if (mains.size() != 1) {
            throw new IllegalStateException(mains.isEmpty()
                    ? "its jars list no " + ExtensionMain.class.getName() + " in META-INF/services"
                    : "its jars list " + mains.size() + " ExtensionMain implementations; one is allowed");
        }
        return mains.get(0);
    }

    private static URL[] urls(ExtensionDescriptor d) {
        URL[] urls = new URL[d.jars().size()];
        for (int i = 0; i < urls.length; i++) {
            try {
                urls[i] = d.jars().get(i).toUri().toURL();
            } catch (MalformedURLException e) {
                throw new IllegalStateException(e);
            }
        }
        return urls;
    }

    private static void close(ExtensionClassLoader loader) {
        try {
            loader.close();
        } catch (IOException e) {
            LOG.debug("Closing an extension's class loader", e);
        }
    }

    /** What the protocol runs; {@link Interceptors#NONE} without extensions. */
    public Interceptors interceptors() {
        return interceptors;
    }

    /** The started extensions' statistics, in start order. */
    public List<ExtensionStats> stats() {
        return running.stream().map(Running::stats).toList();
    }

    /** Stops the extensions in the reverse order of their start, then their shared pool. */
    @Override
    public void close() {
        for (int i = running.size() - 1; i >= 0; i--) {
            Running r = running.get(i);
            Thread current = Thread.currentThread();
            ClassLoader previous = current.getContextClassLoader();
            current.setContextClassLoader(r.loader());
            try {
                r.main().stop();
            } catch (Exception | LinkageError e) {
                LOG.warn("{} failed to stop", r.descriptor(), e);
            } finally {
                current.setContextClassLoader(previous);
            }
            LOG.info("Stopped {}: {}; its counters {}", r.descriptor(), r.stats(),
                    r.context().metricsSnapshotSource().snapshot());
            close(r.loader());
        }
        running.clear();
        if (executor != null) {
            executor.close();
        }
        // loaded but never started (the broker stopped before, or they failed): only their class loaders
        for (Loaded l : loaded) {
            close(l.loader());
        }
    }
}
