package io.ternmq.broker.service;

import io.ternmq.broker.config.Durability;
import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.retain.MemoryRetainedStore;
import io.ternmq.broker.routing.DeliveryTarget;
import io.ternmq.broker.routing.Router;
import io.ternmq.broker.routing.SubscriptionTree;
import io.ternmq.broker.store.QueueLimits;
import io.ternmq.broker.store.RocksStore;
import io.ternmq.broker.store.Store;
import io.ternmq.broker.store.StoredQueue;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.QoS;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The delayed-publish timer with a RocksDB store and the real router: what is stored waits for its time and no longer,
 * 10,000 at once included; what a restart finds goes out when due, at once if overdue. The subscriber is a
 * {@link DeliveryTarget} that notes when each message reaches it (the due time travels in the payload).
 */
class DelayedPublishesTest {
    @TempDir
    Path dir;
    private Store store;
    private DelayedPublishes delayed;
    private BrokerMetrics metrics;

    /** A subscriber without a stored queue: deliveries reach it straight from the router. */
    private static final class Recorder implements DeliveryTarget {
        final ConcurrentLinkedQueue<long[]> arrivals = new ConcurrentLinkedQueue<>(); // {due, arrived}

        @Override
        public String clientId() {
            return "recorder";
        }

        @Override
        public void deliver(Delivery d) {
            arrivals.add(new long[] {ByteBuffer.wrap(d.message().payload()).getLong(), System.currentTimeMillis()});
        }

        @Override
        public StoredQueue storedQueue() {
            return null;
        }

        @Override
        public boolean isOnline() {
            return true;
        }

        @Override
        public boolean wantsBackpressure() {
            return false;
        }
    }

    private Recorder start(int max) {
        store = new RocksStore(dir.resolve("store"), Durability.FSYNC, 100);
        SubscriptionTree tree = new SubscriptionTree();
        Router router = new Router(tree, new MemoryRetainedStore(), store,
                new QueueLimits(1000, 0, false, false, 20), -1, -1, new BrokerMetrics());
        Recorder r = new Recorder();
        router.subscribe(r, new Subscription("due/#", QoS.AT_LEAST_ONCE));
        metrics = new BrokerMetrics();
        delayed = new DelayedPublishes(store, router, metrics, max);
        delayed.recovered(store.recover().delayed);
        return r;
    }

    @AfterEach
    void stop() {
        if (delayed != null) {
            delayed.close();
        }
        if (store != null) {
            store.close();
        }
    }

    private void storeDue(long dueMillis) {
        assertThat(delayed.reserve()).isTrue();
        byte[] payload = ByteBuffer.allocate(8).putLong(dueMillis).array();
        delayed.store(new Message("due/t", QoS.AT_MOST_ONCE, false, payload, MqttProperties.EMPTY, "sender",
                System.currentTimeMillis()), dueMillis, null, 0, null, null);
    }

    @Test
    @DisplayName("10,000 pending, due at random moments over 3 s: each released at or after its time, none held back "
            + "for seconds (the 100 ms p99 target is measured apart, bench/delayed.sh)")
    void tenThousandReleasedOnTime() {
        Recorder r = start(100_000);
        long base = System.currentTimeMillis() + 5_000;
        for (int i = 0; i < 10_000; i++) {
            storeDue(base + ThreadLocalRandom.current().nextLong(3_000));
        }
        // all of them stored (and so waiting) before the first is due: this measures the timer, not the disk
        await().atMost(Duration.ofSeconds(5)).until(() -> metrics.delayedStored.sum() == 10_000);
        assertThat(r.arrivals).isEmpty();
        await().atMost(Duration.ofSeconds(30)).until(() -> r.arrivals.size() == 10_000);
        long[] lateness = r.arrivals.stream().mapToLong(a -> a[1] - a[0]).sorted().toArray();
        double load = java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        int cores = Runtime.getRuntime().availableProcessors();
        String figures = String.format("ms after due: p50 %d, p99 %d, max %d (load average %.1f on %d cores)",
                lateness[5_000], lateness[9_900], lateness[lateness.length - 1], load, cores);
        System.out.println("delayed release, 10,000 pending: " + figures);
        assertThat(lateness[0]).as("none early").isGreaterThanOrEqualTo(0);
        // released by a timer at its time, not by a later sweep: a bound far above what a loaded machine's pauses
        // add (up to half a second seen at load 25 on 2 cores); the 100 ms p99 target is a speed figure, measured
        // apart on a quiet machine (bench/delayed.sh, docs/benchmarks.md)
        assertThat(lateness[lateness.length - 1]).as("max " + figures).isLessThanOrEqualTo(5_000);
        assertThat(delayed.size()).isZero();
    }

    @Test
    @DisplayName("after a restart stored messages wait for their time; overdue ones go at once")
    void restartKeepsThem() {
        start(100);
        long now = System.currentTimeMillis();
        storeDue(now + 2_000);   // falls due while the store is closed below
        storeDue(now + 6_000);
        await().until(() -> metrics.delayedStored.sum() == 2); // durable
        delayed.close();
        store.close();
        await().atMost(Duration.ofSeconds(5)).until(() -> System.currentTimeMillis() > now + 2_100);
        Store reopened = new RocksStore(dir.resolve("store"), Durability.FSYNC, 100);
        try {
            assertThat(reopened.recover().delayed).as("both kept by the store").hasSize(2);
        } finally {
            reopened.close();
        }
        Recorder r = start(100); // the overdue one may be released at once: no count of what waits here
        await().atMost(Duration.ofSeconds(2)).until(() -> r.arrivals.size() == 1);
        long[] overdue = r.arrivals.peek();
        assertThat(overdue[0]).isEqualTo(now + 2_000);
        await().atMost(Duration.ofSeconds(10)).until(() -> r.arrivals.size() == 2);
        assertThat(r.arrivals).allSatisfy(a -> assertThat(a[1]).isGreaterThanOrEqualTo(a[0]));
        await().until(() -> store.recover().delayed.isEmpty());
    }

    @Test
    @DisplayName("at max_delayed_messages a reservation is refused until one is released")
    void boundedByMax() {
        Recorder r = start(2);
        assertThat(delayed.reserve()).isTrue();
        assertThat(delayed.reserve()).isTrue();
        assertThat(delayed.reserve()).isFalse();
        delayed.unreserve();
        delayed.unreserve();
        storeDue(System.currentTimeMillis() + 100);
        storeDue(System.currentTimeMillis() + 100);
        assertThat(delayed.reserve()).isFalse();
        await().until(() -> r.arrivals.size() == 2);
        assertThat(delayed.reserve()).isTrue();
    }

    @Test
    @DisplayName("$delayed/<seconds>/<topic> is parsed; bad delays and topics are not")
    void parse() {
        assertThat(DelayedPublishes.parse("$delayed/10/a/b")).isEqualTo(new DelayedPublishes.Target(10, "a/b"));
        assertThat(DelayedPublishes.parse("$delayed/0/a")).isEqualTo(new DelayedPublishes.Target(0, "a"));
        assertThat(DelayedPublishes.parse("$delayed/4294967/a")).isEqualTo(new DelayedPublishes.Target(4_294_967, "a"));
        for (String bad : new String[] {"$delayed/4294968/a", "$delayed/-1/a", "$delayed/1x/a", "$delayed//a",
                "$delayed/5", "$delayed/5/", "$delayed/99999999/a", "$delayed/1/$delayed/1/a"}) {
            assertThat(DelayedPublishes.parse(bad)).as(bad).isNull();
        }
    }
}
