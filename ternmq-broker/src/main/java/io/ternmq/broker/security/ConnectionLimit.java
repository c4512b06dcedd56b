package io.ternmq.broker.security;

import java.util.concurrent.atomic.AtomicInteger;

/** The broker-wide cap on connected clients ({@code max_connections}); a negative maximum means no cap. */
public final class ConnectionLimit {
    private final int max;
    private final AtomicInteger connected = new AtomicInteger();

    public ConnectionLimit(int max) {
        this.max = max;
    }

    /** Reserves a place for a connecting client. @return false if the broker is full */
    public boolean tryAcquire() {
        if (max < 0) {
            connected.incrementAndGet();
            return true;
        }
        while (true) {
            int n = connected.get();
            if (n >= max) {
                return false;
            }
            if (connected.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    public void release() {
        connected.decrementAndGet();
    }

    public int connected() {
        return connected.get();
    }
}
