package io.ternmq.broker.admin;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.prometheus.metrics.core.metrics.Info;
import io.ternmq.broker.config.ListenerConfig;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.metrics.BuildInfo;
import io.ternmq.broker.service.BrokerCounts;
import io.ternmq.broker.service.BrokerService;
import io.ternmq.broker.store.Store;
import io.ternmq.broker.transport.MqttServer;
import io.ternmq.codec.PacketType;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;

/**
 * The broker's metrics in Prometheus' text format: a Micrometer registry whose meters read what the broker counts
 * anyway ({@link BrokerMetrics}, {@link BrokerService#counts()}, the listeners) when scraped, through
 * {@link FunctionCounter}s and {@link Gauge}s. Nothing is counted per message for it; the one meter written to is
 * {@code ternmq_store_sync_seconds}, once per synced group of writes on the store's writer thread. Names are
 * {@code ternmq_} plus docs/operations.md's list; no client id or topic labels.
 */
public final class PrometheusMetrics implements AutoCloseable {
    /** Prometheus' text format, version 0.0.4: what every Prometheus and promtool read. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final long COUNTS_VALID_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final BrokerService service;
    private final JvmGcMetrics gc = new JvmGcMetrics();
    /** One pass over the sessions serves every gauge of a scrape. */
    private volatile TimedCounts counts;

    private record TimedCounts(BrokerCounts counts, long atNanos) {
    }

    public PrometheusMetrics(BrokerMetrics m, BrokerService service, Store store) {
        this.service = service;
        // two of Micrometer's names break Prometheus' conventions (promtool check metrics says so): the CPU time in
        // nanoseconds is given in seconds instead (below), and the CPU count (a "_count" no histogram has) is left out
        registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")
                || id.getName().equals("system.cpu.count")));
        // an info metric, not a gauge: Micrometer would strip the _info suffix
        Info.builder().name("ternmq_build_info").help("The version and git commit this broker was built from")
                .labelNames("version", "commit").register(registry.getPrometheusRegistry())
                .setLabelValues(BuildInfo.version(), BuildInfo.commit());

        counter("ternmq.connections.accepted", "TCP connections accepted", m.connectionsAccepted);
        FunctionCounter.builder("ternmq.connections.refused", m, x -> x.listenerConnectionsRefused.sum()
                        + x.connectionsRateLimited.sum() + x.connectsRefused.sum())
                .description("Connections refused: at accept (max_connections, connection_rate_per_address) or by "
                        + "CONNACK").register(registry);
        gauge("ternmq.clients.connected", "Clients connected (CONNACK 0 sent)", s -> m.clientsConnected.get());
        gauge("ternmq.clients.maximum", "The most clients connected at once since the start",
                s -> m.clientsMaximum.get());
        gauge("ternmq.sessions", "Sessions", s -> counts().sessionsOnline(), "state", "online");
        gauge("ternmq.sessions", "Sessions", s -> counts().sessions() - counts().sessionsOnline(), "state",
                "offline");
        for (PacketType type : PacketType.values()) {
            String name = type.name().toLowerCase(Locale.ROOT);
            if (type == PacketType.PUBLISH) {
                FunctionCounter.builder("ternmq.packets.received", m.publishesReceived, BrokerMetrics.QosCounters::sum)
                        .description("MQTT packets received").tag("type", name).register(registry);
                FunctionCounter.builder("ternmq.packets.sent", m.publishesSent, BrokerMetrics.QosCounters::sum)
                        .description("MQTT packets sent").tag("type", name).register(registry);
            } else {
                FunctionCounter.builder("ternmq.packets.received", m.packetsReceived[type.value()], LongAdder::sum)
                        .description("MQTT packets received").tag("type", name).register(registry);
                FunctionCounter.builder("ternmq.packets.sent", m.packetsSent[type.value()], LongAdder::sum)
                        .description("MQTT packets sent").tag("type", name).register(registry);
            }
        }
        counter("ternmq.bytes.received", "MQTT bytes received (inside TLS and WebSocket framing)", m.bytesReceived);
        counter("ternmq.bytes.sent", "MQTT bytes sent (inside TLS and WebSocket framing)", m.bytesSent);
        for (int qos = 0; qos <= 2; qos++) {
            int q = qos;
            FunctionCounter.builder("ternmq.messages.received", m.publishesReceived, c -> c.get(q))
                    .description("PUBLISH packets received from clients").tag("qos", Integer.toString(q))
                    .register(registry);
            FunctionCounter.builder("ternmq.messages.sent", m.publishesSent, c -> c.get(q))
                    .description("PUBLISH packets sent to clients").tag("qos", Integer.toString(q))
                    .register(registry);
        }
        dropped("queue_full", m.queueOverflowDrops);
        dropped("bridge_queue_full", m.bridgeQueueDrops);
        dropped("bridge_hop_limit", m.bridgeHopDrops);
        dropped("bridge_duplicate", m.bridgeDuplicateDrops);
        counter("ternmq.bridge.queue.drops", "Messages a bridge's queue could not keep", m.bridgeQueueDrops);
        counter("ternmq.bridge.connects", "Bridge connections accepted by their remote broker", m.bridgeConnects);
        counter("ternmq.bridge.disconnects", "Bridge connections lost or refused", m.bridgeDisconnects);
        dropped("slow_consumer", m.slowConsumerDrops);
        dropped("offline_qos0", m.offlineQos0Drops);
        dropped("too_large", m.oversizedDrops);
        dropped("expired", m.expiredMessages);
        dropped("not_authorized", m.deliveriesDenied);
        dropped("cluster_link", m.forwardDrops);
        gauge("ternmq.messages.inflight", "Messages sent from stored session queues, not yet acknowledged",
                s -> counts().inflightMessages());
        gauge("ternmq.messages.queued", "Messages waiting in stored session queues", s -> counts().queuedMessages());
        gauge("ternmq.subscriptions", "Subscriptions, shared group memberships included",
                s -> counts().subscriptions());
        gauge("ternmq.retained.messages", "Retained messages ($SYS ones included)", s -> counts().retainedMessages());
        gauge("ternmq.retained.bytes", "Payload bytes of the retained messages", s -> counts().retainedBytes());
        FunctionCounter.builder("ternmq.auth", m.authSucceeded, LongAdder::sum)
                .description("Authentications of CONNECTs").tag("result", "success").register(registry);
        FunctionCounter.builder("ternmq.auth", m.authFailed, LongAdder::sum)
                .description("Authentications of CONNECTs").tag("result", "failure").register(registry);
        denied("publish", m.publishesDenied);
        denied("subscribe", m.subscriptionsDenied);
        denied("receive", m.deliveriesDenied);
        disconnect("protocol_error", m.protocolViolations);
        disconnect("keep_alive_timeout", m.keepAliveTimeouts);
        disconnect("session_taken_over", m.sessionTakeovers);
        disconnect("slow_consumer", m.slowConsumerDisconnects);
        disconnect("server", m.serverDisconnects);
        counter("ternmq.tls.handshake.failures", "TLS handshakes that failed", m.tlsHandshakeFailures);
        // delayed_publish and sparkplug_aware (zero when off)
        delayed("stored", m.delayedStored);
        delayed("released", m.delayedReleased);
        delayed("refused", m.delayedRefused);
        counter("ternmq.sparkplug.certificates.stored", "NBIRTH/DBIRTH kept under $sparkplug/certificates/",
                m.sparkplugCertificatesStored);
        counter("ternmq.sparkplug.publishes.denied", "Client PUBLISHes to $sparkplug/ refused",
                m.sparkplugPublishesDenied);
        // the cluster's (zero on a single node)
        directed("ternmq.cluster.forwarded.messages", "Messages forwarded over the cluster's data links", "sent",
                m.forwardedSent);
        directed("ternmq.cluster.forwarded.messages", "Messages forwarded over the cluster's data links",
                "received", m.forwardedReceived);
        directed("ternmq.cluster.forwarded.bytes", "Bytes of the frames of forwarded messages", "sent",
                m.forwardedBytesSent);
        directed("ternmq.cluster.forwarded.bytes", "Bytes of the frames of forwarded messages", "received",
                m.forwardedBytesReceived);
        directed("ternmq.cluster.sessions.moved", "Sessions moved between nodes with their clients (remote "
                + "takeovers)", "handed_over", m.sessionsHandedOver);
        directed("ternmq.cluster.sessions.moved", "Sessions moved between nodes with their clients (remote "
                + "takeovers)", "received", m.sessionsReceived);
        counter("ternmq.cluster.takeovers.refused", "CONNECTs refused because their session's node did not hand it "
                + "over (dead, or a later claim won)", m.takeoversRefused);
        counter("ternmq.cluster.sessions.adopted", "Sessions of dead nodes this node adopted from their replicas",
                m.sessionsAdopted);
        counter("ternmq.cluster.dead.node.wills", "Wills of dead nodes' clients this node published",
                m.deadNodeWillsPublished);
        gauge("ternmq.cluster.replication.pending", "Replica updates sent and not yet confirmed with their backups "
                + "(replication lag)", s -> m.replicationPending.get());
        gauge("ternmq.cluster.sessions.without.backup", "Session replicas this node owns with no backup on another "
                + "member (too few members for cluster.backup_count)", s -> m.sessionsWithoutBackup.get());
        gauge("ternmq.cluster.backups.in.sync", "1 while every partition this node owns has its backups in sync, 0 "
                + "while Hazelcast re-replicates after a member left or joined (stop no other node then)",
                s -> m.backupsInSync.get());
        gauge("ternmq.cluster.acknowledgements.await.backups", "1 while acknowledgements wait for every partition's "
                + "backups to be in sync again after a member left", s -> m.acknowledgementsAwaitBackups.get());
        counter("ternmq.cluster.replication.failures", "Replica updates not confirmed after retries (what waited "
                + "for them was not acknowledged)", m.replicationFailures);
        counter("ternmq.cluster.link.frames.refused", "Data-link connections closed for what they sent (wrong name, "
                + "secret or version; a malformed, truncated or oversized frame)", m.linkFramesRefused);
        counter("ternmq.cluster.retained.replication.failures", "Retained changes the cluster's retained map could "
                + "not take (applied on no node)", m.retainedReplicationFailures);
        counter("ternmq.cluster.shared.redispatched", "Shared-subscription messages given to another member because "
                + "the node they were sent to left before its member took them", m.sharedRedispatched);
        counter("ternmq.cluster.forwards.orphaned", "QoS 1/2 messages forwarded to a node that left before confirming "
                + "them, given to the members that adopt its sessions", m.forwardsOrphaned);

        Timer syncs = Timer.builder("ternmq.store.sync")
                .description("Time of each sync of the store to disk (fsync: a group's synced write; periodic: the "
                        + "log's sync)")
                .serviceLevelObjectives(java.util.Arrays.stream(SYNC_BOUNDS_MILLIS)
                        .mapToObj(PrometheusMetrics::millis).toArray(Duration[]::new))
                .register(registry);
        store.observeSyncs(nanos -> syncs.record(nanos, TimeUnit.NANOSECONDS));

        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider allocator) {
            gauge("ternmq.netty.direct.memory.used.bytes", "Direct memory Netty's buffer pool holds",
                    s -> allocator.metric().usedDirectMemory());
        }
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            FunctionCounter.builder("process.cpu.seconds", os, o -> o.getProcessCpuTime() / 1e9)
                    .description("CPU time the process used").register(registry);
        }
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
    }

    /**
     * The listeners' own meters, once they are bound (their label is the address they listen on, port 0 resolved):
     * open connections, and when a TLS listener's certificate expires.
     */
    public void listenersStarted(MqttServer server, List<InetSocketAddress> bound) {
        for (int i = 0; i < bound.size(); i++) {
            int index = i;
            ListenerConfig l = server.listener(i);
            String name = l.bindAddress() + ":" + bound.get(i).getPort();
            gauge("ternmq.connections", "Open TCP connections of a listener", s -> server.connections(index),
                    "listener", name, "transport", l.transport().name().toLowerCase(Locale.ROOT));
            if (l.isTls()) {
                gauge("ternmq.tls.certificate.expiry.timestamp.seconds",
                        "When the certificate a TLS listener serves expires (Unix time)", s -> {
                            Instant expiry = server.certificateExpiry(index);
                            return expiry == null ? Double.NaN : expiry.getEpochSecond();
                        }, "listener", name);
            }
        }
    }

    /** The sync histogram's bucket bounds, in milliseconds (its service level objectives). */
    static final double[] SYNC_BOUNDS_MILLIS = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000};

    private static Duration millis(double ms) {
        return Duration.ofNanos((long) (ms * 1_000_000));
    }

    private void gauge(String name, String help, ToDoubleFunction<PrometheusMetrics> value, String... tags) {
        Gauge.builder(name, this, value).description(help).tags(tags).register(registry);
    }

    private void counter(String name, String help, LongAdder adder) {
        FunctionCounter.builder(name, adder, LongAdder::sum).description(help).register(registry);
    }

    private void delayed(String outcome, LongAdder adder) {
        FunctionCounter.builder("ternmq.delayed.messages", adder, LongAdder::sum)
                .description("$delayed/ PUBLISHes stored, released when due, or refused (bad delay, full)")
                .tag("outcome", outcome).register(registry);
    }

    private void directed(String name, String description, String direction, LongAdder counter) {
        FunctionCounter.builder(name, counter, LongAdder::sum).description(description).tag("direction", direction)
                .register(registry);
    }

    private void dropped(String reason, LongAdder adder) {
        FunctionCounter.builder("ternmq.messages.dropped", adder, LongAdder::sum)
                .description("Messages not delivered, by reason").tag("reason", reason).register(registry);
    }

    private void denied(String action, LongAdder adder) {
        FunctionCounter.builder("ternmq.authz.denied", adder, LongAdder::sum)
                .description("Actions the authorizer refused").tag("action", action).register(registry);
    }

    private void disconnect(String reason, LongAdder adder) {
        FunctionCounter.builder("ternmq.disconnects", adder, LongAdder::sum)
                .description("Connections the broker ended, by reason").tag("reason", reason).register(registry);
    }

    private BrokerCounts counts() {
        TimedCounts c = counts;
        long now = System.nanoTime();
        if (c == null || now - c.atNanos() > COUNTS_VALID_NANOS) {
            c = new TimedCounts(service.counts(), now);
            counts = c;
        }
        return c.counts();
    }

    /** The text a Prometheus scrape gets. */
    public String scrape() {
        return registry.scrape(CONTENT_TYPE);
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
