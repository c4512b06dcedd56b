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
 * <p>After a member leaves, some partitions have no backup until Hazelcast re-replicates them (seconds; longer when a
 * migration to a member that just joined fails), and a write to one is confirmed without a backup. So from a member's
 * leaving (or an update that needed another try) until Hazelcast says every partition's backups are in sync again,
 * the groups confirmed meanwhile wait: what is acknowledged is on two members (a chaos run lost a session's copy,
 * written 0.5 s after a death and confirmed by its owner alone, when that owner died 4 s later).
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

    /** Whether every partition's backups are in sync (Hazelcast's isClusterSafe, which asks every member). */
    interface Safety {
        boolean clusterSafe();
    }

    /** How often the backups are checked while groups wait for them. */
    private static final long SAFETY_CHECK_MILLIS = 100;
    /** How long groups wait for the backups at most; then they are acknowledged anyway, with a warning. */
    static final long SAFETY_WAIT_SECONDS = 30;

    private final Sender sender;
    private final Retry retry;
    private final Safety safety;
    private final BrokerMetrics metrics;
    /** Groups whose acknowledgements wait, oldest first; guarded by itself. */
    private final ArrayDeque<Group> waiting = new ArrayDeque<>();
    /** Flushes under way, at most {@link #MAX_FLUSHES}; and the one gathering groups meanwhile. Guarded by waiting. */
    private int flushing;
    private Flush next;
    /** The flush started last (guarded by waiting): the next one's deferred updates go after its. */
    private Flush lastStarted;
    /**
     * Guarded by waiting: how many times backups may have gone missing (a member left, an update needed another
     * try); up to which of those a safety check that started after it found every backup in sync; whether a check is
     * scheduled, and since when the backups have been in doubt.
     */
    private long doubts;
    private long safeThrough;
    private boolean checking;
    private long doubtSince;
    private final java.util.concurrent.ScheduledExecutorService releaser = java.util.concurrent.Executors
            .newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "ternmq-cluster-replication");
                t.setDaemon(true);
                return t;
            });

    ReplicaCopies(Sender sender, Retry retry, Safety safety, BrokerMetrics metrics) {
        this.sender = sender;
        this.retry = retry;
        this.safety = safety;
        this.metrics = metrics;
    }

    /** A member left: the groups confirmed from now on wait until every partition has its backups in sync again. */
    void memberLeft() {
        doubt("a member left");
    }

    private void doubt(String why) {
        synchronized (waiting) {
            doubts++;
            if (checking) {
                return;
            }
            checking = true;
            doubtSince = System.nanoTime();
        }
        metrics.acknowledgementsAwaitBackups.set(1);
        LOG.info("cluster: acknowledgements wait until every partition's backups are in sync again ({})", why);
        schedule(this::checkSafe, 0);
    }

    private void schedule(Runnable task, long millis) {
        try {
            releaser.schedule(task, millis, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // stopping: nothing more is acknowledged
        }
    }

    /** On the releasing thread, while groups may wait for the backups. */
    private void checkSafe() {
        long doubt;
        long since;
        synchronized (waiting) {
            doubt = doubts;
            since = doubtSince;
        }
        boolean safe;
        try {
            safe = safety.clusterSafe();
        } catch (RuntimeException e) {
            safe = false; // a member leaving mid-check, or shutting down
        }
        long waited = System.nanoTime() - since;
        if (!safe && waited < TimeUnit.SECONDS.toNanos(SAFETY_WAIT_SECONDS)) {
            schedule(this::checkSafe, SAFETY_CHECK_MILLIS);
            return;
        }
        boolean again;
        synchronized (waiting) {
            safeThrough = Math.max(safeThrough, doubt);
            again = doubts != doubt;
            checking = again;
            if (again) {
                doubtSince = System.nanoTime();
            } else {
                metrics.acknowledgementsAwaitBackups.set(0);
            }
        }
        if (safe) {
            LOG.info("cluster: every partition's backups are in sync again after {} ms; acknowledgements go on",
                    TimeUnit.NANOSECONDS.toMillis(waited));
        } else {
            LOG.warn("cluster: backups still not in sync after {} s; what waited is acknowledged anyway, held by "
                    + "fewer members than cluster.backup_count + 1", SAFETY_WAIT_SECONDS);
        }
        release();
        if (again) {
            schedule(this::checkSafe, SAFETY_CHECK_MILLIS);
        }
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
                g.doubts = doubts;
                g.held = true; // nothing to copy; it still waits for the groups before it
            } else {
                if (next == null) {
                    next = new Flush();
                }
                next.add(g, logs, first);
                if (flushing < MAX_FLUSHES) {
                    ready = started(next);
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

    /** {@code f} starts now (under waiting): its deferred updates go after those of the flush started before it. */
    private Flush started(Flush f) {
        f.before = lastStarted;
        lastStarted = f;
        return f;
    }

    /**
     * Logs of several groups, concatenated per client id, sent as one update per client; those named first first.
     * Updates not named first (deferred until the first ones are confirmed, or all of a flush naming none) leave
     * only after the previous flush's have: two flushes' deferred updates for one subscriber left from two callback
     * threads in either order, and a node dying between them left a replica with a later message and not an earlier
     * one (suspected in a chaos run: a resend then came after what the replica held).
     */
    private final class Flush {
        private Map<String, ByteArrayOutputStream> logs = new HashMap<>();
        /** The flush started before this one, until this one's deferred updates are sent (guarded by waiting). */
        private Flush before;
        /** Whether its deferred updates are sent (or never will be); and what waits for that. Guarded by this. */
        private boolean restSent;
        private List<Runnable> afterRest;
        private final Set<String> first = new HashSet<>();
        private final List<Group> groups = new ArrayList<>();
        private AtomicInteger updates;
        /** What goes once the first updates are confirmed; set by {@link #send}, taken by the last of them. */
        private Map<String, ByteArrayOutputStream> then;
        private volatile boolean failed;
        /** An update needed another try: a member may have left meanwhile. */
        private volatile boolean retried;

        void add(Group g, Map<String, byte[]> groupLogs, Set<String> groupFirst) {
            groups.add(g);
            for (Map.Entry<String, byte[]> e : groupLogs.entrySet()) {
                logs.computeIfAbsent(e.getKey(), k -> new ByteArrayOutputStream(e.getValue().length))
                        .writeBytes(e.getValue());
            }
            first.addAll(groupFirst);
        }

        void send() {
            Map<String, ByteArrayOutputStream> all = logs;
            logs = null; // the last flush started stays referenced: not its logs
            first.retainAll(all.keySet());
            if (first.isEmpty()) {
                afterBefore(() -> {
                    sendAll(all);
                    restSent();
                });
                return;
            }
            if (first.size() == all.size()) {
                sendAll(all);
                restSent();
                return;
            }
            Map<String, ByteArrayOutputStream> now = new HashMap<>();
            then = new HashMap<>();
            all.forEach((client, log) -> (first.contains(client) ? now : then).put(client, log));
            sendAll(now);
        }

        /** Runs {@code r} once the previous flush's deferred updates are sent (at once if they are). */
        private void afterBefore(Runnable r) {
            Flush b;
            synchronized (waiting) {
                b = before;
            }
            if (b == null) {
                r.run();
                return;
            }
            b.whenRestSent(() -> {
                synchronized (waiting) {
                    before = null;
                }
                r.run();
            });
        }

        private void whenRestSent(Runnable r) {
            synchronized (this) {
                if (!restSent) {
                    if (afterRest == null) {
                        afterRest = new ArrayList<>(1);
                    }
                    afterRest.add(r);
                    return;
                }
            }
            r.run();
        }

        private void restSent() {
            List<Runnable> waiters;
            synchronized (this) {
                restSent = true;
                waiters = afterRest;
                afterRest = null;
            }
            if (waiters != null) {
                waiters.forEach(Runnable::run);
            }
            synchronized (waiting) {
                before = null;
            }
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
            if (rest != null) {
                if (!failed) {
                    afterBefore(() -> {
                        sendAll(rest);
                        restSent();
                    });
                    return;
                }
                restSent(); // a failed first update leaves the rest unsent: the group is not acknowledged anyway
            }
            if (retried) {
                doubt("a copy needed another try");
            }
            Flush ready = null;
            synchronized (waiting) {
                for (Group g : groups) {
                    g.failed = failed;
                    g.doubts = doubts;
                    g.held = true;
                }
                flushing--;
                if (next != null) {
                    ready = started(next);
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
            if (attempt > 1) {
                f.retried = true;
            }
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
                if (head == null || !head.releasable() || head.doubts > safeThrough) {
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
        /** The doubts about the backups when it was confirmed (guarded by waiting): it waits until they are cleared. */
        long doubts;
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
