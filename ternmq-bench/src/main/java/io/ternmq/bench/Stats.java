package io.ternmq.bench;

import io.netty.channel.EventLoop;
import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** Every event loop's {@link LoopStats}, summed; latency histograms accumulated interval by interval. */
final class Stats {
    private final Map<EventLoop, LoopStats> byLoop = new ConcurrentHashMap<>();
    private final Histogram latencyTotal = LoopStats.newHistogram();
    private final Histogram connectTotal = LoopStats.newHistogram();

    LoopStats forLoop(EventLoop loop) {
        return byLoop.computeIfAbsent(loop, l -> new LoopStats());
    }

    /** A racy sum, for progress lines. */
    Totals totals() {
        Totals t = new Totals();
        for (LoopStats s : byLoop.values()) {
            t.sent += s.sent;
            t.sentCounted += s.sentCounted;
            t.acked += s.acked;
            t.publishErrors += s.publishErrors;
            t.received += s.received;
            t.receivedCounted += s.receivedCounted;
            t.duplicates += s.duplicates;
            t.duplicatesCounted += s.duplicatesCounted;
            t.outOfOrder += s.outOfOrder;
            t.foreign += s.foreign;
            t.connected += s.connected;
            t.connectFailed += s.connectFailed;
            t.disconnected += s.disconnected;
            if (s.firstCountedNanos != 0) {
                t.firstCountedNanos = t.firstCountedNanos == 0 ? s.firstCountedNanos
                        : Math.min(t.firstCountedNanos, s.firstCountedNanos);
                t.lastCountedNanos = Math.max(t.lastCountedNanos, s.lastCountedNanos);
            }
        }
        return t;
    }

    /** Runs an empty task on every loop and waits: afterwards this thread sees everything the loops wrote before. */
    Totals settledTotals() {
        List<io.netty.util.concurrent.Future<?>> fs = new ArrayList<>();
        for (EventLoop loop : byLoop.keySet()) {
            if (!loop.isShuttingDown()) {
                fs.add(loop.submit(() -> { }));
            }
        }
        for (io.netty.util.concurrent.Future<?> f : fs) {
            f.awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        return totals();
    }

    /** Moves what was recorded since the last call into the totals; @return the latencies of that interval */
    synchronized Histogram latencyInterval() {
        Histogram interval = LoopStats.newHistogram();
        for (LoopStats s : byLoop.values()) {
            interval.add(s.latency.getIntervalHistogram());
        }
        latencyTotal.add(interval);
        return interval;
    }

    synchronized Histogram connectInterval() {
        Histogram interval = LoopStats.newHistogram();
        for (LoopStats s : byLoop.values()) {
            interval.add(s.connectLatency.getIntervalHistogram());
        }
        connectTotal.add(interval);
        return interval;
    }

    synchronized Histogram latencyTotal() {
        latencyInterval();
        return latencyTotal.copy();
    }

    synchronized Histogram connectTotal() {
        connectInterval();
        return connectTotal.copy();
    }

    static final class Totals {
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
        long firstCountedNanos;
        long lastCountedNanos;
    }
}
