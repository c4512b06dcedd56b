package io.ternmq.broker.bridge;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.ternmq.broker.config.BridgeSettings;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.security.Authorizer;
import io.ternmq.broker.service.BrokerService;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * One bridge ({@code connection} section): a client of a remote broker, made and remade on one broker event loop,
 * which owns all of its parts.
 *
 * <ul>
 *   <li>{@link BridgeSession}, the local side: the bridge's persistent session here, subscribed with no-local to the
 *   {@code out}/{@code both} topics; its stored queue is the buffer while the remote broker is away.</li>
 *   <li>{@link RemoteLink}: connecting, with DNS at each attempt, TLS, and the {@code restart_timeout} backoff.</li>
 *   <li>{@link Outlet}: one connection to the remote broker, attached to the session as its connection once
 *   accepted; its {@link OutgoingPublishes} sends the session's messages within
 *   {@code min(bridge_max_inflight, remote Receive Maximum)}.</li>
 *   <li>{@link IncomingPublishes}: what the remote sends, routed through {@link BrokerService#publish} with the
 *   bridge's client id as publisher.</li>
 * </ul>
 */
public final class Bridge {
    private final BridgeSettings settings;
    private final EventLoop loop;
    private final BridgeSession session;
    private final RemoteLink link;
    /** What this bridge learned of its remote broker's bridges toward this broker (MQTT 3.x). */
    private final BridgePeers.Link peerLink;

    public Bridge(BridgeSettings settings, BrokerService service, BrokerMetrics metrics, EventLoop loop,
                  Class<? extends Channel> channelClass, Executor resolver, int brokerMaxPacketSize,
                  Authorizer authorizer, BridgePeers peers) {
        this.settings = settings;
        this.loop = loop;
        int maxPacketSize = settings.maxPacketSize() > 0 ? settings.maxPacketSize() : brokerMaxPacketSize;
        BridgeTopicTable topics = new BridgeTopicTable(settings.topics());
        BridgeAccess access = new BridgeAccess(settings, authorizer);
        this.session = new BridgeSession(settings, service, loop, access, topics);
        IncomingPublishes incoming = new IncomingPublishes(settings, service, metrics, loop, access, topics,
                session);
        this.peerLink = peers.link(settings.localClientId());
        this.link = new RemoteLink(settings, loop, channelClass, resolver, maxPacketSize, (link, address) ->
                new Outlet(settings, metrics, session, link, incoming, access, topics, address, maxPacketSize,
                        peers, peerLink));
    }

    public String name() {
        return settings.name();
    }

    public BridgeSettings settings() {
        return settings;
    }

    /** "connected", "connecting", "waiting" (to reconnect) or "stopped"; a hint from any thread. */
    public String state() {
        return link.state();
    }

    /** The client ids here of the remote broker's bridges toward this broker, as learned; a hint from any thread. */
    public java.util.Set<String> remoteBridges() {
        return peerLink.peers;
    }

    /**
     * Starts the bridge: its session subscribes to the outgoing topics at once (so messages queue from now on, the
     * remote broker reachable or not), then the first connection attempt.
     */
    public void start() {
        if (settings.notifications()) {
            session.publishState(false);
        }
        loop.execute(() -> session.start(link::connectNow));
    }

    /** Stops the bridge (the broker is stopping): tells the remote broker, detaches the session. Any thread. */
    public CompletableFuture<Void> stop() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        loop.execute(() -> link.stop(done));
        return done;
    }
}
