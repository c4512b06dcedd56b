package io.ternmq.broker;

import ch.qos.logback.classic.Level;
import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.config.ConfigException;
import io.ternmq.broker.config.ConfigFileParser;
import io.ternmq.broker.config.ListenerConfig;
import io.ternmq.broker.config.LogLevel;
import io.ternmq.broker.metrics.BuildInfo;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** The {@code ternmq} command: starts the broker from a config file and command-line overrides. */
@Command(name = "ternmq", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "TernMQ, an MQTT 3.1/3.1.1/5.0 broker. Without -c it listens on 127.0.0.1:1883 and keeps "
                + "its data under ./data.")
public final class Main implements Callable<Integer> {

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "configuration file (key value lines)")
    Path configFile;

    @Option(names = {"-p", "--port"}, paramLabel = "PORT",
            description = "port of the first listener (default 1883)")
    Integer port;

    @Option(names = {"-b", "--bind"}, paramLabel = "ADDRESS",
            description = "bind address of the first listener (default 127.0.0.1)")
    String bind;

    @Option(names = {"-d", "--data-dir"}, paramLabel = "DIR", description = "data directory (default ./data)")
    Path dataDir;

    @Option(names = {"-v", "--verbose"}, description = "log at debug level")
    boolean verbose;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.addSubcommand("passwd", new PasswdCommand());
        return cl.execute(args);
    }

    @Override
    public Integer call() throws Exception {
        BrokerConfig config;
        try {
            config = buildConfig();
        } catch (ConfigException | IllegalArgumentException e) {
            System.err.println("ternmq: " + e.getMessage());
            return 2;
        }
        setLogLevel(verbose ? LogLevel.DEBUG : config.logLevel());
        // first line of the log: what sizes this process's memory (bin/ternmq's choices, TERNMQ_JAVA_OPTS)
        LoggerFactory.getLogger(Main.class).info(JvmInfo.describe());
        Broker broker;
        try {
            broker = Broker.start(config);
        } catch (ConfigException e) {
            System.err.println("ternmq: " + e.getMessage());
            return 2;
        } catch (RuntimeException e) {
            System.err.println("ternmq: " + e.getMessage());
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Running running = new Running(config, broker, stopped);
        onSighup(() -> running.current().reload());
        Stop stop = new Stop(running, config.operations().shutdownTimeoutSeconds(), stopped);
        // SIGTERM and SIGINT caught, so that a requested stop exits 0; where they cannot be, the JVM's own handling
        // runs this hook and exits 143 or 130
        Runtime.getRuntime().addShutdownHook(new Thread(stop::run, "ternmq-shutdown-hook"));
        onSignal("TERM", () -> stop.signalled("TERM", 15));
        onSignal("INT", () -> stop.signalled("INT", 2));
        stopped.await();
        return running.exitStatus();
    }

    /**
     * The broker this process runs now: in a cluster it is restarted on its data (closed and started again, in this
     * process) when its node merged back into its cluster after the other members declared it dead; a stop ends it.
     */
    static final class Running {
        private final BrokerConfig config;
        private final CountDownLatch stopped;
        private Broker broker;
        private boolean stopping;
        private int exitStatus;

        Running(BrokerConfig config, Broker broker, CountDownLatch stopped) {
            this.config = config;
            this.broker = broker;
            this.stopped = stopped;
            broker.onMergedBack(this::restart);
        }

        synchronized Broker current() {
            return broker;
        }

        synchronized int exitStatus() {
            return exitStatus;
        }

        /** Closes the broker for good (once; later calls wait for the first). */
        synchronized void stop() {
            if (!stopping) {
                stopping = true;
                broker.close();
            }
        }

        /** On a thread of its own, never Hazelcast's: closing the broker stops Hazelcast. */
        private synchronized void restart() {
            if (stopping) {
                return;
            }
            broker.close();
            try {
                broker = Broker.start(config);
                broker.onMergedBack(this::restart);
                LoggerFactory.getLogger(Main.class).info("Restarted on its data after merging back into the cluster");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail(e);
            } catch (RuntimeException e) {
                fail(e);
            }
        }

        private void fail(Exception e) {
            LoggerFactory.getLogger(Main.class).error("Restarting after merging back into the cluster failed: {}",
                    e.toString());
            System.err.println("ternmq: restarting after merging back into the cluster failed: " + e.getMessage());
            stopping = true;
            exitStatus = 1;
            stopped.countDown();
        }
    }

    /**
     * A stop on a signal: the first one closes the broker in order (readiness down, listeners, clients, store) and
     * lets {@link #call} return 0, or exits 1 when that takes longer than {@code shutdown_timeout}; a second signal
     * exits at once, with the status the JVM itself would give (128 + signal number).
     */
    static final class Stop {
        private final Running running;
        private final int timeoutSeconds;
        private final CountDownLatch stopped;
        private final java.util.concurrent.atomic.AtomicInteger signals = new java.util.concurrent.atomic.AtomicInteger();

        Stop(Running running, int timeoutSeconds, CountDownLatch stopped) {
            this.running = running;
            this.timeoutSeconds = timeoutSeconds;
            this.stopped = stopped;
        }

        /** Runs on a thread of its own for each signal (the JVM's signal thread must not wait). */
        void signalled(String name, int number) {
            if (signals.getAndIncrement() > 0) {
                LoggerFactory.getLogger(Main.class).warn("SIG{} again: exiting at once", name);
                Runtime.getRuntime().halt(128 + number);
            }
            LoggerFactory.getLogger(Main.class).info("SIG{}: stopping (at most {} s; another signal exits at once)",
                    name, timeoutSeconds);
            Thread watchdog = new Thread(() -> {
                try {
                    if (!stopped.await(timeoutSeconds, java.util.concurrent.TimeUnit.SECONDS)) {
                        LoggerFactory.getLogger(Main.class).error("Stopping took longer than shutdown_timeout ({} s):"
                                + " exiting now", timeoutSeconds);
                        Runtime.getRuntime().halt(1);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "ternmq-shutdown-timeout");
            watchdog.setDaemon(true);
            watchdog.start();
            run();
        }

        void run() {
            running.stop();
            stopped.countDown();
        }
    }

    BrokerConfig buildConfig() {
        BrokerConfig.Builder b = configFile == null ? BrokerConfig.builder() : ConfigFileParser.parse(configFile);
        if (port != null || bind != null) {
            if (port != null && (port < 0 || port > 65535)) {
                throw new ConfigException("--port: " + port + " is out of range 0..65535");
            }
            List<ListenerConfig> ls = b.listeners();
            // the first listener keeps its TLS and authentication settings; only where it listens changes
            ListenerConfig first = ls.isEmpty() ? b.defaultListener() : ls.get(0);
            ListenerConfig changed = first.withAddress(bind != null ? bind : first.bindAddress(),
                    port != null ? port : first.port());
            if (ls.isEmpty()) {
                ls.add(changed);
            } else {
                ls.set(0, changed);
            }
        }
        if (dataDir != null) {
            b.dataDir(dataDir);
        }
        return b.build();
    }

    /**
     * Reloads certificates, password and ACL files on SIGHUP, as Mosquitto does. Uses sun.misc.Signal where the JDK
     * has it (through reflection: it is not a supported API); without it, file watching alone reloads.
     */
    static boolean onSighup(Runnable reload) {
        return onSignal("HUP", reload);
    }

    /**
     * Runs {@code action} on a thread of its own each time the process gets the signal (HUP, TERM, INT).
     *
     * @return whether the handler was installed
     */
    static boolean onSignal(String name, Runnable action) {
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            Object hup = signalClass.getConstructor(String.class).newInstance(name);
            Object handler = java.lang.reflect.Proxy.newProxyInstance(Main.class.getClassLoader(),
                    new Class<?>[] {handlerClass}, (proxy, method, args) -> switch (method.getName()) {
                        case "handle" -> {
                            Thread t = new Thread(action, "ternmq-sig" + name.toLowerCase(java.util.Locale.ROOT));
                            t.setDaemon(true);
                            t.start();
                            yield null;
                        }
                        case "hashCode" -> System.identityHashCode(proxy);
                        case "equals" -> proxy == args[0];
                        case "toString" -> "ternmq SIG" + name + " handler";
                        default -> null;
                    });
            Object previous = signalClass.getMethod("handle", signalClass, handlerClass).invoke(null, hup, handler);
            if (previous == handlerClass.getField("SIG_IGN").get(null)) {
                // the JVM keeps an ignored signal ignored (SIGHUP under nohup, SIGINT in a background job): no
                // handler was installed
                LoggerFactory.getLogger(Main.class).info("SIG{} is ignored by this process{}", name,
                        name.equals("HUP") ? " (nohup?): no reload on SIGHUP; changed files are still picked up" : "");
                return false;
            }
            return true;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            LoggerFactory.getLogger(Main.class).info("No SIG{} handler ({}){}", name, e.toString(),
                    name.equals("HUP") ? "; changed files are still picked up" : "");
            return false;
        }
    }

    private static void setLogLevel(LogLevel level) {
        if (LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME) instanceof ch.qos.logback.classic.Logger root) {
            root.setLevel(Level.toLevel(level.name(), Level.INFO));
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"TernMQ " + BuildInfo.version() + " (commit " + BuildInfo.commit() + ")"};
        }
    }
}
