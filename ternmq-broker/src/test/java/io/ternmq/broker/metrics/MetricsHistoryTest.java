package io.ternmq.broker.metrics;

import io.ternmq.broker.metrics.MetricsHistory.Series;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static org.assertj.core.api.Assertions.assertThat;

/** The ring of 1 s samples behind {@code /api/v1/metrics/history}, sampled by hand here instead of each second. */
class MetricsHistoryTest {

    @Test
    @DisplayName("a counter's sample is its growth since the sample before (from creation); a gauge's its value")
    void countersAreDeltasGaugesAreValues() {
        BrokerMetrics m = new BrokerMetrics();
        m.publishesReceived.increment(1); // before the history exists: not in any sample
        MetricsHistory h = new MetricsHistory(m);
        m.publishesReceived.increment(0);
        m.publishesReceived.increment(1);
        m.bytesSent.add(500);
        m.connectionsOpen.set(7);
        m.oversizedDrops.add(3);
        h.sample(1_000);
        m.publishesReceived.increment(2);
        m.connectionsOpen.set(5);
        h.sample(2_000);
        h.sample(3_000);

        assertThat(h.size()).isEqualTo(3);
        assertThat(h.timeMillis(0)).isEqualTo(1_000);
        assertThat(h.value(Series.PUBLISH_IN, 0)).isEqualTo(2);
        assertThat(h.value(Series.PUBLISH_IN, 1)).isEqualTo(1);
        assertThat(h.value(Series.PUBLISH_IN, 2)).isZero();
        assertThat(h.value(Series.BYTES_OUT, 0)).isEqualTo(500);
        assertThat(h.value(Series.DROPPED_TOO_LARGE, 0)).isEqualTo(3);
        assertThat(h.value(Series.DROPPED_TOO_LARGE, 1)).isZero();
        assertThat(h.value(Series.CONNECTIONS, 0)).isEqualTo(7);
        assertThat(h.value(Series.CONNECTIONS, 2)).isEqualTo(5);
        assertThat(h.value(Series.HEAP_USED, 0)).isPositive();
    }

    @Test
    @DisplayName("the ring keeps the last 900 samples, oldest first, overwriting the oldest")
    void ringKeepsTheLastCapacitySamples() {
        BrokerMetrics m = new BrokerMetrics();
        MetricsHistory h = new MetricsHistory(m);
        int total = MetricsHistory.CAPACITY + 250;
        for (int i = 0; i < total; i++) {
            m.connectionsOpen.set(i);
            h.sample(i * 1000L);
        }
        assertThat(h.size()).isEqualTo(MetricsHistory.CAPACITY);
        for (int i = 0; i < MetricsHistory.CAPACITY; i++) {
            assertThat(h.value(Series.CONNECTIONS, i)).isEqualTo(250 + i);
            assertThat(h.timeMillis(i)).isEqualTo((250L + i) * 1000);
        }
    }

    @Test
    @DisplayName("sync p99: the bucket of the 99th percentile of the syncs since the sample before; -1 without any")
    void syncP99PerSample() {
        BrokerMetrics m = new BrokerMetrics();
        MetricsHistory h = new MetricsHistory(m);
        for (int i = 0; i < 99; i++) {
            m.storeSyncs.record(200_000); // 0.2 ms
        }
        m.storeSyncs.record(50_000_000); // 50 ms: the 100th of 100 is past the 99th percentile
        h.sample(1_000);
        for (int i = 0; i < 2; i++) {
            m.storeSyncs.record(30_000_000);
        }
        h.sample(2_000);
        h.sample(3_000);
        assertThat(h.value(Series.SYNCS, 0)).isEqualTo(100);
        assertThat(h.value(Series.SYNC_P99_MICROS, 0)).isBetween(200L, 240L);
        assertThat(h.value(Series.SYNC_P99_MICROS, 1)).isBetween(30_000L, 36_000L);
        assertThat(h.value(Series.SYNC_P99_MICROS, 2)).isEqualTo(-1);
    }

    @Test
    @DisplayName("a sample allocates nothing: the ring is all there is")
    void samplingAllocatesNothing() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        BrokerMetrics m = new BrokerMetrics();
        MetricsHistory h = new MetricsHistory(m);
        for (int i = 0; i < 20_000; i++) { // compiled before measuring
            m.publishesReceived.increment(1);
            h.sample(i);
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 10_000; i++) {
            m.publishesReceived.increment(1);
            m.storeSyncs.record(i * 1000L);
            h.sample(i);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertThat(allocated).as("bytes allocated by 10,000 samples").isLessThan(10_000);
    }
}
