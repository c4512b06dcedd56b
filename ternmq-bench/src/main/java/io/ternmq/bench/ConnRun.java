package io.ternmq.bench;

import io.netty.channel.ChannelFuture;
import org.HdrHistogram.Histogram;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The {@code conn} scenario: opens N connections at a given rate, holds them idle (keep-alive pings only), and
 * reports the connection rate and, given the broker's pid, its memory before and after: RSS from /proc and, for a
 * JVM broker, heap after a full GC and direct memory (JMX through the Attach API).
 */
final class ConnRun {
    /** File descriptors kept free for everything else a process opens (jars, epoll, eventfds, pipes, logs). */
    static final int FD_MARGIN = 64;

    private final ClientOptions co;
    private final String count;
    private final Long brokerPid;
    private final double hold;
    private final double settle;
    private final Boolean jmx;
    private final PrintStream err;
    /** Seconds after the last connection at which the broker's RSS is read again (a collector may return memory). */
    private final List<Double> rssAt;

    ConnRun(ClientOptions co, String count, Long brokerPid, double hold, double settle, Boolean jmx, PrintStream err) {
        this(co, count, brokerPid, hold, settle, jmx, err, List.of());
    }

    ConnRun(ClientOptions co, String count, Long brokerPid, double hold, double settle, Boolean jmx, PrintStream err,
            List<Double> rssAt) {
        this.co = co;
        this.count = count;
        this.brokerPid = brokerPid;
        this.hold = hold;
        this.settle = settle;
        this.jmx = jmx;
        this.err = err;
        this.rssAt = brokerPid == null ? List.of() : rssAt.stream().sorted().toList();
    }

    /** How many connections "max" means: what both this process and the broker can still open. */
    int maxConnections() {
        long self = ProcessHandle.current().pid();
        long own = ProcessProbe.maxOpenFiles(self) - ProcessProbe.openFiles(self) - FD_MARGIN;
        String why = "this process: " + ProcessProbe.maxOpenFiles(self) + " files allowed, "
                + ProcessProbe.openFiles(self) + " open";
        long n = own;
        if (brokerPid != null) {
            long limit = ProcessProbe.maxOpenFiles(brokerPid);
            int open = ProcessProbe.openFiles(brokerPid);
            if (limit > 0 && open >= 0) {
                long broker = limit - open - FD_MARGIN;
                why += "; broker: " + limit + " allowed, " + open + " open";
                n = Math.min(n, broker);
            }
        }
        n = Math.max(1, Math.min(n, Integer.MAX_VALUE));
        err.printf("conn: max = %d connections (%s; %d kept free in each)%n", n, why, FD_MARGIN);
        return (int) n;
    }

    Map<String, Object> run() throws Exception {
        int n = count.equals("max") ? maxConnections() : Integer.parseInt(count);
        if (n < 1) {
            throw new IllegalArgumentException("--connections must be at least 1 or max");
        }
        boolean java = brokerPid != null && (jmx != null ? jmx : ProcessProbe.isJava(brokerPid));
        JvmProbe probe = null;
        JvmProbe.Memory before = null;
        long rssBefore = brokerPid == null ? -1 : ProcessProbe.rssKib(brokerPid);
        if (java) {
            try {
                probe = JvmProbe.attach(brokerPid);
                before = probe.measure();
                rssBefore = ProcessProbe.rssKib(brokerPid);
            } catch (Exception e) {
                err.println("conn: cannot read the broker's JVM memory (" + e + "); RSS only");
            }
        }
        try (Transport transport = new Transport(co)) {
            RunContext run = new RunContext(co, null, transport, false);
            String prefix = co.prefix();
            List<BenchClient> clients = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                clients.add(new BenchClient(run, i, prefix + "c-" + i, null, null, -1));
            }
            err.printf("conn: %,d connections at %s, held %s; %s:%d, MQTT %s, keep alive %d s (%s)%n", n,
                    co.connRate > 0 ? Fmt.rate(co.connRate) : "full speed", Fmt.seconds(hold), co.host, co.port,
                    run.version, co.keepAlive, transport.describe());
            if (brokerPid != null) {
                err.printf("conn: broker pid %d, RSS %s before%s%n", brokerPid, Fmt.bytes(rssBefore * 1024),
                        before == null ? "" : ", heap " + Fmt.bytes(before.heapUsed()) + " live, direct "
                                + Fmt.bytes(before.direct()));
            }
            long start = System.nanoTime();
            int ready = new Connector(run, err).connectAll(clients, 0, s -> {
                if (!co.quiet) {
                    Stats.Totals t = run.stats.totals();
                    err.printf(Locale.ROOT, "[%5.1fs] connected %s of %s (%s), failed %s%s%n", s,
                            Fmt.count(t.connected), Fmt.count(n), Fmt.rate(t.connected / s),
                            Fmt.count(t.connectFailed), brokerRss());
                }
            });
            double connectSeconds = (System.nanoTime() - start) / 1e9;
            double connRate = ready / connectSeconds;
            Histogram connectLatency = run.stats.connectTotal();
            long allConnected = System.nanoTime();

            Thread.sleep((long) (settle * 1000));
            long rssAfter = brokerPid == null ? -1 : ProcessProbe.rssKib(brokerPid);
            JvmProbe.Memory after = null;
            if (probe != null) {
                try {
                    after = probe.measure();
                    rssAfter = ProcessProbe.rssKib(brokerPid);
                } catch (Exception e) {
                    err.println("conn: cannot read the broker's JVM memory (" + e + ")");
                }
            }
            long holdEnd = allConnected + (long) (hold * 1e9);
            long nextTick = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            List<Map<String, Object>> samples = new ArrayList<>();
            int nextSample = 0;
            while (System.nanoTime() < holdEnd || nextSample < rssAt.size()) {
                long sampleAt = nextSample < rssAt.size() ? allConnected + (long) (rssAt.get(nextSample) * 1e9)
                        : Long.MAX_VALUE;
                long ms = Math.min(Math.min(holdEnd, nextTick), sampleAt) - System.nanoTime();
                if (ms > 0) {
                    Thread.sleep(Math.max(1, ms / 1_000_000));
                }
                while (nextSample < rssAt.size()
                        && System.nanoTime() >= allConnected + (long) (rssAt.get(nextSample) * 1e9)) {
                    long rss = ProcessProbe.rssKib(brokerPid);
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("s", rssAt.get(nextSample));
                    m.put("rss_kib", rss);
                    m.put("rss_per_conn_b", rssBefore >= 0 && rss >= 0 && ready > 0
                            ? (rss - rssBefore) * 1024 / ready : -1);
                    samples.add(m);
                    nextSample++;
                }
                if (System.nanoTime() >= nextTick) {
                    nextTick += TimeUnit.SECONDS.toNanos(1);
                    if (!co.quiet) {
                        Stats.Totals t = run.stats.totals();
                        err.printf(Locale.ROOT, "[%5.1fs] holding %s connections, %s dropped%s%n",
                                (System.nanoTime() - start) / 1e9, Fmt.count(t.connected - t.disconnected),
                                Fmt.count(t.disconnected), brokerRss());
                    }
                }
            }
            Stats.Totals held = run.stats.totals();
            List<ChannelFuture> closing = new ArrayList<>();
            for (BenchClient c : clients) {
                ChannelFuture f = c.close();
                if (f != null) {
                    closing.add(f);
                }
            }
            for (ChannelFuture f : closing) {
                f.awaitUninterruptibly(10, TimeUnit.SECONDS);
            }
            Stats.Totals fin = run.stats.settledTotals();

            long rssPerConn = rssBefore >= 0 && rssAfter >= 0 && ready > 0 ? (rssAfter - rssBefore) * 1024 / ready : -1;
            long heapPerConn = before != null && after != null && ready > 0
                    ? (after.heapUsed() - before.heapUsed()) / ready : -1;
            long directPerConn = before != null && after != null && before.direct() >= 0 && ready > 0
                    ? (after.direct() - before.direct()) / ready : -1;

            err.println();
            err.printf("conn: %,d connections, MQTT %s%n", n, run.version);
            err.printf("  connected %s, failed %s, dropped while held %s%n", Fmt.count(ready),
                    Fmt.count(n - ready), Fmt.count(held.disconnected));
            err.printf("  rate      %s (%s to connect all)%n", Fmt.rate(connRate), Fmt.seconds(connectSeconds));
            err.printf("  connect   %s%n", Fmt.latencies(connectLatency));
            if (brokerPid != null) {
                err.printf("  broker    RSS %s -> %s (%s per connection)%n", Fmt.bytes(rssBefore * 1024),
                        Fmt.bytes(rssAfter * 1024), Fmt.bytes(rssPerConn));
                for (Map<String, Object> m : samples) {
                    err.printf(Locale.ROOT, "            RSS %s s after the last connection: %s (%s per connection)%n",
                            m.get("s"), Fmt.bytes((Long) m.get("rss_kib") * 1024),
                            Fmt.bytes((Long) m.get("rss_per_conn_b")));
                }
                if (before != null && after != null) {
                    err.printf("            heap (live after GC) %s -> %s (%s per connection), direct %s -> %s (%s per "
                                    + "connection)%n", Fmt.bytes(before.heapUsed()), Fmt.bytes(after.heapUsed()),
                            Fmt.bytes(heapPerConn), Fmt.bytes(before.direct()), Fmt.bytes(after.direct()),
                            Fmt.bytes(directPerConn));
                }
            }

            Map<String, Object> r = new LinkedHashMap<>();
            r.put("scenario", "conn");
            r.put("host", co.host);
            r.put("port", co.port);
            r.put("mqtt", run.version.toString());
            r.put("tls", co.tls);
            r.put("connections", n);
            r.put("connected", ready);
            r.put("failed", n - ready);
            r.put("dropped", held.disconnected);
            r.put("conn_rate", connRate);
            r.put("connect_s", connectSeconds);
            r.put("connect_p50_ms", connectLatency.getTotalCount() == 0 ? null
                    : connectLatency.getValueAtPercentile(50) / 1000.0);
            r.put("connect_p99_ms", connectLatency.getTotalCount() == 0 ? null
                    : connectLatency.getValueAtPercentile(99) / 1000.0);
            r.put("connect_max_ms", connectLatency.getTotalCount() == 0 ? null : connectLatency.getMaxValue() / 1000.0);
            r.put("hold_s", hold);
            r.put("broker_pid", brokerPid);
            r.put("rss_before_kib", rssBefore);
            r.put("rss_after_kib", rssAfter);
            r.put("rss_per_conn_b", rssPerConn);
            for (Map<String, Object> m : samples) { // flat, like every RESULT field: rss_per_conn_30s_b
                double sec = (Double) m.get("s");
                String at = sec == Math.rint(sec) ? Long.toString((long) sec) : Double.toString(sec).replace('.', '_');
                r.put("rss_at_" + at + "_kib", m.get("rss_kib"));
                r.put("rss_per_conn_" + at + "_b", m.get("rss_per_conn_b"));
            }
            r.put("heap_before_b", before == null ? null : before.heapUsed());
            r.put("heap_after_b", after == null ? null : after.heapUsed());
            r.put("heap_committed_after_b", after == null ? null : after.heapCommitted());
            r.put("direct_before_b", before == null ? null : before.direct());
            r.put("direct_after_b", after == null ? null : after.direct());
            r.put("heap_per_conn_b", heapPerConn < 0 && before == null ? null : heapPerConn);
            r.put("direct_per_conn_b", directPerConn < 0 && before == null ? null : directPerConn);
            r.put("heap_direct_per_conn_b", before == null || after == null ? null
                    : heapPerConn + Math.max(0, directPerConn));
            r.put("ok", ready == n && held.disconnected == 0 && fin.disconnected == held.disconnected);
            return r;
        } finally {
            if (probe != null) {
                probe.close();
            }
        }
    }

    private String brokerRss() {
        if (brokerPid == null) {
            return "";
        }
        return ", broker RSS " + Fmt.bytes(ProcessProbe.rssKib(brokerPid) * 1024);
    }
}
