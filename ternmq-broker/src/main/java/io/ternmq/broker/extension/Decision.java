package io.ternmq.broker.extension;

import io.netty.util.concurrent.EventExecutor;
import io.ternmq.extension.api.Async;
import io.ternmq.extension.api.Fallback;

import java.time.Duration;
import java.util.Objects;

/**
 * What a chain of interceptors decides about one packet: the values they may change, a refusal, and an
 * {@code async(...)} request. Made on the client's loop; while an async decision is pending, the extension's thread
 * writes it and the loop reads it only after {@link Async#resume()} (which hands it over) or reads a snapshot after a
 * timeout, never both.
 */
public abstract class Decision<D extends Decision<D>> {
    /** -1: not refused. */
    private int refusalCode = -1;
    private String refusalReason;
    private PendingAsync<D> pending;
    final EventExecutor loop;

    protected Decision(EventExecutor loop) {
        this.loop = loop;
    }

    /** A copy of the values as they are now, for the fallback that goes on "unchanged" after a timeout. */
    protected abstract D copy();

    @SuppressWarnings("unchecked")
    private D self() {
        return (D) this;
    }

    public boolean refused() {
        return refusalCode >= 0;
    }

    public int refusalCode() {
        return refusalCode;
    }

    public String refusalReason() {
        return refusalReason;
    }

    protected void refuseWith(int reasonCode, String reason) {
        if (reasonCode < 0x80 || reasonCode > 0xFF) {
            throw new IllegalArgumentException("a refusal's reason code is 0x80..0xFF, not 0x"
                    + Integer.toHexString(reasonCode));
        }
        refusalCode = reasonCode;
        refusalReason = reason;
    }

    /** {@code output.async(timeout, fallback)}: once per interceptor call. */
    public Async async(Duration timeout, Fallback fallback) {
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(fallback, "fallback");
        if (pending != null) {
            throw new IllegalStateException("async() was already called for this packet by this interceptor");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("async timeout must be positive: " + timeout);
        }
        pending = new PendingAsync<>(self(), copy(), timeout, fallback);
        return pending;
    }

    PendingAsync<D> takePending() {
        PendingAsync<D> p = pending;
        pending = null;
        return p;
    }
}
