package io.ternmq.bench;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

/**
 * Counters and histograms of one event loop. Only that loop's thread writes them (plain fields, no atomics on the
 * message path); the reporter reads the counters racily once a second, which is fine for a progress line, and reads
 * them for the summary only after a task has run on the loop (which orders the loop's writes before the read).
 */
final class LoopStats {
    /** Latencies are recorded in microseconds, up to an hour. */
    static final long HIGHEST_MICROS = 3_600_000_000L;

    long sent;
    long sentCounted;
    long acked;
    long publishErrors;
    long received;
    long receivedCounted;
    long duplicates;
    long duplicatesCounted;
    long outOfOrder;
    long foreign;
    long connected;
    long connectFailed;
    long disconnected;
    /** System.nanoTime of the first and the latest counted message received on this loop (0: none yet). */
    long firstCountedNanos;
    long lastCountedNanos;

    final SingleWriterRecorder latency = new SingleWriterRecorder(1, HIGHEST_MICROS, 3);
    final SingleWriterRecorder connectLatency = new SingleWriterRecorder(1, HIGHEST_MICROS, 3);

    void recordLatency(long nanos) {
        latency.recordValue(clamp(nanos / 1000));
    }

    void recordConnectLatency(long nanos) {
        connectLatency.recordValue(clamp(nanos / 1000));
    }

    private static long clamp(long micros) {
        return Math.max(1, Math.min(HIGHEST_MICROS, micros));
    }

    static Histogram newHistogram() {
        return new Histogram(1, HIGHEST_MICROS, 3);
    }
}
