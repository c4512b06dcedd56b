package io.ternmq.broker.extension;

import io.ternmq.extension.api.ReasonCodes;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The interceptors of one kind, in the order their extensions started (priority, highest first), and the running of
 * them over one decision on the client's loop: each sees the previous one's changes; a refusal ends the run; an
 * {@code async(...)} pauses it until resumed or timed out. Immutable once built.
 *
 * @param <I> the interceptor interface
 * @param <D> the decision it changes
 */
public final class InterceptorChain<I, D extends Decision<D>> {
    private final Object[] interceptors;
    private final ExtensionStats[] stats;
    private final BiConsumer<I, D> call;
    private final String what;

    private InterceptorChain(List<I> interceptors, List<ExtensionStats> stats, BiConsumer<I, D> call, String what) {
        this.interceptors = interceptors.toArray();
        this.stats = stats.toArray(new ExtensionStats[0]);
        this.call = call;
        this.what = what;
    }

    /** Collects a chain's interceptors during the extensions' start. */
    public static final class Builder<I, D extends Decision<D>> {
        private final List<I> interceptors = new ArrayList<>();
        private final List<ExtensionStats> stats = new ArrayList<>();
        private final BiConsumer<I, D> call;
        private final String what;

        public Builder(String what, BiConsumer<I, D> call) {
            this.what = what;
            this.call = call;
        }

        public void add(I interceptor, ExtensionStats owner) {
            interceptors.add(interceptor);
            stats.add(owner);
        }

        /** @return null when there is no interceptor: the hot path checks for null and nothing else */
        public InterceptorChain<I, D> build() {
            return interceptors.isEmpty() ? null : new InterceptorChain<>(interceptors, stats, call, what);
        }
    }

    public int size() {
        return interceptors.length;
    }

    /**
     * Runs every interceptor over {@code decision}; {@code done} gets the final decision on the decision's loop
     * (at once, in this call, unless an interceptor went async).
     */
    public void run(D decision, Consumer<D> done) {
        D now = runNow(decision, done);
        if (now != null) {
            done.accept(now);
        }
    }

    /**
     * Runs every interceptor over {@code decision}, on its loop. If every one decides at once, returns the final
     * decision and never calls {@code later}; if one goes async, returns null and {@code later} gets the final
     * decision on the loop once the async decision and the rest of the chain are done. A throw refuses with 0x80, or
     * applies the declared fallback if the interceptor had called async(). Allocates nothing of its own unless an
     * interceptor goes async.
     */
    public D runNow(D decision, Consumer<D> later) {
        return advance(0, decision, null, later);
    }

    /** @return the final decision if reached in this call while no async decision was involved, else null */
    @SuppressWarnings("unchecked")
    private D advance(int from, D d, Run<I, D> run, Consumer<D> later) {
        for (int i = from; i < interceptors.length && !d.refused(); i++) {
            ExtensionStats owner = stats[i];
            long t0 = System.nanoTime();
            try {
                call.accept((I) interceptors[i], d);
            } catch (RuntimeException | LinkageError e) {
                owner.error(what, e);
                PendingAsync<D> p = d.takePending();
                if (p == null) {
                    d.refuseWith(ReasonCodes.UNSPECIFIED_ERROR, "an extension failed");
                    break;
                }
                // it had called async(): its declared fallback applies, and a later resume() does nothing
                d = p.abandon();
                continue;
            }
            owner.timed(System.nanoTime() - t0);
            PendingAsync<D> p = d.takePending();
            if (p != null) {
                p.await(run != null ? run : new Run<>(this, later), i + 1);
                return null;
            }
        }
        if (run == null) {
            return d;
        }
        run.done.accept(d);
        return null;
    }

    /** The rest of a run after an interceptor went async. */
    static final class Run<I, D extends Decision<D>> {
        private final InterceptorChain<I, D> chain;
        final Consumer<D> done;

        Run(InterceptorChain<I, D> chain, Consumer<D> done) {
            this.chain = chain;
            this.done = done;
        }

        ExtensionStats stats(int index) {
            return chain.stats[index];
        }

        /** Goes on from interceptor {@code from}, on the loop. */
        void next(int from, D d) {
            chain.advance(from, d, this, done);
        }

        void finish(D d) {
            done.accept(d);
        }
    }
}
