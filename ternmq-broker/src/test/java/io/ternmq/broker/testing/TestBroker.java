package io.ternmq.broker.testing;

import io.ternmq.broker.Broker;
import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.security.AnonymousAuthenticator;
import io.ternmq.broker.security.Authenticator;
import io.ternmq.broker.security.EnhancedAuthenticator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * A real broker on 127.0.0.1 and a random port, with its own temporary data directory (deleted on close). It can be
 * restarted on the same port and data directory, to test what survives.
 */
public final class TestBroker implements AutoCloseable {
    private final Path dataDir;
    private final Consumer<BrokerConfig.Builder> customizer;
    private final Authenticator authenticator;
    private final List<EnhancedAuthenticator> enhanced;
    private Broker broker;

    private TestBroker(Path dataDir, Consumer<BrokerConfig.Builder> customizer, Authenticator authenticator,
                       List<EnhancedAuthenticator> enhanced) {
        this.dataDir = dataDir;
        this.customizer = customizer;
        this.authenticator = authenticator;
        this.enhanced = enhanced;
    }

    public static TestBroker start() {
        return start(b -> { });
    }

    public static TestBroker start(Consumer<BrokerConfig.Builder> customizer) {
        return start(customizer, new AnonymousAuthenticator());
    }

    public static TestBroker start(Consumer<BrokerConfig.Builder> customizer, Authenticator authenticator) {
        return start(customizer, authenticator, List.of());
    }

    public static TestBroker start(Consumer<BrokerConfig.Builder> customizer, Authenticator authenticator,
                                   List<EnhancedAuthenticator> enhanced) {
        try {
            TestBroker t = new TestBroker(Files.createTempDirectory("ternmq-test-"), customizer, authenticator,
                    enhanced);
            t.startOn(0);
            return t;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void startOn(int port) {
        // no auth failure delay: protocol tests refuse credentials on purpose (TransportLimitsTest covers the delay)
        // two event loops whatever the machine (the default is one on 2 cores): deliveries and session takeovers
        // cross loops, as they do on every multi-core server
        // no $SYS unless a test asks (SysTreeTest): tests count the retained messages and packets clients cause
        BrokerConfig.Builder b = BrokerConfig.builder().listener("127.0.0.1", port).dataDir(dataDir)
                .authFailureDelayMillis(0).ioThreads(2).sysIntervalSeconds(0);
        customizer.accept(b);
        if (port != 0) {
            b.clearListeners().listener("127.0.0.1", port);
        }
        try {
            broker = Broker.start(b.build(), authenticator, enhanced);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Stops the broker and starts a new one on the same port and data directory. */
    public void restart() {
        int port = port();
        broker.close();
        startOn(port);
    }

    public Path dataDir() {
        return dataDir;
    }

    public Broker broker() {
        return broker;
    }

    public int port() {
        return broker.port();
    }

    /** "tcp://127.0.0.1:port" for Paho. */
    public String uri() {
        return "tcp://127.0.0.1:" + port();
    }

    @Override
    public void close() {
        broker.close();
        try (var files = Files.walk(dataDir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a leftover temporary directory is harmless
        }
    }
}
