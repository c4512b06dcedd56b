package io.ternmq.broker.security;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class AuthFailureDelayTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final AuthFailureDelay delay = new AuthFailureDelay(500, 4000, now::get);

    private void advanceMillis(long ms) {
        now.addAndGet(ms * 1_000_000L);
    }

    @Test
    @DisplayName("the delay doubles with each failure from one address, up to the maximum")
    void doubles() {
        assertThat(delay.nextDelay("10.0.0.1:5000")).isEqualTo(500);
        assertThat(delay.failed("10.0.0.1:5000")).isEqualTo(500);
        assertThat(delay.failed("10.0.0.1:5001")).as("another port, same address").isEqualTo(1000);
        assertThat(delay.failed("10.0.0.1:5002")).isEqualTo(2000);
        assertThat(delay.failed("10.0.0.1:5003")).isEqualTo(4000);
        assertThat(delay.failed("10.0.0.1:5004")).isEqualTo(4000);
        for (int i = 0; i < 100; i++) {
            assertThat(delay.failed("10.0.0.1:6000")).isEqualTo(4000);
        }
    }

    @Test
    @DisplayName("other addresses are not slowed down")
    void perAddress() {
        delay.failed("10.0.0.1:1");
        delay.failed("10.0.0.1:1");
        assertThat(delay.failed("10.0.0.2:1")).isEqualTo(500);
        assertThat(delay.failed("[::1]:1")).isEqualTo(500);
        assertThat(delay.failed("0:0:0:0:0:0:0:1:2")).as("the same IPv6 address as printed by Java").isEqualTo(1000);
    }

    @Test
    @DisplayName("an address that stops failing is forgotten after a while")
    void forgets() {
        delay.failed("10.0.0.1:1");
        delay.failed("10.0.0.1:1");
        advanceMillis(delay.forgetAfterMillis() - 1);
        assertThat(delay.failed("10.0.0.1:1")).isEqualTo(2000);
        advanceMillis(delay.forgetAfterMillis() + 1);
        assertThat(delay.failed("10.0.0.1:1")).isEqualTo(500);
    }

    @Test
    @DisplayName("0 turns it off")
    void off() {
        AuthFailureDelay none = new AuthFailureDelay(0, 0);
        assertThat(none.enabled()).isFalse();
        assertThat(none.failed("10.0.0.1:1")).isZero();
    }

    @Test
    @DisplayName("host parts of remote addresses")
    void hosts() {
        assertThat(AuthFailureDelay.host("127.0.0.1:5555")).isEqualTo("127.0.0.1");
        assertThat(AuthFailureDelay.host("/127.0.0.1:5555")).isEqualTo("127.0.0.1");
        assertThat(AuthFailureDelay.host("[::1]:5555")).isEqualTo("0:0:0:0:0:0:0:1");
        assertThat(AuthFailureDelay.host("0:0:0:0:0:0:0:1:5555")).isEqualTo("0:0:0:0:0:0:0:1");
        assertThat(AuthFailureDelay.host("127.0.0.1")).isEqualTo("127.0.0.1");
    }
}
