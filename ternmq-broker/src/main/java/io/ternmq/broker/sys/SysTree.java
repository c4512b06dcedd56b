package io.ternmq.broker.sys;

import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.metrics.BuildInfo;
import io.ternmq.broker.service.BrokerCounts;
import io.ternmq.broker.service.BrokerService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The {@code $SYS/broker/...} tree of Mosquitto 2.0.11: the same 53 topics with the same value formats, published
 * retained every {@code sys_interval} seconds through {@link BrokerService#publishSys}, each only when its value
 * changed (as Mosquitto does; {@code uptime} changes every time). It runs on a thread of its own and only reads
 * counters the broker keeps anyway ({@link BrokerMetrics}, {@link BrokerService#counts()}): nothing on an event loop,
 * nothing per message.
 */
public final class SysTree implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SysTree.class);
    static final String PREFIX = "$SYS/broker/";

    private final BrokerService service;
    private final BrokerMetrics metrics;
    private final ScheduledExecutorService timer;
    private final long startNanos = System.nanoTime();
    private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    /** What each topic was last published with: a value is published again only when it changes. */
    private final Map<String, String> published = new HashMap<>();
    private final LoadAverage[] loads;
    private long heapMaximum;
    private long lastTickNanos;

    private SysTree(BrokerService service, BrokerMetrics metrics, ScheduledExecutorService timer) {
        this.service = service;
        this.metrics = metrics;
        this.timer = timer;
        this.loads = new LoadAverage[] {
                new LoadAverage("messages/received", metrics::packetsReceivedTotal),
                new LoadAverage("messages/sent", metrics::packetsSentTotal),
                new LoadAverage("publish/dropped", metrics::messagesDropped),
                new LoadAverage("publish/received", metrics.publishesReceived::sum),
                new LoadAverage("publish/sent", metrics.publishesSent::sum),
                new LoadAverage("bytes/received", metrics.bytesReceived::sum),
                new LoadAverage("bytes/sent", metrics.bytesSent::sum),
                new LoadAverage("sockets", metrics.connectionsAccepted::sum),
                new LoadAverage("connections", metrics.connectsAccepted::sum)};
    }

    /** Publishes the tree now and then every {@code intervalSeconds} on a thread of its own. */
    public static SysTree start(BrokerService service, BrokerMetrics metrics, int intervalSeconds) {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ternmq-sys");
            t.setDaemon(true);
            return t;
        });
        SysTree tree = new SysTree(service, metrics, timer);
        timer.scheduleAtFixedRate(tree::tickSafely, 0, intervalSeconds, TimeUnit.SECONDS);
        return tree;
    }

    private void tickSafely() {
        try {
            tick(System.nanoTime());
        } catch (RuntimeException e) {
            // one bad update must not end the schedule (an exception would cancel it)
            LOG.warn("$SYS update failed", e);
        }
    }

    /** One update: every value that changed since the last one is published. On the tree's thread. */
    void tick(long now) {
        boolean initial = lastTickNanos == 0;
        long uptimeSeconds = TimeUnit.NANOSECONDS.toSeconds(now - startNanos);
        publish("version", "TernMQ version " + BuildInfo.version());
        publish("uptime", uptimeSeconds + " seconds");

        BrokerCounts counts = service.counts();
        long connected = metrics.clientsConnected.get();
        long disconnected = Math.max(0, counts.sessions() - counts.sessionsOnline());
        publish("clients/total", counts.sessions());
        publish("clients/connected", connected);
        publish("clients/active", connected);
        publish("clients/disconnected", disconnected);
        publish("clients/inactive", disconnected);
        publish("clients/maximum", metrics.clientsMaximum.get());
        publish("clients/expired", metrics.sessionsExpired.sum());

        long heap = memory.getHeapMemoryUsage().getUsed();
        heapMaximum = Math.max(heapMaximum, heap);
        publish("heap/current", heap);
        publish("heap/maximum", heapMaximum);

        publish("messages/received", metrics.packetsReceivedTotal());
        publish("messages/sent", metrics.packetsSentTotal());
        publish("messages/stored", counts.storedMessages());
        publish("store/messages/count", counts.storedMessages());
        publish("store/messages/bytes", counts.storedBytes());
        publish("publish/messages/received", metrics.publishesReceived.sum());
        publish("publish/messages/sent", metrics.publishesSent.sum());
        publish("publish/messages/dropped", metrics.messagesDropped());
        publish("publish/bytes/received", metrics.publishBytesReceived.sum());
        publish("publish/bytes/sent", metrics.publishBytesSent.sum());
        publish("bytes/received", metrics.bytesReceived.sum());
        publish("bytes/sent", metrics.bytesSent.sum());
        publish("retained messages/count", counts.retainedMessages());
        publish("subscriptions/count", counts.subscriptions());
        publish("shared_subscriptions/count", counts.sharedSubscriptions());

        // the first update has no interval before it: rates over the time since the start, as a first sample
        double seconds = (now - (initial ? startNanos : lastTickNanos)) / 1e9;
        for (LoadAverage load : loads) {
            load.update(seconds);
        }
        lastTickNanos = now;
    }

    private void publish(String topic, long value) {
        publish(topic, Long.toString(value));
    }

    private void publish(String topic, String value) {
        if (value.equals(published.put(topic, value))) {
            return;
        }
        service.publishSys(PREFIX + topic, value.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Mosquitto's {@code calc_load}: the average over a window of {@code windowMinutes} after an interval of
     * {@code seconds} at {@code perMinute}.
     */
    static double decayed(double previous, double perMinute, double seconds, int windowMinutes) {
        double exponent = Math.exp(-seconds / (60.0 * windowMinutes));
        return perMinute + exponent * (previous - perMinute);
    }

    /**
     * Mosquitto's load figures: the per-minute rate of a counter over the last interval, folded into 1, 5 and
     * 15-minute exponentially decayed averages ({@code new = rate + e^(-t/window) * (old - rate)}), published with
     * two decimals.
     */
    private final class LoadAverage {
        private static final int[] WINDOWS_MINUTES = {1, 5, 15};
        private final String name;
        private final LongSupplier counter;
        private final double[] averages = new double[WINDOWS_MINUTES.length];
        private long last;

        LoadAverage(String name, LongSupplier counter) {
            this.name = name;
            this.counter = counter;
            this.last = counter.getAsLong();
        }

        void update(double seconds) {
            long now = counter.getAsLong();
            double perMinute = seconds <= 0 ? 0 : (now - last) * 60.0 / seconds;
            last = now;
            for (int i = 0; i < WINDOWS_MINUTES.length; i++) {
                averages[i] = decayed(averages[i], perMinute, seconds, WINDOWS_MINUTES[i]);
                publish("load/" + name + "/" + WINDOWS_MINUTES[i] + "min",
                        String.format(Locale.ROOT, "%.2f", averages[i]));
            }
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
