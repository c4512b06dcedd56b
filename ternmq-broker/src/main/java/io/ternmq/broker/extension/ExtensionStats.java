package io.ternmq.broker.extension;

import io.ternmq.broker.metrics.RateLimitedLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.LongAdder;

/**
 * What one extension's calls cost and how they failed: calls over {@code extension_slow_call_ms}, throws, async
 * decisions that timed out, tasks its executor refused. Written from every event loop.
 */
public final class ExtensionStats {
    private static final Logger LOG = LoggerFactory.getLogger(ExtensionStats.class);

    private final String id;
    private final long slowNanos;
    private final RateLimitedLog errorLog = new RateLimitedLog(LOG, 10_000);
    final LongAdder slowCalls = new LongAdder();
    final LongAdder errors = new LongAdder();
    final LongAdder timeouts = new LongAdder();
    final LongAdder rejectedTasks = new LongAdder();

    public ExtensionStats(String id, long slowCallMillis) {
        this.id = id;
        this.slowNanos = slowCallMillis * 1_000_000;
    }

    public String id() {
        return id;
    }

    /** A call that took {@code nanos}. */
    void timed(long nanos) {
        if (nanos > slowNanos) {
            slowCalls.increment();
        }
    }

    void error(String where, Throwable e) {
        errors.increment();
        errorLog.warn("Extension '{}' threw in {}: {}", id, where, e.toString());
    }

    void timedOut() {
        timeouts.increment();
    }

    public long slowCalls() {
        return slowCalls.sum();
    }

    public long errors() {
        return errors.sum();
    }

    public long timeouts() {
        return timeouts.sum();
    }

    public long rejectedTasks() {
        return rejectedTasks.sum();
    }

    @Override
    public String toString() {
        return "extension '" + id + "': " + slowCalls() + " slow calls, " + errors() + " errors, " + timeouts()
                + " async timeouts, " + rejectedTasks() + " executor refusals";
    }
}
