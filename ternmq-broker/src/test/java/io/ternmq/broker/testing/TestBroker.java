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

/** A real broker on 127.0.0.1 and a random port, with its own temporary data directory. */
public final class TestBroker implements AutoCloseable {
    private final Broker broker;

    private TestBroker(Broker broker) {
        this.broker = broker;
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
            Path dataDir = Files.createTempDirectory("ternmq-test-");
            BrokerConfig.Builder b = BrokerConfig.builder().listener("127.0.0.1", 0).dataDir(dataDir);
            customizer.accept(b);
            return new TestBroker(Broker.start(b.build(), authenticator, enhanced));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
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
    }
}
