package io.ternmq.broker.metrics;

import org.slf4j.Logger;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A warning logged at most once per interval, with the number of times it was suppressed in between: an attack that
 * triggers a limit a million times a second must not also flood the log.
 */
public final class RateLimitedLog {
    private final Logger log;
    private final long intervalNanos;
    private final AtomicLong nextAllowed = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong suppressed = new AtomicLong();

    public RateLimitedLog(Logger log, long intervalMillis) {
        this.log = log;
        this.intervalNanos = intervalMillis * 1_000_000L;
    }

    /** Logs at WARN unless it did less than an interval ago. */
    public void warn(String format, Object... args) {
        long now = System.nanoTime();
        long next = nextAllowed.get();
        if ((next != Long.MIN_VALUE && now - next < 0) || !nextAllowed.compareAndSet(next, now + intervalNanos)) {
            suppressed.incrementAndGet();
            return;
        }
        long skipped = suppressed.getAndSet(0);
        if (skipped > 0) {
            log.warn(format + " (and " + skipped + " more like it since the last report)", args);
        } else {
            log.warn(format, args);
        }
    }
}
