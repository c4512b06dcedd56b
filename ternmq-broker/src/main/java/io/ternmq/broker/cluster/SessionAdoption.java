package io.ternmq.broker.cluster;

import io.netty.util.concurrent.EventExecutor;
import io.ternmq.broker.message.MessageIdentity;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.session.Adoption;
import io.ternmq.broker.session.LocalSessionRegistry;
import io.ternmq.broker.store.ReplicatedSession;
import io.ternmq.broker.store.StoredEntry;
import io.ternmq.codec.QoS;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Adopting the sessions of a node that left the cluster (died, or was cut off past the failure timeout): each is
 * taken by exactly one survivor, the one whose entry processor on the session directory moves the holder from the
 * dead node to itself ({@link SessionDirectory#adopt}, with a new fencing generation), and imported from its replica
 * ({@link SessionReplicas}) into that survivor's store, offline, with its queue, PUBREC state, inbound QoS 2 ids and
 * its will (published after what is left of its delay, unless the client comes back in time). From then on it is an
 * ordinary session of that node: its client resumes it on any node (a remote takeover moves it there).
 *
 * <p>When a member leaves, every survivor adopts first the sessions whose directory partition it owns, then, a
 * little later, whatever nobody took; a CONNECT that finds its holder gone adopts its own session. The directory
 * query runs on this class's own thread, never on an event loop.
 */
final class SessionAdoption implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SessionAdoption.class);
    /** Adoptions under way at once, per scan. */
    private static final int PARALLEL = 64;
    /** After the first pass (partitions owned here), the second (everything left) starts this much later. */
    static final long SECOND_PASS_SECONDS = 3;

    private final LocalSessionRegistry local;
    private final BrokerMetrics metrics;
    private final Supplier<EventExecutor> loops;
    /**
     * Whether this node may adopt (it sees at least cluster.min_members members): a node cut off from the others
     * adopts none of their sessions and publishes none of their clients' wills, for the other side, which serves,
     * does.
     */
    private final java.util.function.BooleanSupplier mayAdopt;
    private final ExecutorService scans = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "ternmq-cluster-adoption");
        t.setDaemon(true);
        return t;
    });
    private volatile ClusterNode node;
    private volatile SessionReplicas replicas;
    private volatile ConnectionWills wills;
    /** Adoptions under way here, by client id: registered before the directory names this node. */
    private final java.util.concurrent.ConcurrentHashMap<String, CompletableFuture<Boolean>> adopting =
            new java.util.concurrent.ConcurrentHashMap<>();

    SessionAdoption(LocalSessionRegistry local, BrokerMetrics metrics, Supplier<EventExecutor> loops,
                    java.util.function.BooleanSupplier mayAdopt) {
        this.mayAdopt = mayAdopt;
        this.local = local;
        this.metrics = metrics;
        this.loops = loops;
    }

    void bind(ClusterNode node, SessionReplicas replicas, ConnectionWills wills) {
        this.node = node;
        this.replicas = replicas;
        this.wills = wills;
    }

    /** A member left: its persistent sessions are adopted (Hazelcast's event thread; the work runs elsewhere). */
    void nodeLeft(String dead) {
        try {
            scans.execute(() -> publishWills(dead));
            scans.execute(() -> scan(dead, true));
            CompletableFuture.delayedExecutor(SECOND_PASS_SECONDS, TimeUnit.SECONDS, scans)
                    .execute(() -> scan(dead, false));
        } catch (RejectedExecutionException e) {
            // stopping
        }
    }

    /**
     * The wills of the dead node's clients whose sessions ended with their connections (no session to adopt): each
     * taken by one survivor (an entry processor) and published at once, since such a session ends with its
     * connection, and with it any Will Delay Interval.
     */
    private void publishWills(String dead) {
        ClusterNode n = node;
        ConnectionWills w = wills;
        if (n == null || w == null || n.isMember(dead) || !mayAdopt.getAsBoolean()) {
            return;
        }
        Set<String> held;
        try {
            held = w.heldBy(dead);
        } catch (RuntimeException e) {
            LOG.warn("cluster: could not list the wills of node {}'s clients: {}", dead, e.toString());
            return;
        }
        for (String clientId : held) {
            if (!mayAdopt.getAsBoolean()) {
                return;
            }
            w.take(clientId, dead).whenComplete((will, failure) -> {
                if (will != null) {
                    metrics.deadNodeWillsPublished.increment();
                    LOG.info("cluster: published the will of client '{}' of dead node {}", clientId, dead);
                    local.publishWill(will);
                } else if (failure != null) {
                    LOG.warn("cluster: the will of client '{}' of dead node {} could not be taken: {}", clientId,
                            dead, failure.toString());
                }
            });
        }
    }

    private void scan(String dead, boolean ownedOnly) {
        ClusterNode n = node;
        if (n == null || n.isMember(dead)) {
            return; // it came back (restarted on its data): its sessions are its own again
        }
        Set<String> held;
        try {
            held = n.directory().heldBy(dead);
        } catch (RuntimeException e) {
            LOG.warn("cluster: could not list the sessions of node {} to adopt: {}", dead, e.toString());
            return;
        }
        Semaphore slots = new Semaphore(PARALLEL);
        List<CompletableFuture<Boolean>> all = new ArrayList<>();
        for (String clientId : held) {
            if (!mayAdopt.getAsBoolean()) {
                LOG.info("cluster: adopting node {}'s sessions stopped: this node sees too few members", dead);
                break;
            }
            if (ownedOnly && !n.directory().ownedHere(clientId)) {
                continue;
            }
            try {
                slots.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            CompletableFuture<Boolean> f = adopt(clientId, dead).toCompletableFuture();
            f.whenComplete((ok, failure) -> slots.release());
            all.add(f);
        }
        long adopted = all.stream().filter(f -> f.join()).count(); // on this thread, never a loop
        if (adopted > 0) {
            LOG.info("cluster: adopted {} sessions of node {} (of {} it held)", adopted, dead, held.size());
        }
    }

    /**
     * Adopts the session of {@code clientId}, which the directory says the departed node {@code dead} holds, if its
     * replica exists and no other node adopts it first.
     *
     * @return whether this node adopted it (completes once it is imported and routed here, on no particular thread)
     */
    CompletionStage<Boolean> adopt(String clientId, String dead) {
        ClusterNode n = node;
        SessionReplicas r = replicas;
        if (n == null || r == null || n.isMember(dead)) {
            return CompletableFuture.completedFuture(false);
        }
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        CompletableFuture<Boolean> already = adopting.putIfAbsent(clientId, result);
        if (already != null) {
            return already; // under way here already (the scan, and a CONNECT of the client)
        }
        // a session whose replica is missing stays refused until its node is back: never adopted empty. First the
        // other members' orphans of the dead node (QoS 1/2 it had not confirmed), so that they enter the queue with
        // the rest, before anything routed to the adopted session
        n.orphans().whenAllSent(dead).thenCompose(ready -> r.get(clientId)).thenCompose(copy -> {
            if (copy == null || !copy.hasRecord()) {
                // which of the two: a lost partition (logged as such), or writes that left a copy without its record
                LOG.warn("cluster: the session of client '{}' (node {}) has no replica ({}); not adopted", clientId,
                        dead, copy == null ? "none in the map" : copy);
                return CompletableFuture.completedFuture(false);
            }
            if (n.isMember(dead)) {
                // restarted on its data meanwhile: it adopts its earlier run's sessions itself (it was told of that
                // run when it joined, after this node saw it join)
                return CompletableFuture.completedFuture(false);
            }
            // the dead node writes no more: the copy read is the one it last had confirmed
            return n.directory().adopt(clientId, dead, n.nodeId()).thenApply(entry -> {
                if (entry == null) {
                    return false;
                }
                imported(n, clientId, dead, entry.generation(), copy);
                return true;
            });
        }).exceptionally(failure -> {
            LOG.warn("cluster: adopting the session of client '{}' from node {} failed: {}", clientId, dead,
                    failure.toString());
            return false;
        }).thenAccept(adopted -> {
            adopting.remove(clientId, result);
            result.complete(adopted);
        });
        return result;
    }

    /**
     * Runs {@code then} once no adoption of the client's session is under way here: a handover request that finds
     * the directory naming this node as the adopter must not be answered before the session is here.
     */
    void afterAdoption(String clientId, Runnable then) {
        CompletableFuture<Boolean> f = adopting.get(clientId);
        if (f == null) {
            then.run();
        } else {
            f.whenComplete((adopted, failure) -> then.run());
        }
    }

    private void imported(ClusterNode n, String clientId, String dead, long generation, ReplicatedSession copy) {
        ReplicatedSession.Import in = copy.toImport(clientId);
        AdoptedOrphans adopted = n.orphans().entriesFor(dead, clientId, in);
        // adopted before from other dead runs (and then the adopter died): their late orphans still come
        List<AdoptedOrphans> earlier = n.orphans().earlierRuns(dead, clientId, in);
        List<StoredEntry> orphans = adopted == null ? List.of() : adopted.entries;
        List<StoredEntry> entries = in.entries();
        if (!orphans.isEmpty()) {
            entries = new ArrayList<>(entries);
            entries.addAll(orphans);
        }
        // named by the dead node's run, not its id: a node restarted on its data dies again as another run, and
        // what this session's replica had of the earlier run says nothing of the later one's messages
        Set<MessageIdentity> replicaQos2 = new HashSet<>(in.completedQos2());
        for (StoredEntry e : in.entries()) {
            if (e.message().qos() == QoS.EXACTLY_ONCE) {
                replicaQos2.add(MessageIdentity.of(e.message()));
            }
        }
        Adoption adoption = new Adoption(n.orphans().runOf(dead), replicaQos2,
                System.currentTimeMillis() + OrphanedForwards.KEEP_SECONDS * 1000);
        local.adopt(generation, in.record(), in.subscriptions(), in.inboundQos2(), entries, loops.get(),
                adoption, in.inboundCreated(), (w, key) -> {
                    // the dead runs it was adopted from, with the session itself: a later adopter gives their late
                    // orphans (a chaos run lost 51 when this record, sent after the import, was held back by
                    // replication stalled after a death, and this node died before it went)
                    if (adopted != null) {
                        adopted.recordWith(w, key);
                    }
                    for (AdoptedOrphans e : earlier) {
                        e.recordWith(w, key);
                    }
                }, s -> {
                    if (adopted != null) {
                        n.orphans().made(adopted, s, local); // orphans that came meanwhile, before anything routed
                    }
                    for (AdoptedOrphans e : earlier) {
                        n.orphans().made(e, s, local);
                    }
                });
        metrics.sessionsAdopted.increment();
        LOG.info("cluster: adopted the session of client '{}' from dead node {} ({} queued messages{}{})", clientId,
                dead, entries.size(), orphans.isEmpty() ? "" : ", " + orphans.size() + " of them forwarded to it "
                        + "unconfirmed", in.record().will() == null ? ""
                        : ", a will due in " + in.record().willDelaySeconds() + " s");
    }

    @Override
    public void close() {
        scans.shutdownNow();
    }
}
