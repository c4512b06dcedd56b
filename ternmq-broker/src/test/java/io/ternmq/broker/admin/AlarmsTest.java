package io.ternmq.broker.admin;

import io.ternmq.broker.metrics.BrokerMetrics;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link Alarms} checked when asked, as on a cluster node without an admin listener (no periodic checks): the
 * store's sync p99 over the syncs since the previous check, the connections alarm, and since when each holds.
 */
class AlarmsTest {
    private final BrokerMetrics metrics = new BrokerMetrics();
    private final Alarms alarms = new Alarms(metrics, 10);

    /** The alarms that hold now, but heap's (the test JVM's heap is not this test's subject). */
    private List<Alarms.Alarm> checked() {
        return alarms.check().stream().filter(a -> !a.name().equals("heap")).toList();
    }

    @Test
    @DisplayName("store_sync: raised when the syncs since the previous check have a p99 over 100 ms, not for fast ones")
    void storeSync() {
        assertThat(checked()).isEmpty();
        for (int i = 0; i < 1000; i++) {
            metrics.storeSyncs.record(TimeUnit.MILLISECONDS.toNanos(2));
        }
        assertThat(checked()).as("fast syncs").isEmpty();
        for (int i = 0; i < 1000; i++) {
            metrics.storeSyncs.record(TimeUnit.MILLISECONDS.toNanos(300));
        }
        Alarms.Alarm slow = checked().get(0);
        assertThat(slow.name()).isEqualTo("store_sync");
        assertThat(slow.value()).as("a bucket bound at most a fifth above 300 ms").isBetween(300.0, 360.0);
        assertThat(slow.threshold()).isEqualTo(Alarms.SYNC_P99_MILLIS);
        assertThat(slow.unit()).isEqualTo("ms");
        assertThat(slow.message()).isEqualTo("store sync p99 " + slow.value() + " ms over the last minute");
    }

    @Test
    @DisplayName("connections: over 90 % of max_connections; since stays the first check's while it holds, and "
            + "starts again after it went away")
    void connectionsSince() {
        metrics.clientsConnected.set(10);
        Alarms.Alarm first = checked().get(0);
        assertThat(first.name()).isEqualTo("connections");
        assertThat(first.value()).isEqualTo(100.0);
        assertThat(first.message()).isEqualTo("10 clients connected of max_connections 10");
        assertThat(checked().get(0).since()).isEqualTo(first.since());
        metrics.clientsConnected.set(9);
        assertThat(checked()).isEmpty();
        metrics.clientsConnected.set(10);
        assertThat(checked().get(0).since()).isAfter(first.since());
    }
}
