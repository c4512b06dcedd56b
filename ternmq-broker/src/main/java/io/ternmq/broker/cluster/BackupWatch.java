package io.ternmq.broker.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.partition.PartitionService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Whether every partition this member owns (session replicas, the session directory, retained messages) has its
 * backups in sync. After a member leaves or joins, Hazelcast re-replicates for a while; a second death in that window
 * may lose what only the first held ({@code cluster.backup_count 1} survives one death at a time). The gauge and a
 * log line at each change tell an operator when the next node may be stopped. Checked every
 * {@value #PERIOD_SECONDS} s on a thread of its own: the check waits for the backups' answers.
 */
final class BackupWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BackupWatch.class);
    static final long PERIOD_SECONDS = 2;

    private final PartitionService partitions;
    private final AtomicLong inSync;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "ternmq-cluster-backup-watch");
        t.setDaemon(true);
        return t;
    });
    /** Timer thread only: the last answer, and since when the backups have lagged (while they do). */
    private boolean lastInSync = true;
    private long laggingSince;

    /** @param inSync set to 1 while every owned partition's backups are in sync, 0 while some are not */
    BackupWatch(HazelcastInstance hazelcast, AtomicLong inSync) {
        this.partitions = hazelcast.getPartitionService();
        this.inSync = inSync;
        inSync.set(1);
        timer.scheduleWithFixedDelay(this::check, PERIOD_SECONDS, PERIOD_SECONDS, TimeUnit.SECONDS);
    }

    private void check() {
        boolean now;
        try {
            now = partitions.isLocalMemberSafe();
        } catch (RuntimeException e) {
            return; // Hazelcast is shutting down
        }
        inSync.set(now ? 1 : 0);
        if (now == lastInSync) {
            return;
        }
        lastInSync = now;
        if (!now) {
            laggingSince = System.nanoTime();
            LOG.info("cluster: some partitions this node owns have no backup in sync yet (Hazelcast re-replicates "
                    + "after a member left or joined); another member's death before that ends may lose what they hold");
        } else {
            LOG.info("cluster: every partition this node owns has its backups in sync again (after about {} s)",
                    Math.max(PERIOD_SECONDS, TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - laggingSince)));
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
