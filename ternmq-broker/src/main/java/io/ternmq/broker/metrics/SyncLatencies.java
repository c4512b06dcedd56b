package io.ternmq.broker.metrics;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * How long the store's syncs to disk took, counted in fixed buckets (four per doubling, from 10 µs to about
 * 10 s): the store's writer thread records each sync (once per group of writes, never per message); the admin
 * listener's history reads the counts each second and takes the 99th percentile of that second's syncs.
 */
public final class SyncLatencies {
    /** Upper bounds of the buckets in microseconds; past the last: the overflow bucket. */
    private static final long[] BOUNDS_MICROS = bounds();
    private final AtomicLongArray counts = new AtomicLongArray(BOUNDS_MICROS.length + 1);

    private static long[] bounds() {
        long[] b = new long[81];
        for (int i = 0; i < b.length; i++) {
            b[i] = Math.round(10 * Math.pow(2, i / 4.0));
        }
        return b;
    }

    public void record(long nanos) {
        counts.incrementAndGet(bucket(nanos / 1000));
    }

    static int bucket(long micros) {
        int lo = 0;
        int hi = BOUNDS_MICROS.length;
        while (lo < hi) { // the first bound >= micros
            int mid = (lo + hi) >>> 1;
            if (BOUNDS_MICROS[mid] < micros) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Buckets, the overflow one included: the size of the arrays {@link #copyCounts} and {@link #p99Micros} take. */
    public int buckets() {
        return counts.length();
    }

    /** Copies the counts since the start into {@code into}. */
    public void copyCounts(long[] into) {
        for (int i = 0; i < into.length; i++) {
            into[i] = counts.get(i);
        }
    }

    /**
     * The 99th percentile, in microseconds (a bucket's upper bound: at most a fifth above the true value), of the
     * syncs counted in {@code now} but not in {@code before}; -1 if there were none.
     */
    public static long p99Micros(long[] before, long[] now) {
        long total = 0;
        for (int i = 0; i < now.length; i++) {
            total += now[i] - before[i];
        }
        if (total == 0) {
            return -1;
        }
        long rank = (total * 99 + 99) / 100; // ceil(0.99 * total)
        long seen = 0;
        for (int i = 0; i < now.length; i++) {
            seen += now[i] - before[i];
            if (seen >= rank) {
                return BOUNDS_MICROS[Math.min(i, BOUNDS_MICROS.length - 1)]; // overflow: "10 s or more"
            }
        }
        return BOUNDS_MICROS[BOUNDS_MICROS.length - 1];
    }
}
