package io.ternmq.broker.transport;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A diagnostic for benchmarks, off unless the JVM runs with {@code -Dternmq.loop_hold_probe=true}: a task on each I/O
 * loop every millisecond notes how late it ran, and every {@value #REPORT_SECONDS} s the loop logs its longest
 * lateness: how long it was held, by a task or a read that ran long, a stop-the-world pause, or its thread waiting
 * for a CPU. Beside it, the most CPU time the loop's thread used between two runs: the part of a hold the loop
 * spent working (a long task), where the rest is waiting (a pause, other threads on its CPU). A client's latency
 * shows the same holds blurred by its own pauses; this sees the loop itself (bench/admin-latency.sh reads it). Off in
 * production: it wakes every loop a thousand times a second.
 */
final class LoopHoldProbe implements Runnable {
    static final String PROPERTY = "ternmq.loop_hold_probe";
    static final int REPORT_SECONDS = 5;
    private static final Logger LOG = LoggerFactory.getLogger(LoopHoldProbe.class);
    private static final long PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long REPORT_NANOS = TimeUnit.SECONDS.toNanos(REPORT_SECONDS);
    private static final long OVER_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** What one report covers: the longest lateness, how many holds passed 5 ms, the most CPU between two runs. */
    record Window(String loop, long longestNanos, int over5ms, long mostBusyNanos) {
    }

    private final String loop;
    private final long reportNanos;
    private final Consumer<Window> reports;
    /** When this run was due: a fixed-rate task that ran late runs again at once until it has caught up. */
    private long due;
    private long reportAt;
    private long longest;
    private int over;
    private long lastLate;
    private long lastCpu = -1;
    private long longestBusy;

    private LoopHoldProbe(String loop, long firstDue, long reportNanos, Consumer<Window> reports) {
        this.loop = loop;
        this.reportNanos = reportNanos;
        this.reports = reports;
        this.due = firstDue;
        this.reportAt = firstDue + reportNanos;
    }

    /** Starts a probe on each loop of {@code group} if the JVM asks for it. */
    static void startIfAsked(EventExecutorGroup group) {
        if (!Boolean.getBoolean(PROPERTY)) {
            return;
        }
        for (EventExecutor executor : group) {
            start(executor, REPORT_NANOS, w -> LOG.info("loop hold: {} longest {} ms, {} over 5 ms, most CPU between "
                    + "runs {} ms in the last {} s", w.loop(), millis(w.longestNanos()), w.over5ms(),
                    millis(w.mostBusyNanos()), REPORT_SECONDS));
        }
        LOG.info("Loop hold probe on: every I/O loop logs its longest hold every {} s", REPORT_SECONDS);
    }

    /** Runs a probe on {@code executor}, giving {@code reports} a window every {@code reportNanos}. */
    static void start(EventExecutor executor, long reportNanos, Consumer<Window> reports) {
        executor.execute(() -> {
            LoopHoldProbe probe = new LoopHoldProbe(Thread.currentThread().getName(),
                    System.nanoTime() + PERIOD_NANOS, reportNanos, reports);
            executor.scheduleAtFixedRate(probe, PERIOD_NANOS, PERIOD_NANOS, TimeUnit.NANOSECONDS);
        });
    }

    @Override
    public void run() {
        long now = System.nanoTime();
        long late = Math.max(0, now - due);
        due += PERIOD_NANOS;
        longest = Math.max(longest, late);
        // a hold of 12 ms makes the runs after it late by 12, 11, 10 ... ms: counted once, at the first
        if (late > OVER_NANOS && lastLate <= OVER_NANOS) {
            over++;
        }
        lastLate = late;
        long cpu = THREADS.getCurrentThreadCpuTime();
        if (lastCpu >= 0) {
            longestBusy = Math.max(longestBusy, cpu - lastCpu);
        }
        lastCpu = cpu;
        if (now >= reportAt) {
            reports.accept(new Window(loop, longest, over, longestBusy));
            longest = 0;
            longestBusy = 0;
            over = 0;
            reportAt += reportNanos;
        }
    }

    private static String millis(long nanos) {
        return String.format(Locale.ROOT, "%.2f", nanos / 1e6);
    }
}
