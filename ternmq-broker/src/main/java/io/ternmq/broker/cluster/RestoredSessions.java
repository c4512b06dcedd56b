package io.ternmq.broker.cluster;

import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.session.LocalSessionRegistry;
import io.ternmq.broker.session.Session;
import io.ternmq.broker.store.StoredEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The sessions a node restored from its own store, as it joins its cluster: recorded in the session directory (a
 * full restart of the cluster empties it), made adoptable (replicated whole), dropped where another node holds them
 * now, or, for the sessions of this node's earlier run that died and that no survivor adopted, adopted from their
 * replicas like a survivor would, or, lacking a replica, kept with the orphans the members kept for them. What the
 * members route to them meanwhile waits ({@link #hold}) until each is settled. At start only, before the listeners
 * open; not on an event loop.
 */
final class RestoredSessions {
    private static final Logger LOG = LoggerFactory.getLogger(RestoredSessions.class);

    private final LocalSessionRegistry local;
    private final SessionAdoption adoption;
    /** The sessions restored from this node's store, holding what is routed to them until they are registered. */
    private List<Session> restoredHolding = List.of();

    RestoredSessions(LocalSessionRegistry local, SessionAdoption adoption) {
        this.local = local;
        this.adoption = adoption;
    }

    /**
     * Before the data links come up: what the members route to the sessions restored from this node's store waits
     * until each is registered ({@link #register}), for the orphans a session of a dead run takes then go
     * before it (a chaos run gave a block of them after later messages).
     */
    void hold() {
        restoredHolding = local.holdRestored();
    }

    /**
     * Records the sessions this node restored from its store in the directory, so that after a restart of the whole
     * cluster (which empties the directory) their clients find them from any node. Blocks (at start, before the
     * listeners open; not on an event loop). A session the directory says another node holds is left alone.
     */
    void register(ClusterNode n, SessionReplicas replicas, ConnectionWills wills) {
        adoption.bind(n, replicas, wills);
        List<java.util.concurrent.CompletableFuture<Void>> pending = new ArrayList<>();
        int[] elsewhere = new int[1];
        java.util.Set<String> earlier = earlierRunSessions(n);
        int[] readopted = new int[1];
        for (String clientId : earlier) {
            // held by this node's run that died, and not adopted by a survivor (it was back too soon): adopted here
            // from its replica with the orphans the members kept for it, as a survivor would. Its copy restored from
            // this node's store may hold QoS 2 ids whose copies for other nodes never left before the crash (they
            // wait for the id to be replicated), and lacks what the members orphaned since
            Session restored = local.get(clientId);
            pending.add(adoption.adopt(clientId, n.nodeId()).thenCompose(adopted -> {
                if (adopted) {
                    synchronized (readopted) {
                        readopted[0]++;
                    }
                    if (restored != null) {
                        local.endHold(restored); // replaced by the adopted copy, which gets the orphans of them
                    }
                    return java.util.concurrent.CompletableFuture.<Void>completedFuture(null);
                }
                // its replica is missing (a partition lost, say): the copy restored here goes on, and takes the orphans
                // the members kept for it, which it lacks
                return restored == null ? java.util.concurrent.CompletableFuture.<Void>completedFuture(null)
                        : registerOne(n, replicas, restored, elsewhere, true);
            }).toCompletableFuture());
        }
        for (Session s : local.all()) {
            if (earlier.contains(s.clientId())) {
                continue;
            }
            pending.add(registerOne(n, replicas, s, elsewhere, false));
        }
        try {
            java.util.concurrent.CompletableFuture.allOf(pending.toArray(new java.util.concurrent.CompletableFuture<?>[0]))
                    .get(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.warn("cluster: restored sessions not all recorded in the session directory and replicated: {}",
                    e.toString());
        }
        restoredHolding.forEach(local::endHold); // those not registered in time, too
        restoredHolding = List.of();
        if (!pending.isEmpty()) {
            LOG.info("cluster: {} restored sessions recorded in the session directory and replicated ({} held by "
                            + "other nodes, {} adopted from this node's earlier run)",
                    pending.size(), elsewhere[0], readopted[0]);
        }
        // the members keep the earlier run's routes (orphaning what matches them) until these sessions are routed here
        n.routes().whenPeersHaveAll(() -> n.orphans().announceRunReady());
    }

    /**
     * The sessions the directory says this node holds, if a member saw an earlier run of this node die: that run's,
     * which no survivor adopted. None (restored from the store as they are) if no member saw it die (the whole cluster
     * restarted, or this node is new) or it restored nothing.
     */
    private java.util.Set<String> earlierRunSessions(ClusterNode n) {
        if (local.size() == 0) {
            return java.util.Set.of();
        }
        try {
            List<String> peers = n.peers().stream().map(Peer::nodeId).toList();
            String run = n.orphans().awaitEarlierRun(peers, EARLIER_RUN_SECONDS);
            if (run == null) {
                return java.util.Set.of();
            }
            java.util.Set<String> held = n.directory().heldBy(n.nodeId());
            LOG.info("cluster: run {} of this node died; {} of its sessions were not adopted and are adopted here",
                    run, held.size());
            return held;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return java.util.Set.of();
        } catch (RuntimeException e) {
            LOG.warn("cluster: could not list the sessions of this node's earlier run: {}", e.toString());
            return java.util.Set.of();
        }
    }

    /** How long a node restarted on its data waits for each member to say whether an earlier run of it died. */
    private static final long EARLIER_RUN_SECONDS = 10;

    /**
     * A restored session: held here if the directory names nobody else (then made adoptable), else dropped. What was
     * routed to it meanwhile joins its queue then.
     *
     * @param orphaned whether it is a session of this node's earlier run that died, not adopted for lack of a
     *                 replica: the orphans of that run that it lacks join its queue first
     */
    private java.util.concurrent.CompletableFuture<Void> registerOne(ClusterNode n, SessionReplicas replicas,
                                                                    Session s, int[] elsewhere, boolean orphaned) {
        return n.directory().registerRestored(s.clientId(), n.nodeId()).thenCompose(entry -> {
            if (entry.holder().equals(n.nodeId())) {
                s.held(entry.generation());
                // waited for too: the node serves only once what it restored could be adopted if it died
                if (orphaned) {
                    return withOrphans(n, s).thenCompose(given -> replicateRestored(s, replicas));
                }
                return replicateRestored(s, replicas);
            } else {
                if (n.isMember(entry.holder())) {
                    // a live node has it (it adopted it while this node was dead, or took it over): the copy
                    // here is stale, and neither routes nor publishes a will again
                    local.discardStale(s);
                }
                synchronized (elsewhere) {
                    elsewhere[0]++;
                }
                return java.util.concurrent.CompletableFuture.<Void>completedFuture(null);
            }
        }).toCompletableFuture().whenComplete((done, failure) -> local.endHold(s));
    }

    /**
     * A session of this node's earlier run, restored from its store because its replica is missing: the orphans the
     * members kept for that run that it lacks join its queue (those routed to the run after it died, and those
     * forwarded to it before that are not in its queue), and later ones as they come; complete once they are
     * stored. Read on its owner loop.
     */
    private java.util.concurrent.CompletableFuture<Void> withOrphans(ClusterNode n, Session s) {
        java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
        s.submit(() -> {
            if (s.isEnded() || s.storedQueue() == null) {
                done.complete(null);
                return;
            }
            readQueue(s.storedQueue(), 0, new ArrayList<>(), entries -> {
                int given = n.orphans().restoredWithoutReplica(s, entries, local);
                if (given > 0) {
                    LOG.info("cluster: the session of client '{}' restored here without a replica got {} QoS 1/2 "
                            + "messages the members kept for it while this node was dead", s.clientId(), given);
                }
                s.storedQueue().barrier(() -> done.complete(null));
            });
        });
        return done;
    }

    /**
     * A session restored from this node's store, held here: its replica is made whole (a full restart of the cluster
     * empties the replicas; until now only what changed would be there), so that it can be adopted if this node dies.
     * Read on its owner loop, sent without waiting.
     */
    private java.util.concurrent.CompletableFuture<Void> replicateRestored(Session s, SessionReplicas replicas) {
        java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
        s.submit(() -> {
            if (s.isEnded() || s.storedQueue() == null) {
                done.complete(null);
                return;
            }
            io.ternmq.broker.store.SessionRecord record = s.storedRecord();
            List<Subscription> subs = List.copyOf(s.subscriptions());
            List<Integer> qos2 = s.inboundQos2();
            readQueue(s.storedQueue(), 0, new ArrayList<>(), entries -> replicas.put(s.clientId(),
                    io.ternmq.broker.store.ReplicatedSession.fullLog(record, subs, qos2, entries))
                    .whenComplete((ok, failure) -> {
                        if (failure != null) {
                            LOG.warn("cluster: the restored session of client '{}' was not replicated: {}",
                                    s.clientId(), failure.toString());
                        }
                        done.complete(null);
                    }));
        });
        return done;
    }

    private static void readQueue(io.ternmq.broker.store.StoredQueue q, long from, List<StoredEntry> into,
                                  java.util.function.Consumer<List<StoredEntry>> then) {
        q.read(from, RESTORED_PAGE, page -> {
            into.addAll(page);
            if (page.size() == RESTORED_PAGE) {
                readQueue(q, page.get(page.size() - 1).entry().seq() + 1, into, then);
            } else {
                then.accept(into);
            }
        });
    }

    private static final int RESTORED_PAGE = 1000;
}
