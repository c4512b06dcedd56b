package io.ternmq.broker;

import io.ternmq.broker.admin.AdminServer;
import io.ternmq.broker.admin.ClusterListings;
import io.ternmq.broker.admin.PrometheusMetrics;
import io.ternmq.broker.cluster.ClusterNode;
import io.ternmq.broker.cluster.ClusterSessionRegistry;
import io.ternmq.broker.bridge.Bridges;
import io.ternmq.broker.config.AdminListenerConfig;
import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.config.QueueSettings;
import io.ternmq.broker.config.StorageSettings;
import io.ternmq.broker.extension.Extensions;
import io.ternmq.broker.extension.Interceptors;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.protocol.BrokerContext;
import io.ternmq.broker.retain.MemoryRetainedStore;
import io.ternmq.broker.routing.LocalRoutes;
import io.ternmq.broker.routing.Router;
import io.ternmq.broker.routing.SharedGroup;
import io.ternmq.broker.routing.SubscriptionTree;
import io.ternmq.broker.security.Authenticator;
import io.ternmq.broker.security.BrokerSecurity;
import io.ternmq.broker.security.ConnectionLimit;
import io.ternmq.broker.security.EnhancedAuthenticator;
import io.ternmq.broker.security.ListenerSecurity;
import io.ternmq.broker.security.SecurityProvider;
import io.ternmq.broker.session.LocalSessionRegistry;
import io.ternmq.broker.store.QueueLimits;
import io.ternmq.broker.session.SessionRegistry;
import io.ternmq.broker.service.BrokerService;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.session.Session;
import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.store.MemoryStore;
import io.ternmq.broker.store.Recovered;
import io.ternmq.broker.store.RocksStore;
import io.ternmq.broker.store.SessionRecord;
import io.ternmq.broker.store.Store;
import io.ternmq.broker.sys.SysTree;
import io.ternmq.broker.service.DelayedPublishes;
import io.ternmq.broker.transport.MqttServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.util.Collection;
import java.util.List;

/** A running broker: wires routing, sessions and retained messages to the listeners. Embeddable; tests use it. */
public final class Broker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Broker.class);

    private final BrokerConfig config;
    private final BrokerMetrics metrics = new BrokerMetrics();
    private final Router router;
    private final LocalSessionRegistry sessions;
    /** In a cluster, the registry that moves sessions between nodes; null on a single node. */
    private final ClusterSessionRegistry clusterSessions;
    private final BrokerService service;
    private final MqttServer server;
    private final Store store;
    private final BrokerSecurity security;
    /** This node in its cluster; null on a single node (cluster.enabled false: nothing of it is loaded). */
    private ClusterNode cluster;
    /** The extensions (none without extensions_dir or with nothing in it): loaded at once, started by start(). */
    private final Extensions extensions;
    private volatile List<InetSocketAddress> addresses = List.of();
    /** The $SYS tree's updates; null with sys_interval 0. */
    private SysTree sysTree;
    /** The admin listener and the metrics it serves; null without protocol http_api. */
    private PrometheusMetrics prometheus;
    private AdminServer admin;
    /** What the admin API lists (and, in a cluster, answers other nodes); null without admin listener or cluster. */
    private ClusterListings listings;
    private volatile boolean recovered;
    /** The bridges (connection sections): their session ids reserved at construction, started after the listeners. */
    private final Bridges bridges;
    /** delayed_publish's timer and its messages; null without it. */
    private final DelayedPublishes delayed;
    /** Set first thing by {@link #close}: readiness turns down before anything stops. */
    private final java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();

    /** @param authenticator the embedder's, for every listener; null: each listener's configured security */
    private Broker(BrokerConfig config, Authenticator authenticator, Collection<EnhancedAuthenticator> enhanced) {
        this.config = config;
        // loaded before the security is built: their jars may carry security providers a listener names
        this.extensions = Extensions.load(config.extensions().dir(), config.extensions().slowCallMillis());
        try {
            this.security = authenticator == null
                    ? BrokerSecurity.fromConfig(config, metrics, securityProviders(extensions))
                    : BrokerSecurity.fixed(config, authenticator, enhanced);
        } catch (RuntimeException e) {
            extensions.close();
            throw e;
        }
        this.store = openStore(config.storage());
        QueueSettings queues = config.queues();
        QueueLimits limits = new QueueLimits(queues.maxQueuedMessages(), queues.maxQueuedBytes(),
                queues.queueQos0Messages(), queues.overflowPolicy() == QueueSettings.OverflowPolicy.DROP_OLDEST,
                queues.maxInflightMessages());
        this.router = new Router(new SubscriptionTree(queues.sharedSubscriptionStrategy(), queues.maxQueuedMessages()),
                new MemoryRetainedStore(), store, limits, config.retained().maxCount(), config.retained().maxBytes(),
                metrics, config.cluster().enabled() ? new LocalRoutes() : null);
        // the registry hands wills whose time has come to the service, which is made with the registry
        this.sessions = new LocalSessionRegistry(limits, metrics, router, will -> service().publishWill(will), store);
        // in a cluster, sessions follow their clients between nodes; the local registry still holds this node's
        this.clusterSessions = config.cluster().enabled() ? new ClusterSessionRegistry(sessions, metrics,
                this::nextLoop) : null;
        this.service = new BrokerService(clusterSessions != null ? clusterSessions : sessions, router, metrics);
        // before recovery: a bridge's stored session comes back with the bridge's own queue bounds
        this.bridges = Bridges.reserve(config.bridges(), sessions, service, config.storage().dataDir(), metrics);
        this.delayed = config.topics().delayedPublish()
                ? new DelayedPublishes(store, router, metrics, config.topics().maxDelayedMessages()) : null;
        service.enable(config.topics(), delayed);
        ConnectionLimit connectionLimit = new ConnectionLimit(config.security().maxConnections());
        // one context per listener: its authenticator, enhanced methods and authorizer
        this.server = new MqttServer(config, metrics, security, i -> {
            ListenerSecurity ls = security.listener(i);
            return new BrokerContext(config, service, metrics, ls.authenticator(),
                    ls.enhancedAuthenticators(), connectionLimit, ls.authorizer());
        });
    }

    /**
     * Creates the data directory, binds every listener and returns the running broker. Each listener authenticates
     * and authorizes as configured (allow_anonymous, password_file, acl_file, plugins).
     */
    public static Broker start(BrokerConfig config) throws InterruptedException {
        return start(config, null, List.of());
    }

    /** Starts with an authenticator of the embedder's choice. */
    public static Broker start(BrokerConfig config, Authenticator authenticator) throws InterruptedException {
        return start(config, authenticator, List.of());
    }

    /**
     * Starts with an authenticator and MQTT 5 enhanced authentication methods of the embedder's choice, used on every
     * listener instead of the configured ones (null: the configured ones, as {@link #start(BrokerConfig)}).
     */
    public static Broker start(BrokerConfig config, Authenticator authenticator,
                               Collection<EnhancedAuthenticator> enhancedAuthenticators) throws InterruptedException {
        long t0 = System.nanoTime();
        try {
            Files.createDirectories(config.storage().dataDir());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create data directory " + config.storage().dataDir() + ": " + e, e);
        }
        Broker broker = new Broker(config, authenticator, enhancedAuthenticators);
        try {
            AdminListenerConfig adminConfig = config.operations().adminListener();
            if (adminConfig != null) {
                // before recovery: liveness answers during a long one, readiness once it is done
                broker.prometheus = new PrometheusMetrics(broker.metrics, broker.service, broker.store);
                broker.listings = broker.listings(config);
                broker.admin = AdminServer.start(adminConfig,
                        broker.security.passwordFileAuthenticator(adminConfig.passwordFile()), broker.prometheus,
                        broker::isReady, broker.service, broker.metrics,
                        config.security().authFailureDelayMillis(),
                        new AdminServer.Hooks(broker::reload,
                                broker.security.watcher(), config.transport().connectTimeoutSeconds() * 1000,
                                broker.listings));
            }
            broker.recover();
            broker.recovered = true;
            if (config.cluster().enabled()) {
                broker.cluster = ClusterNode.start(config, broker.router, broker.metrics,
                        broker.clusterSessions, broker.store, new ClusterNode.LinkLoop(broker.server.nextLoop(),
                                broker.server.serverChannelClass(), broker.server.socketChannelClass()));
                // every node answers the admin API's questions of the others, whether it has an admin listener or not
                if (broker.listings == null) {
                    broker.listings = broker.listings(config);
                }
                broker.listings.clusterStarted(broker.cluster.queries(), broker.cluster.sharedSets());
            }
            // before the first listener opens: the chains are fixed from then on
            broker.extensions.start(broker.service);
            Interceptors interceptors = broker.extensions.interceptors();
            broker.service.install(interceptors);
            if (interceptors.lifecycle != null) {
                broker.sessions.onExpired(interceptors::sessionExpired);
            }
            broker.addresses = broker.server.start();
            if (broker.prometheus != null) {
                broker.prometheus.listenersStarted(broker.server, broker.addresses);
            }
            if (broker.listings != null) {
                broker.listings.listenersStarted(broker.server, broker.addresses);
            }
            broker.bridges.start(broker.server, broker.service, broker.metrics, config.mqtt().maxPacketSize(),
                    broker.security.listener(0).authorizer());
            int sysInterval = config.operations().sysIntervalSeconds();
            if (sysInterval > 0) {
                broker.sysTree = SysTree.start(broker.service, broker.metrics, sysInterval);
            }
        } catch (RuntimeException | InterruptedException e) {
            broker.close();
            throw e;
        }
        LOG.info("TernMQ started in {} ms (data directory {})", (System.nanoTime() - t0) / 1_000_000,
                config.storage().dataDir().toAbsolutePath().normalize());
        return broker;
    }

    /** Made once: for the admin listener, or (without one) for the other nodes' questions in a cluster. */
    private ClusterListings listings(BrokerConfig config) {
        // what the admin listener's history and the store_sync alarm read; Prometheus adds its own observer
        store.observeSyncs(metrics.storeSyncs::record);
        return new ClusterListings(service, metrics, ClusterNode.nodeId(config.storage().dataDir()),
                () -> addresses.stream().map(a -> a.getAddress().getHostAddress() + ":" + a.getPort()).toList(),
                () -> admin == null ? null : admin.address().getAddress().getHostAddress() + ":"
                        + admin.address().getPort(), config.security().maxConnections());
    }

    /**
     * The security providers on the class path (built in, and ServiceLoader's), then those the extensions' jars
     * carry; a name may be taken once.
     */
    private static List<SecurityProvider> securityProviders(Extensions extensions) {
        List<SecurityProvider> providers = new java.util.ArrayList<>(BrokerSecurity.classPathProviders());
        java.util.Set<String> names = new java.util.HashSet<>();
        providers.forEach(p -> names.add(p.name()));
        for (SecurityProvider p : extensions.securityProviders()) {
            if (!names.add(p.name())) {
                throw new io.ternmq.broker.config.ConfigException("an extension's security provider is named '"
                        + p.name() + "', a name another provider has");
            }
            providers.add(p);
        }
        return providers;
    }

    private static Store openStore(StorageSettings storage) {
        return switch (storage.type()) {
            case MEMORY -> new MemoryStore();
            case ROCKSDB -> new RocksStore(storage.dataDir().resolve("store"), storage.durability(),
                    storage.syncIntervalMillis());
        };
    }

    /** Brings back what the store held: sessions (offline), their subscriptions, retained and held messages. */
    private void recover() {
        long t0 = System.nanoTime();
        Recovered r = store.recover();
        long read = System.nanoTime();
        for (String d : r.dropped) {
            LOG.warn("Store: left out an unreadable record: {}", d);
        }
        long queued = 0;
        for (Recovered.StoredSession stored : r.sessions) {
            Session s = sessions.restore(capExpiry(stored), server.nextLoop());
            for (Subscription sub : stored.subscriptions()) {
                router.subscribe(s, sub);
            }
            queued += stored.queuedCount();
        }
        long restored = System.nanoTime();
        for (Message m : r.retained) {
            router.retained().put(m);
        }
        if (delayed != null) {
            delayed.recovered(r.delayed);
        } else if (!r.delayed.isEmpty()) {
            LOG.warn("Store: {} delayed messages wait, but delayed_publish is false: they stay stored, unreleased",
                    r.delayed.size());
        }
        for (Recovered.HeldMessage h : r.held) {
            SharedGroup group = router.subscriptions().sharedGroup(h.group());
            if (group == null) {
                // no member subscribes any more: the message has nowhere to go
                store.submit(h.discard());
            } else {
                group.recovered(h.seq(), h.messageId(), h.message());
            }
        }
        if (store.survivesRestart()) {
            LOG.info("Recovered {} sessions, {} queued messages, {} retained and {} held messages in {} ms "
                            + "(reading {} ms, sessions {} ms, retained {} ms){}", r.sessions.size(), queued,
                    r.retained.size(), r.held.size(), (System.nanoTime() - t0) / 1_000_000,
                    (read - t0) / 1_000_000, (restored - read) / 1_000_000, (System.nanoTime() - restored) / 1_000_000,
                    r.leftoverOwners == 0 ? "" : "; purging what " + r.leftoverOwners + " ended sessions left");
        }
    }

    /** The stored session under today's persistent_client_expiration, which may be shorter than when it was stored. */
    private Recovered.StoredSession capExpiry(Recovered.StoredSession stored) {
        SessionRecord r = stored.record();
        long expiry = config.sessions().capExpiry(r.expiryInterval());
        if (expiry == r.expiryInterval()) {
            return stored;
        }
        return stored.withRecord(r.withExpiryInterval(expiry));
    }

    public Store store() {
        return store;
    }

    /** An event loop for a session made without a connection (restored, or adopted from a dead node). */
    private io.netty.channel.EventLoop nextLoop() {
        return server.nextLoop();
    }

    /**
     * Ready for clients: the store is recovered, every listener accepts connections and the broker is not stopping
     * (/health/ready).
     */
    public boolean isReady() {
        return recovered && !stopping.get() && server.listening();
    }

    /** The admin listener (protocol http_api), or null without one. */
    public AdminServer admin() {
        return admin;
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

    /** What the broker does, for every entry point (admin API, bridges, extensions) besides MQTT connections. */
    public BrokerService service() {
        return service;
    }

    public SessionRegistry sessions() {
        return sessions;
    }

    public Router router() {
        return router;
    }

    /**
     * Re-reads certificates, keys, password and ACL files now, as SIGHUP does; connected clients stay. A file that
     * cannot be loaded keeps its previous version.
     *
     * @return what each file did
     */
    public List<io.ternmq.broker.security.ReloadOutcome> reload() {
        List<io.ternmq.broker.security.ReloadOutcome> done = new java.util.ArrayList<>(security.reload());
        done.addAll(server.reloadTls());
        AdminServer a = admin;
        if (a != null) {
            done.addAll(a.reloadTls());
        }
        return done;
    }

    public BrokerSecurity security() {
        return security;
    }

    /** The running bridges. */
    public Bridges bridges() {
        return bridges;
    }

    public MqttServer server() {
        return server;
    }

    /** The extensions this broker runs. */
    public Extensions extensions() {
        return extensions;
    }

    /**
     * In a cluster: what restarts this broker on its data once its node merged back into its cluster after the
     * other members declared it dead (the command line's {@code Main} does); until then the node serves nobody.
     * Nothing on a single node.
     */
    public void onMergedBack(Runnable restart) {
        if (cluster != null) {
            cluster.onMergedBack(restart);
        }
    }

    /** This node in its cluster, or null on a single node. */
    public ClusterNode cluster() {
        return cluster;
    }

    /**
     * Stops in this order: readiness turns down (/health/ready answers 503 while the rest happens), the listeners
     * stop accepting, connected clients are told (MQTT 5: DISCONNECT 0x8B) and closed without publishing their wills
     * (a persistent session keeps its will for after the restart), the admin listener closes, the store is synced
     * and closed. A second call returns at once.
     */
    @Override
    public void close() {
        if (!stopping.compareAndSet(false, true)) {
            return;
        }
        if (sysTree != null) {
            sysTree.close();
        }
        bridges.close();
        server.close();
        if (admin != null) {
            admin.close();
        }
        if (prometheus != null) {
            prometheus.close();
        }
        if (cluster != null) {
            cluster.close();
        }
        server.stopLoops();
        security.close();
        // after the security: the class loaders it closes may hold an extension's security provider
        extensions.close();
        if (delayed != null) {
            delayed.close();
        }
        store.close();
        LOG.info("TernMQ stopped");
    }
}
