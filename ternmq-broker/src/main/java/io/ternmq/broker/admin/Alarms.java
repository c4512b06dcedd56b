package io.ternmq.broker.admin;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.metrics.SyncLatencies;
import io.ternmq.broker.transport.MqttServer;
import io.ternmq.broker.transport.ServerTlsContext;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryUsage;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * This node's conditions an operator should look at ({@code GET /api/v1/alarms}): heap use over
 * {@value #HEAP_PERCENT} %, connected clients over {@value #CONNECTIONS_PERCENT} % of {@code max_connections}, a TLS
 * certificate (an MQTT listener's or the admin listener's own) expiring within {@value #CERTIFICATE_DAYS} days, the
 * store's sync p99 over {@value #SYNC_P99_MILLIS} ms in the last minute. Checked every {@value #CHECK_SECONDS} s on the
 * admin loop once it has one (and when asked: by the admin API, or by another node in a cluster), so that an alarm
 * knows since when it holds; a node without an admin listener checks only when asked. Checks run under this
 * object's monitor, read counters and never wait.
 */
final class Alarms implements AutoCloseable {
    static final double HEAP_PERCENT = 85;
    static final double CONNECTIONS_PERCENT = 90;
    static final long CERTIFICATE_DAYS = 30;
    static final double SYNC_P99_MILLIS = 100;
    static final int CHECK_SECONDS = 5;
    private static final long SYNC_WINDOW_NANOS = TimeUnit.SECONDS.toNanos(60);

    /**
     * One condition that holds now.
     *
     * @param name      {@code heap}, {@code connections}, {@code certificate}, {@code store_sync}
     * @param subject   what it is about (a listener), or null
     * @param value     the measured value, in {@code unit}
     * @param threshold the value past which it is an alarm, in {@code unit}
     * @param since     when a check first saw it (it has held since)
     */
    record Alarm(String name, String subject, String message, double value, double threshold, String unit,
                 Instant since) implements java.io.Serializable {
        String key() {
            return subject == null ? name : name + " " + subject;
        }
    }

    private final BrokerMetrics metrics;
    private final int maxConnections;
    private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    private final Map<String, Instant> since = new HashMap<>();
    /** Snapshots of the store's sync counts over the last minute, each {nanoTime, counts...}. */
    private final ArrayDeque<long[]> syncSnapshots = new ArrayDeque<>();
    private volatile ServerTlsContext adminTls;
    private volatile Listening listening = new Listening(null, List.of());
    private ScheduledFuture<?> checks;

    private record Listening(MqttServer server, List<java.net.InetSocketAddress> bound) {
    }

    /** @param metrics its {@code storeSyncs} must observe the store's syncs (the store_sync alarm reads them) */
    Alarms(BrokerMetrics metrics, int maxConnections) {
        this.metrics = metrics;
        this.maxConnections = maxConnections;
    }

    /** The admin listener is up: checks run on its loop every few seconds; its own certificate (if any) is watched. */
    void start(EventExecutor loop, ServerTlsContext adminTls) {
        this.adminTls = adminTls;
        checks = loop.scheduleAtFixedRate(this::check, 0, CHECK_SECONDS, TimeUnit.SECONDS);
    }

    /** The MQTT listeners are bound: their certificates are watched from now on. Any thread. */
    void listenersStarted(MqttServer mqtt, List<java.net.InetSocketAddress> addresses) {
        listening = new Listening(mqtt, List.copyOf(addresses));
    }

    /** The alarms that hold now. Any thread. */
    synchronized List<Alarm> check() {
        Instant now = Instant.now();
        List<Alarm> found = new ArrayList<>();
        MemoryUsage heap = memory.getHeapMemoryUsage();
        if (heap.getMax() > 0) {
            double percent = 100.0 * heap.getUsed() / heap.getMax();
            if (percent > HEAP_PERCENT) {
                found.add(new Alarm("heap", null, String.format("heap %.1f %% used (%d of %d MiB)", percent,
                        heap.getUsed() >> 20, heap.getMax() >> 20), round(percent), HEAP_PERCENT, "%", null));
            }
        }
        if (maxConnections > 0) {
            long connected = metrics.clientsConnected.get();
            double percent = 100.0 * connected / maxConnections;
            if (percent > CONNECTIONS_PERCENT) {
                found.add(new Alarm("connections", null, connected + " clients connected of max_connections "
                        + maxConnections, round(percent), CONNECTIONS_PERCENT, "%", null));
            }
        }
        MqttServer mqtt = listening.server();
        List<java.net.InetSocketAddress> bound = listening.bound();
        if (mqtt != null) {
            for (int i = 0; i < mqtt.listenerCount(); i++) {
                String name = i < bound.size() ? bound.get(i).getAddress().getHostAddress() + ":"
                        + bound.get(i).getPort() : String.valueOf(mqtt.listener(i));
                certificate(found, "listener " + name, mqtt.certificateExpiry(i), now);
            }
        }
        ServerTlsContext tls = adminTls;
        if (tls != null && tls.serverCertificate() != null) {
            certificate(found, "admin listener", tls.serverCertificate().getNotAfter().toInstant(), now);
        }
        double p99 = syncP99Millis(System.nanoTime());
        if (p99 > SYNC_P99_MILLIS) {
            found.add(new Alarm("store_sync", null, "store sync p99 " + p99 + " ms over the last minute", p99,
                    SYNC_P99_MILLIS, "ms", null));
        }
        // since when each has held: an alarm that went away and came back starts again
        List<Alarm> answer = new ArrayList<>(found.size());
        Map<String, Instant> still = new HashMap<>();
        for (Alarm a : found) {
            Instant first = since.getOrDefault(a.key(), now);
            still.put(a.key(), first);
            answer.add(new Alarm(a.name(), a.subject(), a.message(), a.value(), a.threshold(), a.unit(), first));
        }
        since.clear();
        since.putAll(still);
        return answer;
    }

    private static void certificate(List<Alarm> found, String subject, Instant expiry, Instant now) {
        if (expiry == null) {
            return;
        }
        Duration left = Duration.between(now, expiry);
        if (left.compareTo(Duration.ofDays(CERTIFICATE_DAYS)) < 0) {
            double days = round(left.toMillis() / 86_400_000.0);
            found.add(new Alarm("certificate", subject, (left.isNegative() ? "the certificate of " + subject
                    + " expired at " : "the certificate of " + subject + " expires at ") + expiry, days,
                    CERTIFICATE_DAYS, "days", null));
        }
    }

    /**
     * The store's sync p99 over the last minute (since the first snapshot, if younger), in ms, as the upper bound of
     * its {@code SyncLatencies} bucket; 0 without syncs. Keeps one snapshot per check.
     */
    private double syncP99Millis(long nowNanos) {
        long[] counts = new long[metrics.storeSyncs.buckets()];
        metrics.storeSyncs.copyCounts(counts);
        long[] snapshot = new long[counts.length + 1];
        snapshot[0] = nowNanos;
        System.arraycopy(counts, 0, snapshot, 1, counts.length);
        syncSnapshots.addLast(snapshot);
        while (syncSnapshots.size() > 1 && nowNanos - syncSnapshots.peekFirst()[0] > SYNC_WINDOW_NANOS) {
            syncSnapshots.pollFirst();
        }
        long[] oldest = java.util.Arrays.copyOfRange(syncSnapshots.peekFirst(), 1, counts.length + 1);
        long micros = SyncLatencies.p99Micros(oldest, counts);
        return micros < 0 ? 0 : round(micros / 1000.0);
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }

    @Override
    public void close() {
        if (checks != null) {
            checks.cancel(false);
        }
    }
}
