package io.ternmq.broker.metrics;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;

/**
 * The last {@link #CAPACITY} samples (15 minutes at one a second) of what the dashboard plots: connections, PUBLISH
 * and bytes in and out, drops by reason, heap, GC and the store's sync p99. A fixed ring, filled on the admin
 * listener's loop (the only thread that touches it) by {@link #sample}, which allocates nothing: it reads counters
 * the broker keeps anyway and stores, for a counter, what it grew by since the sample before.
 */
public final class MetricsHistory {
    public static final int CAPACITY = 900;

    /** What each sample holds; a counter's value is its growth since the sample before, a gauge's its value. */
    public enum Series {
        CONNECTIONS("connections", false),
        CLIENTS("clients", false),
        PUBLISH_IN("publishIn", true),
        PUBLISH_OUT("publishOut", true),
        BYTES_IN("bytesIn", true),
        BYTES_OUT("bytesOut", true),
        DROPPED_QUEUE_FULL("queue_full", true),
        DROPPED_SLOW_CONSUMER("slow_consumer", true),
        DROPPED_OFFLINE_QOS0("offline_qos0", true),
        DROPPED_TOO_LARGE("too_large", true),
        DROPPED_EXPIRED("expired", true),
        DROPPED_NOT_AUTHORIZED("not_authorized", true),
        DROPPED_CLUSTER_LINK("cluster_link", true),
        HEAP_USED("heapUsed", false),
        GC_COUNT("gcCount", true),
        GC_TIME_MS("gcTimeMs", true),
        SYNCS("syncs", true),
        /** Microseconds; -1 when there was no sync in the interval. */
        SYNC_P99_MICROS("syncP99Micros", false);

        /** The name in JSON (drops: the reason, as Prometheus' {@code ternmq_messages_dropped_total} labels it). */
        public final String json;
        final boolean counter;

        Series(String json, boolean counter) {
            this.json = json;
            this.counter = counter;
        }

        public boolean isDrop() {
            return name().startsWith("DROPPED_");
        }
    }

    private static final Series[] SERIES = Series.values();

    private final BrokerMetrics m;
    private final GarbageCollectorMXBean[] collectors;
    private final long[] timesMillis = new long[CAPACITY];
    private final long[][] values = new long[SERIES.length][CAPACITY];
    /** The counters' readings at the last sample, and this sample's (reused). */
    private final long[] previous = new long[SERIES.length];
    private final long[] reading = new long[SERIES.length];
    private long[] syncsBefore;
    private long[] syncsNow;
    private int next;
    private int size;

    public MetricsHistory(BrokerMetrics metrics) {
        this.m = metrics;
        List<GarbageCollectorMXBean> gcs = ManagementFactory.getGarbageCollectorMXBeans();
        this.collectors = gcs.toArray(new GarbageCollectorMXBean[0]);
        this.syncsBefore = new long[metrics.storeSyncs.buckets()];
        this.syncsNow = new long[metrics.storeSyncs.buckets()];
        // the first sample counts from here, not from zero
        read();
        System.arraycopy(reading, 0, previous, 0, reading.length);
        metrics.storeSyncs.copyCounts(syncsBefore);
    }

    private void read() {
        long[] r = reading;
        r[Series.CONNECTIONS.ordinal()] = m.connectionsOpen.get();
        r[Series.CLIENTS.ordinal()] = m.clientsConnected.get();
        r[Series.PUBLISH_IN.ordinal()] = m.publishesReceived.sum();
        r[Series.PUBLISH_OUT.ordinal()] = m.publishesSent.sum();
        r[Series.BYTES_IN.ordinal()] = m.bytesReceived.sum();
        r[Series.BYTES_OUT.ordinal()] = m.bytesSent.sum();
        r[Series.DROPPED_QUEUE_FULL.ordinal()] = m.queueOverflowDrops.sum();
        r[Series.DROPPED_SLOW_CONSUMER.ordinal()] = m.slowConsumerDrops.sum();
        r[Series.DROPPED_OFFLINE_QOS0.ordinal()] = m.offlineQos0Drops.sum();
        r[Series.DROPPED_TOO_LARGE.ordinal()] = m.oversizedDrops.sum();
        r[Series.DROPPED_EXPIRED.ordinal()] = m.expiredMessages.sum();
        r[Series.DROPPED_NOT_AUTHORIZED.ordinal()] = m.deliveriesDenied.sum();
        r[Series.DROPPED_CLUSTER_LINK.ordinal()] = m.forwardDrops.sum();
        Runtime rt = Runtime.getRuntime();
        r[Series.HEAP_USED.ordinal()] = rt.totalMemory() - rt.freeMemory(); // MemoryMXBean would allocate
        long gcCount = 0;
        long gcMillis = 0;
        for (GarbageCollectorMXBean gc : collectors) {
            gcCount += Math.max(0, gc.getCollectionCount());
            gcMillis += Math.max(0, gc.getCollectionTime());
        }
        r[Series.GC_COUNT.ordinal()] = gcCount;
        r[Series.GC_TIME_MS.ordinal()] = gcMillis;
        long syncs = 0;
        m.storeSyncs.copyCounts(syncsNow);
        for (long c : syncsNow) {
            syncs += c;
        }
        r[Series.SYNCS.ordinal()] = syncs;
        r[Series.SYNC_P99_MICROS.ordinal()] = SyncLatencies.p99Micros(syncsBefore, syncsNow);
    }

    /** Takes a sample; the oldest is overwritten once there are {@link #CAPACITY}. */
    public void sample(long nowMillis) {
        read();
        int slot = next;
        timesMillis[slot] = nowMillis;
        for (int s = 0; s < SERIES.length; s++) {
            long v = reading[s];
            if (SERIES[s].counter) {
                long grown = v - previous[s];
                previous[s] = v;
                v = grown;
            }
            values[s][slot] = v;
        }
        long[] t = syncsBefore;
        syncsBefore = syncsNow;
        syncsNow = t;
        next = (slot + 1) % CAPACITY;
        size = Math.min(size + 1, CAPACITY);
    }

    /** How many samples there are (at most {@link #CAPACITY}). */
    public int size() {
        return size;
    }

    /** The time of sample {@code i} (0: the oldest kept), epoch milliseconds. */
    public long timeMillis(int i) {
        return timesMillis[slot(i)];
    }

    /** The value of {@code series} in sample {@code i} (0: the oldest kept). */
    public long value(Series series, int i) {
        return values[series.ordinal()][slot(i)];
    }

    private int slot(int i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException(i + " of " + size + " samples");
        }
        return (next - size + i + CAPACITY) % CAPACITY;
    }
}
