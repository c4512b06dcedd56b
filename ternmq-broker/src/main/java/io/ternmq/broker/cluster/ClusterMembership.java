package io.ternmq.broker.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.ListenerConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.cluster.InitialMembershipEvent;
import com.hazelcast.cluster.InitialMembershipListener;
import com.hazelcast.internal.util.ConcurrencyUtil;
import io.ternmq.broker.config.ClusterSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Who is in the cluster, as embedded Hazelcast sees it: with {@link SessionDirectory}, {@link RetainedMap},
 * {@link SessionReplicas} (and the replicas' map entry classes), {@link ConnectionWills}, {@link MemberQueries} and
 * {@link SharedSetsMap}, the only classes that
 * touch Hazelcast, so that the rest of the cluster code sees {@link Peer}s. Hazelcast does discovery (a static TCP-IP member list),
 * failure detection and split-brain merging; TernMQ writes none of that. Each member announces its node id and
 * data-link port as member attributes.
 *
 * <p>Callbacks run on Hazelcast's event threads, never on an event loop.
 */
final class ClusterMembership implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterMembership.class);
    static final String NODE_ID = "ternmq.node-id";
    static final String LINK_PORT = "ternmq.link-port";

    /** What TernMQ overrides of Hazelcast's defaults, and why: docs/cluster.md. */
    static final String MERGE_DELAY_SECONDS = "10";

    private final ClusterSettings settings;
    private final String nodeId;
    private final int linkPort;
    private final Consumer<Peer> joined;
    private final Consumer<Peer> left;
    private final AtomicLong memberCount;
    private final Runnable merging;
    private final Runnable merged;
    private BackupWatch backupWatch;
    private HazelcastInstance hazelcast;

    /**
     * @param memberCount kept at the number of members (a metric)
     * @param merging     this member, cut off from the others, is merging back into their cluster (Hazelcast's
     *                    split-brain healing): they declared it dead meanwhile
     * @param merged      it has merged (its maps' entries taken by the larger side's merge policies)
     */
    ClusterMembership(ClusterSettings settings, String nodeId, int linkPort, Consumer<Peer> joined,
                      Consumer<Peer> left, AtomicLong memberCount, Runnable merging, Runnable merged) {
        this.memberCount = memberCount;
        this.merging = merging;
        this.merged = merged;
        this.settings = settings;
        this.nodeId = nodeId;
        this.linkPort = linkPort;
        this.joined = joined;
        this.left = left;
    }

    /** Starts the member and joins (or forms) the cluster; blocks while Hazelcast joins. Not on an event loop. */
    void start() {
        if (System.getProperty("hazelcast.logging.type") == null) {
            // Hazelcast picks its logger before it reads the Config
            System.setProperty("hazelcast.logging.type", "slf4j");
        }
        callbacksOnPooledThreads();
        try {
            hazelcast = Hazelcast.newHazelcastInstance(config());
        } catch (RuntimeException e) {
            throw new IllegalStateException("cluster: membership on " + settings.bind() + " cannot start: "
                    + e.getMessage(), e);
        }
        // more members died at once than a partition has backups: the session replicas and directory entries in it
        // are gone, and their sessions cannot be adopted (said here, or only "no replica" would say it). Hazelcast
        // also reports a lost owner whose backup took over (lost replicas up to index 0): nothing is lost then
        int backups = settings.backupCount();
        hazelcast.getPartitionService().addPartitionLostListener(e -> {
            if (e.getLostBackupCount() >= backups) {
                LOG.warn("cluster: partition {} of the cluster's maps lost its data (its owner and {} backups left at "
                        + "once; seen by {}): the session replicas and directory entries in it are gone",
                        e.getPartitionId(), e.getLostBackupCount(), e.getEventSource());
            }
        });
    }

    /**
     * Where Hazelcast runs the completions of its futures (the results of map operations are deserialized there
     * before TernMQ's callbacks hand them to an event loop): the common fork-join pool, unless that has a single
     * thread (2 cores or fewer), when Hazelcast starts a new thread for every completion, several per CONNECT and
     * disconnect. There, threads of a cached pool instead: as many at once as before, but reused. JVM-wide, as
     * Hazelcast's own default is; set once.
     */
    private static synchronized void callbacksOnPooledThreads() {
        if (ForkJoinPool.getCommonPoolParallelism() > 1
                || ConcurrencyUtil.getDefaultAsyncExecutor() instanceof CallbackThreads) {
            return;
        }
        ConcurrencyUtil.setDefaultAsyncExecutor(new CallbackThreads());
    }

    /** Daemon threads, made when all are busy, ended after a minute idle. */
    private static final class CallbackThreads implements Executor {
        private final AtomicInteger made = new AtomicInteger();
        private final ThreadPoolExecutor pool = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS,
                new SynchronousQueue<>(), r -> {
                    Thread t = new Thread(r, "ternmq-cluster-callback-" + made.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });

        @Override
        public void execute(Runnable command) {
            pool.execute(command);
        }
    }

    private Config config() {
        Config c = new Config();
        c.setClusterName(settings.name());
        c.setInstanceName("ternmq-" + nodeId);
        c.setProperty("hazelcast.logging.type", "slf4j");
        c.setProperty("hazelcast.phone.home.enabled", "false");
        // the broker orders its own shutdown: listeners, then the cluster, then the store
        c.setProperty("hazelcast.shutdownhook.enabled", "false");
        c.setProperty("hazelcast.max.no.heartbeat.seconds", Integer.toString(settings.failureTimeoutSeconds()));
        c.setProperty("hazelcast.merge.first.run.delay.seconds", MERGE_DELAY_SECONDS);
        c.setProperty("hazelcast.merge.next.run.delay.seconds", MERGE_DELAY_SECONDS);
        // a write whose backup did not confirm fails rather than being acknowledged
        c.setProperty("hazelcast.operation.fail.on.indeterminate.state", "true");
        c.setProperty("hazelcast.health.monitoring.level", "OFF");
        c.getJetConfig().setEnabled(false);
        c.getMapConfig("default").setBackupCount(settings.backupCount()).setAsyncBackupCount(0);
        c.getMapConfig(RetainedMap.MAP).setBackupCount(settings.backupCount()).setAsyncBackupCount(0)
                .getMergePolicyConfig().setPolicy(RetainedMergePolicy.class.getName());
        // each group's writes change a replica in place: no copy of the whole session per write
        c.getMapConfig(SessionReplicas.MAP).setBackupCount(settings.backupCount()).setAsyncBackupCount(0)
                .setInMemoryFormat(com.hazelcast.config.InMemoryFormat.OBJECT);
        c.getMemberAttributeConfig().setAttribute(NODE_ID, nodeId);
        c.getMemberAttributeConfig().setAttribute(LINK_PORT, Integer.toString(linkPort));

        NetworkConfig net = c.getNetworkConfig();
        net.setPort(settings.bind().port()).setPortAutoIncrement(false);
        String host = settings.bind().host();
        if (!isWildcard(host)) {
            c.setProperty("hazelcast.socket.bind.any", "false");
            net.getInterfaces().setEnabled(true).addInterface(address(host));
        }
        JoinConfig join = net.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        List<String> members = new ArrayList<>();
        for (ClusterSettings.Address a : settings.members()) {
            members.add(a.toString());
        }
        join.getTcpIpConfig().setEnabled(true).setMembers(members);
        // registered before the join, so that no member is missed
        c.addListenerConfig(new ListenerConfig(new Listener()));
        c.addListenerConfig(new ListenerConfig((com.hazelcast.core.LifecycleListener) event -> {
            switch (event.getState()) {
                case MERGING -> merging.run();
                case MERGED -> merged.run();
                case MERGE_FAILED -> LOG.warn("cluster: merging back into the cluster failed; Hazelcast tries again "
                        + "in {} s", MERGE_DELAY_SECONDS);
                default -> {
                }
            }
        }));
        return c;
    }

    private static boolean isWildcard(String host) {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("*");
    }

    private static String address(String host) {
        try {
            return InetAddress.getByName(host).getHostAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cluster.bind: unknown host " + host);
        }
    }

    /** The cluster-wide session directory (a Hazelcast map); after {@link #start}. */
    SessionDirectory sessionDirectory() {
        return new SessionDirectory(hazelcast);
    }

    /** The cluster's retained messages (a Hazelcast map); after {@link #start}. */
    RetainedMap retainedMap() {
        return new RetainedMap(hazelcast);
    }

    /** The copies of every node's stored sessions (a Hazelcast map); after {@link #start}. */
    SessionReplicas sessionReplicas(io.ternmq.broker.metrics.BrokerMetrics metrics) {
        return new SessionReplicas(hazelcast, metrics);
    }

    /**
     * Waits (at start, not on an event loop) until Hazelcast says every partition has its owner and backups in sync:
     * a member that just joined takes partitions over, and operations on a partition under way then may end in an
     * indeterminate state, which would refuse the first CONNECTs. At most {@code seconds}.
     *
     * @return whether it is
     */
    boolean awaitPartitionsSettled(long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            try {
                if (hazelcast.getPartitionService().isClusterSafe()) {
                    return true;
                }
            } catch (RuntimeException e) {
                // a member leaving mid-check: ask again
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(100);
        }
    }

    /** Watches this member's backups (see {@link BackupWatch}); after {@link #start}, closed with the membership. */
    void watchBackups(AtomicLong inSync) {
        backupWatch = new BackupWatch(hazelcast, inSync);
    }

    /** The wills of connected clients whose sessions end with their connections; after {@link #start}. */
    ConnectionWills connectionWills() {
        return new ConnectionWills(hazelcast);
    }

    /** The admin API's questions to other members (Hazelcast's executor service); after {@link #start}. */
    MemberQueries queries(SessionDirectory directory,
                          java.util.function.Function<String, NodeQueries.PeerState> peers) {
        return new MemberQueries(hazelcast, nodeId, directory, peers);
    }

    /** The admin API's sets every node sees the same (a Hazelcast map); after {@link #start}. */
    SharedSetsMap sharedSets() {
        return new SharedSetsMap(hazelcast);
    }

    /** The other nodes that are members now. */
    List<Peer> peers() {
        List<Peer> peers = new ArrayList<>();
        for (Member m : hazelcast.getCluster().getMembers()) {
            Peer p = peer(m);
            if (p != null) {
                peers.add(p);
            }
        }
        return peers;
    }

    @Override
    public void close() {
        if (backupWatch != null) {
            backupWatch.close();
        }
        if (hazelcast != null) {
            hazelcast.shutdown();
        }
    }

    /** The other node a member is; null for this node or a member that is no TernMQ node. */
    private static Peer peer(Member m) {
        if (m.localMember()) {
            return null;
        }
        String id = m.getAttribute(NODE_ID);
        String port = m.getAttribute(LINK_PORT);
        if (id == null || port == null) {
            return null;
        }
        try {
            return new Peer(id, m.getUuid().toString(), m.getAddress().getHost(), Integer.parseInt(port));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private final class Listener implements InitialMembershipListener {
        @Override
        public void init(InitialMembershipEvent event) {
            memberCount.set(event.getMembers().size());
            LOG.info("cluster: node {} is up, joining ({} members so far)", nodeId, event.getMembers().size());
            for (Member m : event.getMembers()) {
                added(m, event.getMembers().size());
            }
        }

        @Override
        public void memberAdded(MembershipEvent event) {
            memberCount.set(event.getMembers().size());
            added(event.getMember(), event.getMembers().size());
        }

        private void added(Member m, int members) {
            Peer p = peer(m);
            if (p != null) {
                LOG.info("cluster: node {} joined ({} members)", p.nodeId(), members);
                joined.accept(p);
            }
        }

        @Override
        public void memberRemoved(MembershipEvent event) {
            memberCount.set(event.getMembers().size());
            Peer p = peer(event.getMember());
            if (p != null) {
                LOG.info("cluster: node {} left ({} members)", p.nodeId(), event.getMembers().size());
                left.accept(p);
            }
        }
    }
}
