package io.ternmq.broker.protocol;

/**
 * A token bucket of {@code max_publish_rate} PUBLISHes per second, one second's worth at most. A connection has one
 * only when the limit is configured. Touched only on the connection's loop.
 */
final class PublishRateLimit {
    private final double rate;
    private double tokens;
    private long refillNanos;

    PublishRateLimit(double ratePerSecond, long nowNanos) {
        this.rate = ratePerSecond;
        this.tokens = ratePerSecond;
        this.refillNanos = nowNanos;
    }

    /** Takes a token. @return 0 if there was one, else how long until the budget is back above zero */
    long take(long nowNanos) {
        tokens = Math.min(rate, tokens + (nowNanos - refillNanos) * rate / 1e9);
        refillNanos = nowNanos;
        tokens -= 1;
        return tokens < 0 ? (long) (-tokens / rate * 1e9) : 0;
    }
}
