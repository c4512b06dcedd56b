package io.ternmq.broker.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.store.ReplicatedSession;
import io.ternmq.broker.store.StoreMirror;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The cluster's copies of every node's stored sessions: a Hazelcast map from client id to {@link ReplicaValue}, with
 * {@code cluster.backup_count} synchronous backups, and {@code hazelcast.operation.fail.on.indeterminate.state}, so
 * that a write counts only once its backups have it. As the store's {@link StoreMirror}, it sends each group's
 * writes, one {@link ReplicaUpdate} per client id (so a session's whole state lives on one partition), and releases
 * the group's acknowledgements once every update of it and of every earlier group is confirmed, in group order. A
 * node that adopts a dead node's session reads its copy here.
 *
 * <p>Callbacks run on Hazelcast's threads; the acknowledgements they release hand their work to the owners' loops.
 */
final class SessionReplicas implements StoreMirror {
    private static final Logger LOG = LoggerFactory.getLogger(SessionReplicas.class);
    static final String MAP = "ternmq.session-replicas";
    /** Tries of one update (all are idempotent) before its group is given up, unacknowledged. */
    private static final int ATTEMPTS = 5;

    private final IMap<String, ReplicaValue> map;
    private final HazelcastInstance hazelcast;
    private final BrokerMetrics metrics;
    /** Groups whose acknowledgements wait, oldest first; guarded by itself. */
    private final ArrayDeque<Group> waiting = new ArrayDeque<>();
    /** Flushes under way, at most {@link #MAX_FLUSHES}; and the one gathering groups meanwhile. Guarded by waiting. */
    private int flushing;
    private Flush next;
    private static final int MAX_FLUSHES = 2;
    private final java.util.concurrent.ScheduledExecutorService releaser = java.util.concurrent.Executors
            .newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "ternmq-cluster-replication");
                t.setDaemon(true);
                return t;
            });

    SessionReplicas(HazelcastInstance hazelcast, BrokerMetrics metrics) {
        this.hazelcast = hazelcast;
        this.map = hazelcast.getMap(MAP);
        this.metrics = metrics;
        releaser.scheduleWithFixedDelay(this::checkLag, LAG_WARN_SECONDS, LAG_WARN_SECONDS, TimeUnit.SECONDS);
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
        Group head;
        int groups;
        synchronized (waiting) {
            head = waiting.peek();
            groups = waiting.size();
        }
        if (head != null && System.nanoTime() - head.created > TimeUnit.SECONDS.toNanos(LAG_WARN_SECONDS)) {
            LOG.warn("cluster: acknowledgements wait for session copies: {} groups waiting, the oldest for {} ms "
                            + "(confirmed: {}, written locally: {}); {} updates pending", groups,
                    (System.nanoTime() - head.created) / 1_000_000, head.held, head.written,
                    metrics.replicationPending.get());
        }
    }

    /** The copy of a client's session, or null (completes on a Hazelcast thread). */
    CompletionStage<ReplicatedSession> get(String clientId) {
        return map.getAsync(clientId).thenApply(v -> v == null ? null : v.session());
    }

    /** Replaces a client's copy by the writes of {@code log} (a full session: a restored one, not copied before). */
    CompletionStage<Void> put(String clientId, byte[] log) {
        return map.submitToKey(clientId, new ReplicaUpdate(log)).thenApply(r -> null);
    }

    @Override
    public Copy copy(Map<String, byte[]> logs) {
        Group g = new Group();
        Flush ready = null;
        synchronized (waiting) {
            waiting.add(g);
            if (logs.isEmpty()) {
                g.held = true; // nothing to copy; it still waits for the groups before it
            } else {
                if (next == null) {
                    next = new Flush();
                }
                next.add(g, logs);
                if (flushing < MAX_FLUSHES) {
                    ready = next;
                    next = null;
                    flushing++;
                }
            }
        }
        if (ready != null) {
            ready.send();
        }
        return g;
    }

    /**
     * Logs of several groups, concatenated per client id, sent as one update per client: like the store's group
     * commit, a flush goes while the previous ones are under way, so a busy node sends few large updates rather
     * than many small ones.
     */
    private final class Flush {
        private final Map<String, java.io.ByteArrayOutputStream> logs = new java.util.HashMap<>();
        private final java.util.List<Group> groups = new java.util.ArrayList<>();
        private AtomicInteger updates;
        private volatile boolean failed;

        void add(Group g, Map<String, byte[]> groupLogs) {
            groups.add(g);
            for (Map.Entry<String, byte[]> e : groupLogs.entrySet()) {
                logs.computeIfAbsent(e.getKey(), k -> new java.io.ByteArrayOutputStream(e.getValue().length))
                        .writeBytes(e.getValue());
            }
        }

        void send() {
            updates = new AtomicInteger(logs.size());
            metrics.replicationPending.addAndGet(logs.size());
            for (Map.Entry<String, java.io.ByteArrayOutputStream> e : logs.entrySet()) {
                SessionReplicas.this.send(this, e.getKey(), new ReplicaUpdate(e.getValue().toByteArray()), 1);
            }
        }

        void updateDone(boolean ok) {
            if (!ok) {
                failed = true;
            }
            if (updates.decrementAndGet() != 0) {
                return;
            }
            for (Group g : groups) {
                g.failed = failed;
                g.held = true;
            }
            Flush ready = null;
            synchronized (waiting) {
                flushing--;
                if (next != null) {
                    ready = next;
                    next = null;
                    flushing++;
                }
            }
            if (ready != null) {
                ready.send();
            }
            drain();
        }
    }

    private void send(Flush f, String clientId, ReplicaUpdate update, int attempt) {
        try {
            map.submitToKey(clientId, update).whenComplete((r, failure) -> sent(f, clientId, update, attempt,
                    failure));
        } catch (RuntimeException e) {
            sent(f, clientId, update, attempt, e); // the member is shutting down
        }
    }

    private void sent(Flush f, String clientId, ReplicaUpdate update, int attempt, Throwable failure) {
        if (failure == null) {
            metrics.replicationPending.decrementAndGet();
            f.updateDone(true);
        } else if (attempt < ATTEMPTS && !(failure instanceof com.hazelcast.core.HazelcastInstanceNotActiveException)) {
            // an indeterminate backup, a member leaving: the update is idempotent, so it goes again
            CompletableFuture.delayedExecutor(50L * attempt, TimeUnit.MILLISECONDS)
                    .execute(() -> send(f, clientId, update, attempt + 1));
        } else {
            metrics.replicationPending.decrementAndGet();
            metrics.replicationFailures.increment();
            LOG.warn("cluster: the copy of client '{}''s session was not confirmed ({} tries: {}); what waited for "
                    + "it is not acknowledged", clientId, attempt, failure.toString());
            f.updateDone(false);
        }
    }

    /**
     * Runs released groups' callbacks in order, on this class's own thread: never inline where a copy completes or
     * a group is written (that may be an event loop in the middle of a session's work, which a callback re-entering
     * the session would break).
     */
    private void drain() {
        try {
            releaser.execute(this::release);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // stopping: nothing more is acknowledged
        }
    }

    private void release() {
        while (true) {
            Group head;
            synchronized (waiting) {
                head = waiting.peek();
                if (head == null || !head.releasable()) {
                    return;
                }
                waiting.poll();
            }
            Runnable r = head.applied;
            if (r != null && !head.failed) {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    LOG.error("cluster: a store callback failed after replication", e);
                }
            }
        }
    }

    /** Stops releasing (the broker is stopping). */
    void close() {
        releaser.shutdown();
    }

    /** One group's copy: whether it is held (its flush confirmed), and what runs once it and the local write are. */
    private final class Group implements Copy {
        final long created = System.nanoTime();
        volatile boolean held;
        volatile boolean written;
        volatile boolean failed;
        private volatile Runnable applied;

        boolean releasable() {
            return written && held;
        }

        @Override
        public void then(Runnable applied) {
            this.applied = applied;
            written = true;
            drain();
        }
    }
}
