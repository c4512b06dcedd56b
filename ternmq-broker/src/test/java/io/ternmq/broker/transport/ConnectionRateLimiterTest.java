package io.ternmq.broker.transport;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class ConnectionRateLimiterTest {
    private final AtomicLong now = new AtomicLong();

    @Test
    @DisplayName("a burst of n per address, then n a second; other addresses unaffected; 0 means no limit")
    void tokenBucket() throws Exception {
        ConnectionRateLimiter limiter = new ConnectionRateLimiter(5, now::get);
        InetAddress a = InetAddress.getByName("10.0.0.1");
        InetAddress b = InetAddress.getByName("10.0.0.2");
        for (int i = 0; i < 5; i++) {
            assertThat(limiter.tryAcquire(a)).isTrue();
        }
        assertThat(limiter.tryAcquire(a)).isFalse();
        assertThat(limiter.tryAcquire(b)).isTrue();
        now.addAndGet(200_000_000L); // 0.2 s: one token back
        assertThat(limiter.tryAcquire(a)).isTrue();
        assertThat(limiter.tryAcquire(a)).isFalse();
        now.addAndGet(10_000_000_000L); // full again, but never more than 5
        for (int i = 0; i < 5; i++) {
            assertThat(limiter.tryAcquire(a)).isTrue();
        }
        assertThat(limiter.tryAcquire(a)).isFalse();
        ConnectionRateLimiter off = new ConnectionRateLimiter(0, now::get);
        for (int i = 0; i < 1000; i++) {
            assertThat(off.tryAcquire(a)).isTrue();
        }
    }
}
