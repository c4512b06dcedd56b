package io.ternmq.broker.cluster;

import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.store.StoreMirror;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The store's groups of session writes on their way to the replica map ({@link SessionReplicas}): one
 * {@link ReplicaUpdate} per client id, a group's acknowledgements released once every update of it and of every
 * earlier group is confirmed, in group order. Like the store's group commit, a flush of the groups gathered goes while
 * the previous ones are under way, so a busy node sends few large updates rather than many small ones.
 *
 * <p>Within a flush, the updates of the clients a group names first (QoS 2 publishers whose packet ids it stores) go
 * before the others: the copies of a publisher's session and of its subscribers' live on different partitions, and a
 * node dying between them must not leave a subscriber's copy holding a message whose packet id no copy holds, for its
 * publisher then sends it again and the adopter routes it as new (a chaos run gave a QoS 2 message twice so).
 *
 * <p>Callbacks of the sender run on Hazelcast's threads; the acknowledgements they release run on this class's own.
 */
final class ReplicaCopies implements StoreMirror {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicaCopies.class);
    /** Tries of one update (all are idempotent) before its group is given up, unacknowledged. */
    private static final int ATTEMPTS = 5;
    private static final int MAX_FLUSHES = 2;

    /** Sends one client's update to its copy: the replica map's entry processor. */
    interface Sender {
        CompletionStage<?> submit(String clientId, ReplicaUpdate update);
    }

    /** Whether a failed update is worth another try (not when the member is shutting down). */
    interface Retry {
        boolean worthIt(Throwable failure);
    }

    private final Sender sender;
    private final Retry retry;
    private final BrokerMetrics metrics;
    /** Groups whose acknowledgements wait, oldest first; guarded by itself. */
    private final ArrayDeque<Group> waiting = new ArrayDeque<>();
    /** Flushes under way, at most {@link #MAX_FLUSHES}; and the one gathering groups meanwhile. Guarded by waiting. */
    private int flushing;
    private Flush next;
    private final java.util.concurrent.ScheduledExecutorService releaser = java.util.concurrent.Executors
            .newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "ternmq-cluster-replication");
                t.setDaemon(true);
                return t;
            });

    ReplicaCopies(Sender sender, Retry retry, BrokerMetrics metrics) {
        this.sender = sender;
        this.retry = retry;
        this.metrics = metrics;
    }

    /** Runs {@code task} every {@code seconds} on the releasing thread. */
    void every(long seconds, Runnable task) {
        releaser.scheduleWithFixedDelay(task, seconds, seconds, TimeUnit.SECONDS);
    }

    /** The oldest group still waiting: how long it has, whether confirmed and written; null if none waits. */
    String oldestWaiting(long olderThanNanos) {
        Group head;
        int groups;
        synchronized (waiting) {
            head = waiting.peek();
            groups = waiting.size();
        }
        long age = head == null ? 0 : System.nanoTime() - head.created;
        if (head == null || age <= olderThanNanos) {
            return null;
        }
        return groups + " groups waiting, the oldest for " + age / 1_000_000 + " ms (confirmed: " + head.held
                + ", written locally: " + head.written + ")";
    }

    @Override
    public Copy copy(Map<String, byte[]> logs, Set<String> first) {
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
                next.add(g, logs, first);
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

    /** Logs of several groups, concatenated per client id, sent as one update per client; those named first first. */
    private final class Flush {
        private final Map<String, ByteArrayOutputStream> logs = new HashMap<>();
        private final Set<String> first = new HashSet<>();
        private final List<Group> groups = new ArrayList<>();
        private AtomicInteger updates;
        /** What goes once the first updates are confirmed; set by {@link #send}, taken by the last of them. */
        private Map<String, ByteArrayOutputStream> then;
        private volatile boolean failed;

        void add(Group g, Map<String, byte[]> groupLogs, Set<String> groupFirst) {
            groups.add(g);
            for (Map.Entry<String, byte[]> e : groupLogs.entrySet()) {
                logs.computeIfAbsent(e.getKey(), k -> new ByteArrayOutputStream(e.getValue().length))
                        .writeBytes(e.getValue());
            }
            first.addAll(groupFirst);
        }

        void send() {
            first.retainAll(logs.keySet());
            if (first.isEmpty() || first.size() == logs.size()) {
                sendAll(logs);
                return;
            }
            Map<String, ByteArrayOutputStream> now = new HashMap<>();
            then = new HashMap<>();
            logs.forEach((client, log) -> (first.contains(client) ? now : then).put(client, log));
            sendAll(now);
        }

        private void sendAll(Map<String, ByteArrayOutputStream> batch) {
            updates = new AtomicInteger(batch.size());
            metrics.replicationPending.addAndGet(batch.size());
            for (Map.Entry<String, ByteArrayOutputStream> e : batch.entrySet()) {
                ReplicaCopies.this.send(this, e.getKey(), new ReplicaUpdate(e.getValue().toByteArray()), 1);
            }
        }

        void updateDone(boolean ok) {
            if (!ok) {
                failed = true;
            }
            if (updates.decrementAndGet() != 0) {
                return;
            }
            Map<String, ByteArrayOutputStream> rest = then;
            then = null;
            if (rest != null && !failed) {
                sendAll(rest); // a failed first update leaves the rest unsent: the group is not acknowledged anyway
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
            sender.submit(clientId, update).whenComplete((r, failure) -> sent(f, clientId, update, attempt,
                    failure));
        } catch (RuntimeException e) {
            sent(f, clientId, update, attempt, e); // the member is shutting down
        }
    }

    private void sent(Flush f, String clientId, ReplicaUpdate update, int attempt, Throwable failure) {
        if (failure == null) {
            metrics.replicationPending.decrementAndGet();
            f.updateDone(true);
        } else if (attempt < ATTEMPTS && retry.worthIt(failure)) {
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
