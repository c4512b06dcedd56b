package io.ternmq.broker.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.store.ReplicatedSession;
import io.ternmq.broker.store.StoreMirror;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * The cluster's copies of every node's stored sessions: a Hazelcast map from client id to {@link ReplicaValue}, with
 * {@code cluster.backup_count} synchronous backups, and {@code hazelcast.operation.fail.on.indeterminate.state}, so
 * that a write counts only once its backups have it. As the store's {@link StoreMirror}, it sends each group's
 * writes, one {@link ReplicaUpdate} per client id (so a session's whole state lives on one partition), through
 * {@link ReplicaCopies}, which releases the group's acknowledgements once they are confirmed, in group order. A node
 * that adopts a dead node's session reads its copy here.
 */
final class SessionReplicas implements StoreMirror {
    private static final Logger LOG = LoggerFactory.getLogger(SessionReplicas.class);
    static final String MAP = "ternmq.session-replicas";

    private final IMap<String, ReplicaValue> map;
    private final HazelcastInstance hazelcast;
    private final BrokerMetrics metrics;
    private final ReplicaCopies copies;

    SessionReplicas(HazelcastInstance hazelcast, BrokerMetrics metrics) {
        this.hazelcast = hazelcast;
        this.map = hazelcast.getMap(MAP);
        this.metrics = metrics;
        this.copies = new ReplicaCopies(map::submitToKey,
                failure -> !(failure instanceof com.hazelcast.core.HazelcastInstanceNotActiveException),
                hazelcast.getPartitionService()::isClusterSafe, metrics);
        copies.every(LAG_WARN_SECONDS, this::checkLag);
    }

    private static final long LAG_WARN_SECONDS = 5;

    /** Warns when acknowledgements have waited long for their copies (a member slow to confirm its backups). */
    private void checkLag() {
        try {
            // a backup needs another member; with fewer members than backups, each owned replica lacks one
            boolean alone = hazelcast.getCluster().getMembers().size() < 2;
            metrics.sessionsWithoutBackup.set(alone ? map.getLocalMapStats().getOwnedEntryCount() : 0);
        } catch (RuntimeException e) {
            // shutting down
        }
        String oldest = copies.oldestWaiting(TimeUnit.SECONDS.toNanos(LAG_WARN_SECONDS));
        if (oldest != null) {
            LOG.warn("cluster: acknowledgements wait for session copies: {}; {} updates pending", oldest,
                    metrics.replicationPending.get());
        }
    }

    /**
     * The copy of a client's session a node adopts (while a handover's claim has not committed, the holder's
     * incarnation), or null (completes on a Hazelcast thread).
     */
    CompletionStage<ReplicatedSession> get(String clientId) {
        return map.getAsync(clientId).thenApply(v -> v == null ? null : v.session().adoptable());
    }

    /** Replaces a client's copy by the writes of {@code log} (a full session: a restored one, not copied before). */
    CompletionStage<Void> put(String clientId, byte[] log) {
        return map.submitToKey(clientId, new ReplicaUpdate(log)).thenApply(r -> null);
    }

    @Override
    public Copy copy(Map<String, byte[]> logs, Set<String> first) {
        return copies.copy(logs, first);
    }

    /** A member left: acknowledgements wait until its partitions have their backups again ({@link ReplicaCopies}). */
    void memberLeft() {
        copies.memberLeft();
    }

    /** Stops releasing (the broker is stopping). */
    void close() {
        copies.close();
    }
}
