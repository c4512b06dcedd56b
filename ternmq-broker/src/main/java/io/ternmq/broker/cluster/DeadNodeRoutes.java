package io.ternmq.broker.cluster;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The routes of nodes that left, kept until their sessions are adopted elsewhere: meanwhile QoS 1/2 messages routed
 * to such a node go to the members adopting its sessions ({@link OrphanedForwards}) instead of nowhere. They go once
 * the session directory names none of its sessions, {@link #GRACE_SECONDS} later (for the adopters' routes to reach
 * every node), or after {@link #KEPT_SECONDS} at the latest (a session without a replica is never adopted), or when
 * the node joins again (its new run announces its own). One thread per dead node asks the directory: the query blocks.
 */
final class DeadNodeRoutes {
    /** After the directory names none of the dead node's sessions, its routes stay this much longer. */
    static final long GRACE_SECONDS = 2;
    /** Its routes go after this at the latest. */
    static final long KEPT_SECONDS = 30;

    private final ClusterNode cluster;
    /** Dead nodes whose routes are still kept, by node id. */
    private final Map<String, RemoteNode> kept = new ConcurrentHashMap<>();

    DeadNodeRoutes(ClusterNode cluster) {
        this.cluster = cluster;
    }

    /** The node left: its routes stay until its sessions are adopted (the membership's thread). */
    void keep(String deadId, RemoteNode node) {
        RemoteNode before = kept.put(deadId, node);
        if (before != null) {
            before.forget();
        }
        Thread watcher = new Thread(() -> forgetWhenAdopted(deadId, node), "ternmq-cluster-routes-of-" + deadId);
        watcher.setDaemon(true);
        watcher.start();
    }

    /** The node joined again: its earlier run's routes go. */
    void nodeJoined(String id) {
        RemoteNode old = kept.remove(id);
        if (old != null) {
            old.forget();
        }
    }

    private void forgetWhenAdopted(String deadId, RemoteNode node) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(KEPT_SECONDS);
        try {
            while (System.nanoTime() < deadline && kept.get(deadId) == node && !cluster.isClosing()) {
                Thread.sleep(500);
                boolean adopted;
                try {
                    adopted = cluster.directory().heldBy(deadId).isEmpty();
                } catch (RuntimeException e) {
                    continue; // the cluster is changing: ask again
                }
                if (adopted) {
                    Thread.sleep(GRACE_SECONDS * 1000);
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (kept.remove(deadId, node)) {
            node.forget();
        }
    }
}
