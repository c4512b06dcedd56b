package io.ternmq.broker.cluster;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.ServerChannel;
import io.netty.util.concurrent.EventExecutor;
import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.config.ClusterSettings;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.routing.DeliveryTarget;
import io.ternmq.broker.routing.LocalRoutes;
import io.ternmq.broker.routing.Router;
import io.ternmq.broker.store.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * This broker as one node of a cluster: its node id, the data-link server other nodes connect to, the membership
 * (Hazelcast), and a {@link RemoteNode} with its {@link PeerLink} per other node. Exists only when
 * {@code cluster.enabled}; a single node creates none of this and loads no Hazelcast class.
 */
public final class ClusterNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);
    static final String NODE_ID_FILE = "node-id";
    private static final long PEERS_READY_SECONDS = 30;
    /** How long a node joining waits for Hazelcast's partitions to settle before it serves (then it serves anyway). */
    private static final long PARTITIONS_SETTLED_SECONDS = 15;
    /** Hazelcast merges the halves of a split cluster within seconds of seeing them again. */
    private static final long RELOAD_AFTER_MERGE_SECONDS = 15;

    private final ClusterSettings settings;
    private final String nodeId;
    private final Router router;
    private final LocalRoutes routes;
    private final BrokerMetrics metrics;
    private final LinkHandshake handshake;
    private final LinkRefusals refusals;
    private final ClusterRetained retained;
    private final ClusterShared shared;
    private final OrphanedForwards orphans;
    private final Qos2Resends qos2;
    private final int maxFrameLength;
    /** The cluster's loop: every link, in and out, and the cluster's timers (one thread: see {@link LinkLoop}). */
    private final LinkLoop linkLoop;
    private final Map<String, RemoteNode> nodes = new ConcurrentHashMap<>();
    /**
     * Node id to the membership id of its current run. Changed under this node's monitor (joins and leaves in order);
     * read without it, from event loops, which must never wait behind a membership change.
     */
    private final Map<String, String> members = new ConcurrentHashMap<>();
    private Channel server;
    private ClusterMembership membership;
    private ClusterSessionRegistry sessions;
    /** A member left since the last join: the next join reloads the retained map. Under this node's monitor. */
    private boolean lostMembers;
    private SessionDirectory directory;
    private volatile boolean closing;
    /** Restarts the broker once this node merged back into its cluster after being declared dead; null: none. */
    private volatile Runnable restart;
    private volatile SessionReplicas replicas;
    private Store store;
    /** The admin API's questions to the members (listings across the cluster). */
    private MemberQueries queries;
    /** The admin API's registrations every node applies (topic metrics, traces). */
    private SharedSets sharedSets;

    /**
     * The cluster's loop, one of the MQTT server's I/O loops, and the channel classes of its transport. One of the
     * I/O loops rather than a thread of its own: at low rates each message crossing a thread costs a wake-up, and
     * on a busy machine a wait for a CPU (a forwarded message crossed two more: cross-node p99 at 50 msg/s per pair
     * 2.5 ms against 2.0 ms so, docs/benchmarks.md). Clients served by this loop reach the links without one.
     */
    public record LinkLoop(EventLoop loop, Class<? extends ServerChannel> serverChannel,
                           Class<? extends Channel> channel) {
    }

    private ClusterNode(BrokerConfig config, Router router, BrokerMetrics metrics, LinkLoop linkLoop) {
        this.settings = config.cluster();
        this.nodeId = nodeId(config.storage().dataDir());
        this.router = router;
        this.routes = router.routes();
        this.metrics = metrics;
        this.handshake = new LinkHandshake(settings.secret(), settings.name());
        this.refusals = new LinkRefusals(metrics);
        this.retained = new ClusterRetained(this, router, metrics);
        this.shared = new ClusterShared(this, router, metrics);
        this.orphans = new OrphanedForwards(new OrphanedForwards.Node() {
            @Override
            public String nodeId() {
                return ClusterNode.this.nodeId();
            }

            @Override
            public java.util.Set<String> memberIds() {
                return ClusterNode.this.memberIds();
            }

            @Override
            public boolean isMember(String id) {
                return ClusterNode.this.isMember(id);
            }

            @Override
            public RemoteNode member(String id) {
                return ClusterNode.this.member(id);
            }

            @Override
            public boolean send(String to, io.netty.buffer.ByteBuf frame) {
                return ClusterNode.this.send(to, frame);
            }

            @Override
            public void later(Runnable task, long seconds) {
                ClusterNode.this.later(task, seconds);
            }

            @Override
            public boolean isClosing() {
                return ClusterNode.this.isClosing();
            }
        }, new DeadNodeRoutes(this), router, metrics);
        this.qos2 = new Qos2Resends(orphans);
        router.resendsWith(qos2);
        this.maxFrameLength = LinkFrame.maxFrameLength(config.mqtt().maxPacketSize());
        this.linkLoop = linkLoop;
    }

    /**
     * Binds the data link, then joins the cluster (blocking while Hazelcast joins; not on an event loop).
     *
     * @param router a router made with this node's {@link LocalRoutes}
     * @param linkLoop the loop the links and the cluster's timers run on; it outlives this node ({@link #close})
     */
    public static ClusterNode start(BrokerConfig config, Router router, BrokerMetrics metrics,
                                    ClusterSessionRegistry sessions, Store store, LinkLoop linkLoop)
            throws InterruptedException {
        ClusterNode node = new ClusterNode(config, router, metrics, linkLoop);
        try {
            node.sessions = sessions;
            sessions.restored().hold();
            node.bindLink();
            node.routes.announceTo(node::announce);
            node.membership = new ClusterMembership(node.settings, node.nodeId, node.linkPort(), node::peerJoined,
                    node::peerLeft, metrics.clusterMembers, node::mergingBack, node::mergedBack);
            node.membership.start();
            node.directory = node.membership.sessionDirectory();
            node.queries = node.membership.queries(node.directory, node::peerState);
            node.sharedSets = node.membership.sharedSets();
            node.awaitPeersReady();
            long t0 = System.nanoTime();
            if (!node.membership.awaitPartitionsSettled(PARTITIONS_SETTLED_SECONDS)) {
                LOG.warn("cluster: partitions still migrating or without backups in sync after {} s; serving anyway",
                        PARTITIONS_SETTLED_SECONDS);
            } else if (System.nanoTime() - t0 > TimeUnit.MILLISECONDS.toNanos(200)) {
                LOG.info("cluster: partitions settled {} ms after joining", (System.nanoTime() - t0) / 1_000_000);
            }
            node.retained.start(node.membership.retainedMap());
            router.replicateRetainedWith(node.retained);
            // from here on every session write is also held by another member before it is acknowledged
            SessionReplicas replicas = node.membership.sessionReplicas(metrics);
            node.membership.watchBackups(metrics.backupsInSync);
            node.replicas = replicas;
            node.store = store;
            store.mirrorTo(replicas);
            ConnectionWills wills = node.membership.connectionWills();
            sessions.restored().register(node, replicas, wills);
            sessions.bind(node, replicas, wills);
            node.quorumCheck();
        } catch (RuntimeException | InterruptedException e) {
            node.close();
            throw e;
        }
        LOG.info("cluster: node {} started; membership on {}, data link on {}:{}", node.nodeId, node.settings.bind(),
                node.settings.bind().host(), node.linkPort());
        return node;
    }

    private void bindLink() throws InterruptedException {
        ServerBootstrap b = new ServerBootstrap().group(linkLoop.loop()).channel(linkLoop.serverChannel())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new LinkFrame.Decoder(maxFrameLength),
                                new InboundLink(ClusterNode.this, handshake, refusals));
                    }
                });
        ChannelFuture bound = b.bind(settings.bind().host(), 0).await();
        if (!bound.isSuccess()) {
            throw new IllegalStateException("cluster: cannot bind the data link on " + settings.bind().host() + ": "
                    + bound.cause(), bound.cause());
        }
        server = bound.channel();
    }

    /**
     * Waits (at start, before the listeners open) until every other member has connected its data link to this node
     * and sent its routes: from then on this node routes to every subscriber, and gets every retained change on the
     * link, so that loading the retained map afterwards misses nothing.
     */
    private void awaitPeersReady() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PEERS_READY_SECONDS);
        while (true) {
            List<String> waiting = new java.util.ArrayList<>();
            for (Peer p : membership.peers()) {
                RemoteNode n = nodes.get(p.nodeId());
                if (n == null || !n.ready()) {
                    waiting.add(p.nodeId());
                }
            }
            if (waiting.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                LOG.warn("cluster: starting without the data links of nodes {} (not connected within {} s)", waiting,
                        PEERS_READY_SECONDS);
                return;
            }
            Thread.sleep(10);
        }
    }

    /** The node id, generated once and kept in the data directory, so that a restarted node is the same node. */
    public static String nodeId(Path dataDir) {
        Path file = dataDir.resolve(NODE_ID_FILE);
        try {
            if (Files.exists(file)) {
                String id = Files.readString(file, StandardCharsets.UTF_8).strip();
                if (!id.matches("[A-Za-z0-9._-]{1,64}")) {
                    throw new IllegalStateException(file + ": not a node id: '" + id + "'");
                }
                return id;
            }
            String id = UUID.randomUUID().toString();
            Files.createDirectories(dataDir);
            Path tmp = dataDir.resolve(NODE_ID_FILE + ".tmp");
            Files.writeString(tmp, id + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return id;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write " + file + ": " + e, e);
        }
    }

    public String nodeId() {
        return nodeId;
    }

    /** The port the data link listens on (chosen at start, announced through the membership). */
    public int linkPort() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** The other nodes that are members now. */
    public List<Peer> peers() {
        return membership.peers();
    }

    /** Questions to the members, for the admin API's listings across the cluster. */
    public NodeQueries queries() {
        return queries;
    }

    /** The admin API's topic-metric registrations and traces, the same on every node. */
    public SharedSets sharedSets() {
        return sharedSets;
    }

    private NodeQueries.PeerState peerState(String id) {
        RemoteNode n = nodes.get(id);
        return new NodeQueries.PeerState(isMember(id), n != null && n.link().isEstablished(), n != null && n.ready(),
                n == null ? 0 : n.routeCount());
    }

    /** The other node of that id, created when it first shows (membership or its link, whichever is first). */
    RemoteNode node(String id) {
        return nodes.computeIfAbsent(id, k -> new RemoteNode(k, new PeerLink(k, nodeId, linkLoop, handshake,
                routes, metrics, refusals, retained, orphans, maxFrameLength), router.subscriptions(), shared,
                orphans));
    }

    /**
     * The node behind an authenticated inbound link, if the membership lists it now; else null. A node that left (or
     * whose joining is not known yet) gets no routes here: nothing would remove them, and it reconnects anyway.
     */
    RemoteNode member(String id) {
        return members.containsKey(id) ? node(id) : null;
    }

    ClusterRetained retained() {
        return retained;
    }

    ClusterShared shared() {
        return shared;
    }

    /** A message for a shared group arrived: counted with the forwarded ones. */
    void metricsForwarded(int bytes) {
        metrics.forwardedReceived.increment();
        metrics.forwardedBytesReceived.add(bytes);
    }

    /** The node ids of the other members now. */
    java.util.Set<String> memberIds() {
        return java.util.Set.copyOf(members.keySet());
    }

    SessionDirectory directory() {
        return directory;
    }

    LocalRoutes routes() {
        return routes;
    }

    /** Whether the membership lists that node now. */
    boolean isMember(String id) {
        return members.containsKey(id);
    }

    /** {@code task}, skipped once this node is closing: the cluster's loop outlives it. */
    private Runnable unlessClosing(Runnable task) {
        return () -> {
            if (!closing) {
                task.run();
            }
        };
    }

    /** Runs {@code task} on the cluster's loop after {@code seconds}; not at all once the node is closed. */
    void later(Runnable task, long seconds) {
        try {
            linkLoop.loop().schedule(unlessClosing(task), seconds, TimeUnit.SECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    /** Reloads the retained map after {@code seconds}, on a thread of its own (it blocks while it reads). */
    private void reloadRetained(long seconds) {
        later(() -> {
            Thread t = new Thread(retained::reload, "ternmq-retained-reload");
            t.setDaemon(true);
            t.start();
        }, seconds);
    }

    /** Runs {@code task} on the cluster's loop every {@code seconds}, until the node is closed. */
    void every(long seconds, Runnable task) {
        try {
            linkLoop.loop().scheduleAtFixedRate(unlessClosing(task), seconds, seconds, TimeUnit.SECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    /**
     * Queues a frame for another node, behind what this node forwarded to it before; any thread.
     *
     * @return false if that node is not known or its link's queue is full (the frame is released)
     */
    boolean send(String to, io.netty.buffer.ByteBuf frame) {
        RemoteNode n = nodes.get(to);
        if (n == null) {
            frame.release();
            return false;
        }
        return n.link().send(frame);
    }

    /** A handover frame from another node (its inbound link's loop). */
    void handover(String from, HandoverFrame frame) {
        sessions.received(from, frame);
    }

    /**
     * Queues a handover frame for another node, behind what this node forwarded to it before; any thread.
     *
     * @return false if that node is not known or its link's queue is full
     */
    boolean send(String to, HandoverFrame frame) {
        RemoteNode n = nodes.get(to);
        return n != null && n.link().send(frame.write(ByteBufAllocator.DEFAULT));
    }

    /** Whether the data link to that node is up and backed up (see {@link PeerLink#isCongested}). */
    boolean congested(String to) {
        RemoteNode n = nodes.get(to);
        return n != null && n.link().isCongested();
    }

    /** A message another node forwarded: to this node's own subscribers. */
    BrokerMetrics metrics() {
        return metrics;
    }

    DeliveryTarget forwarded(Message m, int bytes) {
        metrics.forwardedReceived.increment();
        metrics.forwardedBytesReceived.add(bytes);
        return orphans.watching() ? router.publishForwarded(m, orphans.noting(m)) : router.publishForwarded(m);
    }

    /**
     * A QoS 1/2 message {@code from} forwarded as {@code id} of its {@code stream}: to this node's own subscribers;
     * {@code held} runs on {@code loop} once it is stored and replicated here. A copy routed before (sent again on a
     * new connection) is not routed twice: {@code held} runs once what was written before is durable.
     */
    DeliveryTarget forwardedHeld(RemoteNode from, Message m, int bytes, long stream, long id, int packetId,
                                 String resentFrom, EventExecutor loop, Runnable held) {
        metrics.forwardedReceived.increment();
        metrics.forwardedBytesReceived.add(bytes);
        boolean hadIt = packetId != 0 && qos2.received(m, packetId);
        if (!from.firstArrival(stream, id)) {
            // sent again on a new connection
            router.afterEarlierWrites(m, loop, held);
            return null;
        }
        java.util.function.Predicate<io.ternmq.broker.routing.DeliveryTarget> only = null;
        if (resentFrom != null) {
            // a QoS 2 resend after its node died. If it reached this node before, the sessions that were here then
            // have it; not those adopted since from the dead node itself, whose replica decides: a chaos run lost
            // pub-q2:17189 at sub-0, which lived on the publisher's node, whose copy for it was not yet written when
            // that node died, while this node had got the message for another session
            only = hadIt ? t -> OrphanedForwards.adoptedFrom(resentFrom, t) && !orphans.hadFromReplica(resentFrom, t, m)
                    && !orphans.gaveAsOrphan(t, m)
                    : t -> !orphans.hadFromReplica(resentFrom, t, m) && !orphans.gaveAsOrphan(t, m);
        }
        if (orphans.watching()) {
            only = only == null ? orphans.noting(m) : only.and(orphans.noting(m));
        }
        // a resend that came before is confirmed only once what its first arrival wrote is durable too
        Runnable confirm = resentFrom != null && hadIt ? () -> router.afterEarlierWrites(m, loop, held) : held;
        return only == null ? router.publishForwarded(m, stream, id, loop, (matched, quotaExceeded) -> confirm.run())
                : router.publishForwarded(m, stream, id, loop, (matched, quotaExceeded) -> confirm.run(), only);
    }

    OrphanedForwards orphans() {
        return orphans;
    }

    io.ternmq.broker.routing.Router router() {
        return router;
    }

    private void announce(LocalRoutes.Change change) {
        for (RemoteNode n : nodes.values()) {
            n.link().announce(change);
        }
    }

    /** The membership changed: a node that sees fewer than {@code cluster.min_members} stops serving, until it does. */
    private void quorumCheck() {
        if (sessions != null) {
            sessions.quorum((int) metrics.clusterMembers.get(), settings.minMembers());
        }
    }

    private void peerJoined(Peer p) {
        synchronized (this) {
            if (lostMembers) {
                // members come back after some left: what changed on their side meanwhile is loaded again, now
                // and once the halves' maps have merged
                lostMembers = false;
                reloadRetained(0);
                reloadRetained(RELOAD_AFTER_MERGE_SECONDS);
            }
            members.put(p.nodeId(), p.memberId());
            routes.peerJoined(p.nodeId());
            RemoteNode joined = node(p.nodeId());
            joined.run(p.memberId());
            joined.link().connectTo(p);
            orphans.nodeJoined(p.nodeId()); // queued on its link, behind the routes snapshot
        }
        quorumCheck(); // outside the monitor: it visits every local session
    }

    private void peerLeft(Peer p) {
        synchronized (this) {
            // a node restarted on its data keeps its node id: the leaving of its earlier run, if reported after the
            // joining of the new one, is old news
            SessionReplicas r = replicas;
            if (r != null) {
                r.memberLeft(); // before any of its sessions is adopted: their imports wait for the backups
            }
            if (members.remove(p.nodeId(), p.memberId())) {
                lostMembers = true;
                RemoteNode n = nodes.remove(p.nodeId());
                orphans.nodeLeft(p.nodeId(), p.memberId(), n); // before its link closes and its sessions are adopted
                if (n != null) {
                    n.left();
                }
                routes.peerLeft(p.nodeId());
                retained.peerLeft(p.nodeId());
                shared.peerLeft(p.nodeId());
                if (sessions != null) {
                    // its sessions are adopted (on another thread)
                    sessions.nodeLeft(p.nodeId(), (int) metrics.clusterMembers.get(), settings.minMembers());
                }
            }
        }
        quorumCheck(); // outside the monitor: it visits every local session
    }

    /**
     * What restarts this node's broker on its data once it merged back into its cluster (see {@link #mergedBack});
     * without it (an embedder that set none) the node stays out of service.
     */
    public void onMergedBack(Runnable restart) {
        this.restart = restart;
    }

    /** Cut off past the failure timeout, this node merges back into the others' cluster (Hazelcast's thread). */
    private void mergingBack() {
        LOG.warn("cluster: node {} is merging back into its cluster, whose members declared it dead while it was cut "
                + "off from them", nodeId);
        sessions.mergingBack("the other members declared this node dead while it was cut off from them; it serves "
                + "nobody until it has merged back into their cluster and restarted on its data");
    }

    /**
     * Merged back (Hazelcast's thread): the others adopted this node's sessions meanwhile and took over routing
     * them, so what this node holds in memory is stale. Restarting on its data settles each session as after a
     * crash: dropped where another node holds it now, adopted again where the others' adoptions did not happen.
     */
    private void mergedBack() {
        Runnable r = restart;
        if (r == null) {
            LOG.error("cluster: node {} merged back into its cluster after being declared dead; it serves nobody "
                    + "until it is restarted", nodeId);
            return;
        }
        LOG.warn("cluster: node {} merged back into its cluster after being declared dead: restarting on its data",
                nodeId);
        Thread t = new Thread(r, "ternmq-restart");
        t.start();
    }

    /** Whether this node is stopping (its links close, but nobody left the cluster). */
    boolean isClosing() {
        return closing;
    }

    @Override
    public void close() {
        closing = true;
        if (sessions != null) {
            sessions.closeAdoption();
        }
        if (store != null) {
            // the store outlives the cluster (it closes last): its final writes are its own only
            store.mirrorTo(null);
            replicas.close();
        }
        if (membership != null) {
            membership.close();
        }
        for (RemoteNode n : nodes.values()) {
            n.link().close();
        }
        if (server != null) {
            server.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        }
    }
}
