package io.ternmq.broker.transport;

import java.net.InetAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * New connections per second per source address: a token bucket per address holding up to {@code perSecond}
 * tokens, refilled at {@code perSecond} a second. A connection that finds no token is closed at accept, before TLS
 * or MQTT cost anything. Keeps at most {@value #MAX_ADDRESSES} addresses (full buckets are forgotten first).
 */
final class ConnectionRateLimiter {
    static final int MAX_ADDRESSES = 100_000;

    private final int perSecond;
    private final LongSupplier nanoClock;
    private final Map<InetAddress, Bucket> buckets = new ConcurrentHashMap<>();

    private record Bucket(double tokens, long lastNanos) {
    }

    ConnectionRateLimiter(int perSecond) {
        this(perSecond, System::nanoTime);
    }

    ConnectionRateLimiter(int perSecond, LongSupplier nanoClock) {
        this.perSecond = perSecond;
        this.nanoClock = nanoClock;
    }

    /** @return whether a new connection from this address may proceed (always, when the limit is 0) */
    boolean tryAcquire(InetAddress address) {
        if (perSecond <= 0 || address == null) {
            return true;
        }
        long now = nanoClock.getAsLong();
        if (buckets.size() >= MAX_ADDRESSES) {
            buckets.entrySet().removeIf(e -> refill(e.getValue(), now) >= perSecond);
            if (buckets.size() >= MAX_ADDRESSES) {
                buckets.clear();
            }
        }
        boolean[] allowed = new boolean[1];
        buckets.compute(address, (a, b) -> {
            double tokens = b == null ? perSecond : refill(b, now);
            if (tokens >= 1) {
                allowed[0] = true;
                tokens -= 1;
            }
            return new Bucket(tokens, now);
        });
        return allowed[0];
    }

    private double refill(Bucket b, long now) {
        double elapsedSeconds = Math.max(0, now - b.lastNanos()) / 1e9;
        return Math.min(perSecond, b.tokens() + elapsedSeconds * perSecond);
    }
}
