package io.ternmq.broker.extension;

import io.ternmq.broker.config.ConfigException;
import io.ternmq.broker.service.BrokerService;
import io.ternmq.extension.api.ExtensionMain;
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
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The extensions of {@code extensions_dir}: each folder read ({@link ExtensionDescriptor}), loaded in a class loader
 * of its own ({@link ExtensionClassLoader}), started by priority (highest first) before the first listener opens,
 * and stopped, in reverse order, when the broker stops. A folder with a {@code DISABLED} file is skipped. An extension
 * that cannot be read or started is logged and left out, unless it is {@code required}: then the broker does not
 * start ({@link ConfigException}: exit status 2).
 */
public final class Extensions implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Extensions.class);
    public static final String DISABLED = "DISABLED";

    /** A started extension. */
    private record Running(ExtensionDescriptor descriptor, ExtensionMain main, ExtensionStats stats,
                           BrokerExtensionContext context, ExtensionClassLoader loader) {
    }

    private final List<Running> running;
    private final SharedExtensionExecutor executor;
    private final Interceptors interceptors;

    private Extensions(List<Running> running, SharedExtensionExecutor executor, Interceptors interceptors) {
        this.running = running;
        this.executor = executor;
        this.interceptors = interceptors;
    }

    /** No extension directory, or nothing in it. */
    public static Extensions none() {
        return new Extensions(new ArrayList<>(), null, Interceptors.NONE);
    }

    /**
     * Reads, loads and starts the extensions of {@code dir} (a missing directory: none).
     *
     * @throws ConfigException if a required extension cannot be read or started
     */
    public static Extensions start(Path dir, long slowCallMillis, BrokerService service) {
        if (!Files.isDirectory(dir)) {
            LOG.debug("No extensions: {} is not a directory", dir.toAbsolutePath());
            return none();
        }
        List<ExtensionDescriptor> found = read(dir);
        if (found.isEmpty()) {
            return none();
        }
        SharedExtensionExecutor executor = new SharedExtensionExecutor(
                Math.max(2, Runtime.getRuntime().availableProcessors()));
        ExtensionServices services = new ExtensionServices(service, executor);
        Interceptors.Builder chains = new Interceptors.Builder();
        List<Running> running = new ArrayList<>();
        Extensions extensions = new Extensions(running, executor, null);
        try {
            for (ExtensionDescriptor d : found) {
                Running r = startOne(d, slowCallMillis, services, executor, chains);
                if (r != null) {
                    running.add(r);
                }
            }
        } catch (ConfigException e) {
            extensions.close();
            throw e;
        }
        Interceptors installed = chains.build();
        LOG.info("{} extension(s) started: {}", running.size(),
                running.stream().map(r -> r.descriptor().id() + " " + r.descriptor().version()).toList());
        return new Extensions(running, executor, installed);
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

    private static Running startOne(ExtensionDescriptor d, long slowCallMillis, ExtensionServices services,
                                    SharedExtensionExecutor executor, Interceptors.Builder chains) {
        ExtensionClassLoader loader = new ExtensionClassLoader(d.id(), urls(d));
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
    }
}
