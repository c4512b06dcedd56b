package io.ternmq.broker.bridge;

import io.netty.util.concurrent.DefaultThreadFactory;
import io.ternmq.broker.config.BridgeSettings;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.service.BrokerService;
import io.ternmq.broker.session.LocalSessionRegistry;
import io.ternmq.broker.store.QueueLimits;
import io.ternmq.broker.transport.MqttServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The broker's bridges: their session ids reserved (with their own queue bounds) before the store is recovered and
 * any listener opens, started once the listeners are open, stopped before them. Each bridge lives on one I/O event
 * loop; names are resolved on one thread of their own ({@code ternmq-bridge-dns}), since resolving blocks.
 */
public final class Bridges implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Bridges.class);
    private static final long STOP_MILLIS = 3000;

    private final List<BridgeSettings> settings;
    private final BridgePeers peers;
    private final List<Bridge> running = new ArrayList<>();
    private ExecutorService resolver;

    private Bridges(List<BridgeSettings> settings, BridgePeers peers) {
        this.settings = settings;
        this.peers = peers;
    }

    /**
     * Reserves every bridge's session id (no client may take it) with the bridge's queue bounds, and has the service
     * give messages origin ids and drop copies that came round ({@link BridgeOrigins}).
     */
    public static Bridges reserve(List<BridgeSettings> settings, LocalSessionRegistry sessions,
                                  BrokerService service, java.nio.file.Path dataDir, BrokerMetrics metrics) {
        BridgePeers peers = new BridgePeers(settings, metrics);
        if (!settings.isEmpty()) {
            // the node id (kept in the data directory) names this broker in the origin ids of its messages
            service.bridgeOrigins(new BridgeOrigins(io.ternmq.broker.cluster.ClusterNode.nodeId(dataDir), metrics));
            service.bridgePeers(peers);
        }
        Set<String> ids = new HashSet<>();
        for (BridgeSettings b : settings) {
            sessions.reserve(b.localClientId(), new QueueLimits(b.maxQueuedMessages(), b.maxQueuedBytes(), false,
                    b.dropOldest(), b.maxInflight(), true));
            ids.add(b.localClientId());
        }
        service.reserveClientIds(ids);
        return new Bridges(settings, peers);
    }

    /** Starts every bridge, each on a loop of {@code server}'s. */
    /** @param authorizer the first listener's, whose rules apply to each bridge's local_username */
    public void start(MqttServer server, BrokerService service, BrokerMetrics metrics, int maxPacketSize,
                      io.ternmq.broker.security.Authorizer authorizer) {
        if (settings.isEmpty()) {
            return;
        }
        resolver = Executors.newSingleThreadExecutor(new DefaultThreadFactory("ternmq-bridge-dns", true));
        for (BridgeSettings s : settings) {
            Bridge b = new Bridge(s, service, metrics, server.nextLoop(), server.socketChannelClass(), resolver,
                    maxPacketSize, authorizer, peers);
            running.add(b);
            b.start();
            LOG.info("Bridge {} started: {} to {}", s.name(), s.localClientId(), s.addresses());
        }
    }

    public List<Bridge> all() {
        return List.copyOf(running);
    }

    /** Stops every bridge: the remote brokers are told, the sessions detached (kept in the store). */
    @Override
    public void close() {
        List<CompletableFuture<Void>> stops = new ArrayList<>();
        for (Bridge b : running) {
            stops.add(b.stop());
        }
        try {
            CompletableFuture.allOf(stops.toArray(new CompletableFuture<?>[0])).get(STOP_MILLIS,
                    TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            LOG.warn("Bridges did not stop within {} ms", STOP_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            LOG.warn("Stopping the bridges failed", e.getCause());
        }
        running.clear();
        if (resolver != null) {
            resolver.shutdownNow();
        }
    }
}
