package io.ternmq.broker.extension;

import io.ternmq.extension.api.Async;
import io.ternmq.extension.api.Fallback;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A decision an interceptor moved elsewhere: whichever comes first, {@link #resume()} (any thread) or the timeout (on
 * the client's loop), goes on with the chain on the loop; the other does nothing.
 */
final class PendingAsync<D extends Decision<D>> implements Async {
    private static final int WAITING = 0;
    private static final int RESUMED = 1;
    private static final int OVER = 2;

    private final D decision;
    /** The values when async() was called: what "proceed unchanged" goes on with, so later writes are ignored. */
    private final D snapshot;
    private final Duration timeout;
    private final Fallback fallback;
    private final AtomicInteger state = new AtomicInteger(WAITING);
    private InterceptorChain.Run<?, D> run;
    private int next;
    private ScheduledFuture<?> timer;

    PendingAsync(D decision, D snapshot, Duration timeout, Fallback fallback) {
        this.decision = decision;
        this.snapshot = snapshot;
        this.timeout = timeout;
        this.fallback = fallback;
    }

    /** On the loop, right after the interceptor returned: a resume() can only run after this (it goes via the loop). */
    void await(InterceptorChain.Run<?, D> run, int next) {
        this.run = run;
        this.next = next;
        timer = decision.loop.schedule(this::timedOut, timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public void resume() {
        if (state.compareAndSet(WAITING, RESUMED)) {
            try {
                decision.loop.execute(() -> {
                    timer.cancel(false);
                    run.next(next, decision);
                });
            } catch (RejectedExecutionException stopping) {
                // the broker is stopping: the connection is gone, nobody waits for the decision
            }
        }
    }

    private void timedOut() {
        if (state.compareAndSet(WAITING, OVER)) {
            run.stats(next - 1).timedOut();
            applyFallback("timed out after " + timeout.toMillis() + " ms");
        }
    }

    /**
     * The interceptor threw after calling async(), before its call returned: the declared fallback applies at once.
     *
     * @return the decision to go on with: the snapshot, refused if the fallback refuses
     */
    D abandon() {
        state.set(OVER);
        if (!fallback.proceed()) {
            snapshot.refuseWith(fallback.reasonCode(), "an extension's decision failed");
        }
        return snapshot;
    }

    private void applyFallback(String why) {
        if (fallback.proceed()) {
            run.next(next, snapshot);
        } else {
            snapshot.refuseWith(fallback.reasonCode(), "an extension's decision " + why);
            run.finish(snapshot);
        }
    }
}
