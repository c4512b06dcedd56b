package io.ternmq.broker;

import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.protocol.BrokerContext;
import io.ternmq.broker.retain.MemoryRetainedStore;
import io.ternmq.broker.routing.Router;
import io.ternmq.broker.routing.SharedGroup;
import io.ternmq.broker.routing.SubscriptionTree;
import io.ternmq.broker.security.AnonymousAuthenticator;
import io.ternmq.broker.security.Authenticator;
import io.ternmq.broker.security.ConnectionLimit;
import io.ternmq.broker.security.EnhancedAuthenticator;
import io.ternmq.broker.session.LocalSessionRegistry;
import io.ternmq.broker.session.SessionLimits;
import io.ternmq.broker.session.SessionRegistry;
import io.ternmq.broker.transport.MqttServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A running broker: wires routing, sessions and retained messages to the listeners. Embeddable; tests use it. */
public final class Broker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Broker.class);

    private final BrokerConfig config;
    private final BrokerMetrics metrics = new BrokerMetrics();
    private final Router router;
    private final SessionRegistry sessions;
    private final MqttServer server;
    private List<InetSocketAddress> addresses = List.of();

    private Broker(BrokerConfig config, Authenticator authenticator, Collection<EnhancedAuthenticator> enhanced) {
        this.config = config;
        this.router = new Router(new SubscriptionTree(SharedGroup.Strategy.of(config.sharedSubscriptionStrategy()),
                config.maxQueuedMessages()), new MemoryRetainedStore(), metrics);
        this.sessions = new LocalSessionRegistry(
                new SessionLimits(config.maxQueuedMessages(), config.queueQos0Messages()), metrics,
                router, this::publishWill);
        Map<String, EnhancedAuthenticator> byMethod = new HashMap<>();
        for (EnhancedAuthenticator e : enhanced) {
            byMethod.put(e.method(), e);
        }
        this.server = new MqttServer(config, new BrokerContext(config, sessions, router, metrics, authenticator,
                Map.copyOf(byMethod), new ConnectionLimit(config.maxConnections())));
    }

    /** Creates the data directory, binds every listener and returns the running broker. */
    public static Broker start(BrokerConfig config) throws InterruptedException {
        return start(config, new AnonymousAuthenticator());
    }

    /** Starts with an authenticator of the embedder's choice. */
    public static Broker start(BrokerConfig config, Authenticator authenticator) throws InterruptedException {
        return start(config, authenticator, List.of());
    }

    /** Starts with an authenticator and MQTT 5 enhanced authentication methods of the embedder's choice. */
    public static Broker start(BrokerConfig config, Authenticator authenticator,
                               Collection<EnhancedAuthenticator> enhancedAuthenticators) throws InterruptedException {
        long t0 = System.nanoTime();
        try {
            Files.createDirectories(config.dataDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create data directory " + config.dataDir() + ": " + e, e);
        }
        Broker broker = new Broker(config, authenticator, enhancedAuthenticators);
        broker.addresses = broker.server.start();
        LOG.info("TernMQ started in {} ms (data directory {})", (System.nanoTime() - t0) / 1_000_000,
                config.dataDir().toAbsolutePath().normalize());
        return broker;
    }

    private void publishWill(io.ternmq.broker.message.Message will) {
        metrics.willsPublished.increment();
        router.publish(will);
    }

    public List<InetSocketAddress> addresses() {
        return addresses;
    }

    /** The port of the first listener (handy when it was configured as 0). */
    public int port() {
        return addresses.get(0).getPort();
    }

    public BrokerConfig config() {
        return config;
    }

    public BrokerMetrics metrics() {
        return metrics;
    }

    public SessionRegistry sessions() {
        return sessions;
    }

    public Router router() {
        return router;
    }

    @Override
    public void close() {
        server.close();
        LOG.info("TernMQ stopped");
    }
}
