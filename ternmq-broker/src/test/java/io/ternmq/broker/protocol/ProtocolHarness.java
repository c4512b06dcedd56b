package io.ternmq.broker.protocol;

import io.ternmq.broker.config.SharedSubscriptionStrategy;
import io.netty.channel.DefaultEventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.retain.MemoryRetainedStore;
import io.ternmq.broker.routing.Router;
import io.ternmq.broker.routing.SharedGroup;
import io.ternmq.broker.routing.SubscriptionTree;
import io.ternmq.broker.security.AnonymousAuthenticator;
import io.ternmq.broker.security.Authenticator;
import io.ternmq.broker.security.Authorizer;
import io.ternmq.broker.security.CertificateInfo;
import io.ternmq.broker.security.ConnectionLimit;
import io.ternmq.broker.service.BrokerService;
import io.ternmq.broker.session.LocalSessionRegistry;
import io.ternmq.broker.store.QueueLimits;
import io.ternmq.broker.store.MemoryStore;
import io.ternmq.broker.store.Store;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttVersion;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

import static org.awaitility.Awaitility.await;

/**
 * The protocol without sockets: the broker's real core (routing, sessions, a memory store, the broker service) and
 * connections whose network side is a {@link FakeChannel} on an event loop of the test's own. Flow tests send packets
 * in and read what the broker writes back.
 */
public final class ProtocolHarness implements AutoCloseable {
    public final DefaultEventLoop loop = new DefaultEventLoop();
    final BrokerConfig config;
    public final BrokerMetrics metrics = new BrokerMetrics();
    public final BrokerService service;
    /** The sessions as the broker keeps them (the cluster drives handovers through these). */
    public final LocalSessionRegistry sessions;
    final BrokerContext context;
    private final Store store;

    public ProtocolHarness(Consumer<BrokerConfig.Builder> customizer) {
        this(customizer, new AnonymousAuthenticator(), Authorizer.ALLOW_ALL);
    }

    ProtocolHarness(Consumer<BrokerConfig.Builder> customizer, Authenticator authenticator, Authorizer authorizer) {
        this(customizer, authenticator, authorizer, new MemoryStore());
    }

    /** With {@code store} instead of a memory store; closed with the harness. */
    public ProtocolHarness(Consumer<BrokerConfig.Builder> customizer, Store store) {
        this(customizer, new AnonymousAuthenticator(), Authorizer.ALLOW_ALL, store);
    }

    private ProtocolHarness(Consumer<BrokerConfig.Builder> customizer, Authenticator authenticator,
                            Authorizer authorizer, Store store) {
        BrokerConfig.Builder b = BrokerConfig.builder().storageType("memory");
        customizer.accept(b);
        config = b.build();
        this.store = store;
        QueueLimits limits = new QueueLimits(config.queues().maxQueuedMessages(), config.queues().maxQueuedBytes(),
                config.queues().queueQos0Messages(), false, config.queues().maxInflightMessages());
        Router router = new Router(new SubscriptionTree(SharedSubscriptionStrategy.ROUND_ROBIN, 1000),
                new MemoryRetainedStore(), store, limits, -1, -1, metrics);
        BrokerService[] holder = new BrokerService[1];
        sessions = new LocalSessionRegistry(limits, metrics, router, will -> holder[0].publishWill(will), store);
        service = new BrokerService(sessions, router, metrics);
        holder[0] = service;
        context = new BrokerContext(config, service, metrics, authenticator, Map.of(),
                new ConnectionLimit(config.security().maxConnections()), authorizer);
    }

    /** A new connection, opened as the transport opens one. */
    public FakeChannel open() {
        FakeChannel ch = new FakeChannel(loop);
        onLoop(() -> {
            ch.connection = new MqttConnection(ch, context);
            ch.connection.onOpen();
        });
        return ch;
    }

    void onLoop(Runnable r) {
        try {
            loop.submit(r).get(5, TimeUnit.SECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        store.close();
    }

    /** The network side of one connection: records what the protocol writes; closes as the real adapter does. */
    public static final class FakeChannel implements ClientChannel {
        private final EventExecutor loop;
        MqttConnection connection;
        private final List<MqttPacket> written = new ArrayList<>();
        private int read;
        volatile boolean closed;
        volatile boolean autoRead = true;
        volatile MqttVersion version;
        CertificateInfo certificate;

        FakeChannel(EventExecutor loop) {
            this.loop = loop;
        }

        /** Hands a packet to the connection, as the decoder would. */
        public FakeChannel send(MqttPacket packet) {
            run(() -> connection.onPacket(packet));
            return this;
        }

        public void run(Runnable r) {
            try {
                loop.submit(r).get(5, TimeUnit.SECONDS);
            } catch (InterruptedException | ExecutionException | TimeoutException e) {
                throw new AssertionError(e);
            }
        }

        /** The next packet the broker wrote, waiting up to 5 s. */
        public MqttPacket next() {
            if (available() == 0) { // Awaitility's first poll comes after 100 ms even when nothing is missing
                await().atMost(Duration.ofSeconds(5)).until(() -> available() > 0);
            }
            synchronized (written) {
                return written.get(read++);
            }
        }

        @SuppressWarnings("unchecked")
        public <T extends MqttPacket> T next(Class<T> type) {
            MqttPacket p = next();
            if (!type.isInstance(p)) {
                throw new AssertionError("expected " + type.getSimpleName() + " but got " + p);
            }
            return (T) p;
        }

        /** Packets written and not yet read by the test. */
        int available() {
            synchronized (written) {
                return written.size() - read;
            }
        }

        /** Waits until the connection has closed itself. */
        public void awaitClosed() {
            await().atMost(Duration.ofSeconds(5)).until(() -> closed);
        }

        @Override
        public EventExecutor executor() {
            return loop;
        }

        @Override
        public void write(MqttPacket packet) {
            if (!closed) {
                synchronized (written) {
                    written.add(packet);
                }
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                loop.execute(connection::onClosed);
            }
        }

        @Override
        public void setProtocolVersion(MqttVersion version) {
            this.version = version;
        }

        @Override
        public void setAutoRead(boolean autoRead) {
            this.autoRead = autoRead;
        }

        @Override
        public String remoteAddress() {
            return "192.0.2.1:40000";
        }

        @Override
        public CertificateInfo certificate() {
            return certificate;
        }

        @Override
        public String listenerName() {
            return "0.0.0.0:1883";
        }
    }
}
