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
import java.util.function.IntFunction;

/**
 * Runs a scenario with publishers and/or subscribers: connects the subscribers (and waits for their SUBACKs), then
 * the publishers, publishes for the duration (after an optional warm-up), waits for messages still on their way,
 * disconnects everyone and reports.
 * <p>
 * Counting: a message is "counted" when it was sent while measuring (a flag in its payload). {@code lost} is the
 * counted messages that should have arrived (counted sent × subscribers per stream) minus the distinct counted ones
 * that did, once the drain is over. Latency is measured for counted messages only, duplicates excluded. Rates are
 * what was sent and received during the measured window, whichever message it was.
 */
final class TrafficRun {

    /**
     * What to run.
     *
     * @param subscriberFilters the filters of subscriber i
     * @param publisherTopic    the topic pattern of publisher i (%i index, %c client id)
     * @param receiversPerMessage how many subscribers get each message; -1 when unknown (standalone pub / sub)
     */
    record Plan(String scenario, String shape, int subscribers, IntFunction<List<String>> subscriberFilters,
                int publishers, IntFunction<String> publisherTopic, long receiversPerMessage) {
    }

    /** A --count run without --duration that moves no message for this long is over. */
    static final int STALL_SECONDS = 30;

    private final Plan plan;
    private final ClientOptions co;
    private final TrafficOptions to;
    private final PrintStream err;

    TrafficRun(Plan plan, ClientOptions co, TrafficOptions to, PrintStream err) {
        this.plan = plan;
        this.co = co;
        this.to = to;
        this.err = err;
    }

    Map<String, Object> run() throws InterruptedException {
        to.check();
        try (Transport transport = new Transport(co)) {
            RunContext run = new RunContext(co, to, transport, plan.publishers() == 0);
            return run(run, transport);
        }
    }

    private Map<String, Object> run(RunContext run, Transport transport) throws InterruptedException {
        String prefix = co.prefix();
        List<BenchClient> subs = new ArrayList<>();
        for (int i = 0; i < plan.subscribers(); i++) {
            subs.add(new BenchClient(run, i, prefix + "sub-" + i, plan.subscriberFilters().apply(i), null, -1));
        }
        List<BenchClient> pubs = new ArrayList<>();
        for (int i = 0; i < plan.publishers(); i++) {
            String id = prefix + "pub-" + i;
            String topic = plan.publisherTopic().apply(i).replace("%i", Integer.toString(i)).replace("%c", id);
            pubs.add(new BenchClient(run, i, id, null, topic, i));
        }
        err.printf("%s: %s; QoS %d, %d B payload, %s, MQTT %s, %s sessions; %s:%d%s (%s)%n", plan.scenario(),
                plan.shape(), to.qos, to.size, to.rate > 0 ? Fmt.rate(to.rate) + " per publisher" : "unlimited rate",
                run.version, co.persistent ? "persistent" : "clean", co.host, co.port,
                co.splitSubscribers() ? ", subscribers on " + co.subscriberHost() + ":" + co.subscriberPort() : "",
                transport.describe());

        Connector connector = new Connector(run, err);
        int total = subs.size() + pubs.size();
        int readySubs = connector.connectAll(subs, 0, s -> connectProgress(run, s, total));
        int readyPubs = connector.connectAll(pubs, subs.size(), s -> connectProgress(run, s, total));
        Histogram connectLatency = run.stats.connectTotal();

        List<BenchClient> livePubs = new ArrayList<>();
        for (BenchClient p : pubs) {
            if (p.ready.isDone() && !p.ready.isCompletedExceptionally()) {
                livePubs.add(p);
            }
        }

        double duration = to.durationSeconds();
        long start = System.nanoTime();
        run.phase = to.warmup > 0 ? RunContext.WARMUP : RunContext.MEASURE;
        for (BenchClient p : livePubs) {
            p.startPublishing();
        }
        Stats.Totals last = run.stats.totals();
        long lastNanos = start;
        long measureStart = start;
        Stats.Totals atMeasureStart = new Stats.Totals();
        long nextTick = start + TimeUnit.SECONDS.toNanos(1);
        if (to.warmup > 0) {
            long warmupEnd = start + (long) (to.warmup * 1e9);
            while (System.nanoTime() < warmupEnd) {
                sleepUntil(Math.min(nextTick, warmupEnd));
                if (System.nanoTime() >= nextTick) {
                    Stats.Totals now = run.stats.totals();
                    progress(run, "warmup", start, last, lastNanos, now);
                    last = now;
                    lastNanos = System.nanoTime();
                    nextTick += TimeUnit.SECONDS.toNanos(1);
                }
            }
            run.phase = RunContext.MEASURE;
            measureStart = System.nanoTime();
            atMeasureStart = run.stats.totals();
            run.stats.latencyInterval(); // nothing counted was recorded yet; start the totals clean
        }
        double benchCpu0 = ProcessProbe.ownCpuSeconds();
        double brokerCpu0 = to.brokerPid == null ? -1 : ProcessProbe.cpuSeconds(to.brokerPid);
        boolean endedByCount = false;
        long measureEnd = measureStart + (Double.isInfinite(duration) ? Long.MAX_VALUE / 4 : (long) (duration * 1e9));
        if (livePubs.isEmpty() && plan.publishers() > 0) {
            err.println("no publisher connected: nothing to measure");
            measureEnd = System.nanoTime();
        }
        long lastMove = System.nanoTime();
        long lastCount = -1;
        while (true) {
            long now = System.nanoTime();
            if (now >= measureEnd) {
                break;
            }
            Stats.Totals moved = run.stats.totals();
            long count = moved.sent + moved.acked + moved.received;
            if (count != lastCount) {
                lastCount = count;
                lastMove = now;
            } else if (Double.isInfinite(duration) && now - lastMove > TimeUnit.SECONDS.toNanos(STALL_SECONDS)) {
                err.printf("nothing sent, acknowledged or received for %d s: stopping%n", STALL_SECONDS);
                break;
            }
            if (!livePubs.isEmpty() && allDone(livePubs)) {
                endedByCount = to.count > 0;
                break;
            }
            if (plan.publishers() == 0 && to.count > 0 && moved.receivedCounted >= to.count * plan.subscribers()) {
                endedByCount = true; // a standalone sub that received its --count: the rate is first to last
                break;
            }
            sleepUntil(Math.min(Math.min(nextTick, measureEnd), System.nanoTime() + 20_000_000L));
            if (System.nanoTime() >= nextTick) {
                Stats.Totals t = run.stats.totals();
                progress(run, "", start, last, lastNanos, t);
                last = t;
                lastNanos = System.nanoTime();
                nextTick += TimeUnit.SECONDS.toNanos(1);
            }
        }
        run.phase = RunContext.STOPPED;
        long stopped = System.nanoTime();
        Stats.Totals atStop = run.stats.totals();
        double measured = (stopped - measureStart) / 1e9;
        double benchCpu = cores(benchCpu0, ProcessProbe.ownCpuSeconds(), measured);
        double brokerCpu = to.brokerPid == null ? -1 : cores(brokerCpu0, ProcessProbe.cpuSeconds(to.brokerPid), measured);
        long brokerRss = to.brokerPid == null ? -1 : ProcessProbe.rssKib(to.brokerPid);

        // Drain: wait for what is still on its way, until everything arrived, nothing moved for 2 s, or --drain.
        long drainEnd = stopped + (long) (to.drain * 1e9);
        long lastProgress = stopped;
        Stats.Totals prev = atStop;
        while (System.nanoTime() < drainEnd) {
            Thread.sleep(50);
            Stats.Totals t = run.stats.totals();
            boolean allArrived = plan.receiversPerMessage() < 0 || plan.subscribers() == 0
                    || t.receivedCounted - t.duplicatesCounted >= t.sentCounted * plan.receiversPerMessage();
            boolean allAcked = to.qos == 0 || t.acked >= t.sent;
            if (t.received != prev.received || t.acked != prev.acked) {
                lastProgress = System.nanoTime();
            }
            prev = t;
            if (allArrived && allAcked) {
                break;
            }
            if (System.nanoTime() - lastProgress > TimeUnit.SECONDS.toNanos(2)) {
                break;
            }
        }
        double drained = (System.nanoTime() - stopped) / 1e9;

        List<ChannelFuture> closing = new ArrayList<>();
        for (BenchClient c : pubs) {
            addIfNotNull(closing, c.close());
        }
        for (BenchClient c : subs) {
            addIfNotNull(closing, c.close());
        }
        for (ChannelFuture f : closing) {
            f.awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        Stats.Totals fin = run.stats.settledTotals();
        Histogram latency = run.stats.latencyTotal();

        long sent = fin.sentCounted;
        long receivedCounted = fin.receivedCounted;
        long distinct = receivedCounted - fin.duplicatesCounted;
        long expected = plan.receiversPerMessage() < 0 || plan.subscribers() == 0 ? -1
                : sent * plan.receiversPerMessage();
        long lost = expected < 0 ? gapsOf(subs) : Math.max(0, expected - distinct);
        double sentRate = measured > 0 ? (atStop.sent - atMeasureStart.sent) / measured : 0;
        // Delivered messages per second while measuring: everything received in the window (under saturation that
        // includes messages sent before it, e.g. a QoS 0 backlog in the broker). When the window ended because the
        // publishers sent their --count, it is the counted messages over the time from the first to the last.
        double recvRate;
        if (plan.subscribers() == 0) {
            recvRate = 0;
        } else if (endedByCount && fin.lastCountedNanos > fin.firstCountedNanos) {
            recvRate = receivedCounted / ((fin.lastCountedNanos - fin.firstCountedNanos) / 1e9);
        } else {
            recvRate = measured > 0 ? (atStop.received - atMeasureStart.received) / measured : 0;
        }
        int failed = (plan.subscribers() - readySubs) + (plan.publishers() - readyPubs);

        err.println();
        err.printf("%s: %s, QoS %d, %d B, %s, MQTT %s%n", plan.scenario(), plan.shape(), to.qos, to.size,
                to.rate > 0 ? Fmt.rate(to.rate) + " per publisher" : "unlimited rate", run.version);
        err.printf("  measured  %s (+ %s warm-up, %s drain)%n", Fmt.seconds(measured), Fmt.seconds(to.warmup),
                Fmt.seconds(drained));
        if (plan.publishers() > 0) {
            err.printf("  sent      %s (%s)%s%n", Fmt.count(sent), Fmt.rate(sentRate), to.qos == 0 ? ""
                    : "  acknowledged " + Fmt.count(fin.acked) + " of " + Fmt.count(fin.sent)
                    + (to.warmup > 0 ? " (warm-up included)" : "") + ", refused " + Fmt.count(fin.publishErrors));
        }
        if (plan.subscribers() > 0) {
            err.printf("  received  %s (%s while measuring)%s%n", plan.publishers() == 0 ? Fmt.count(fin.received)
                    : Fmt.count(receivedCounted) + " counted, " + Fmt.count(fin.received) + " in all",
                    Fmt.rate(recvRate), expected >= 0 ? "  expected " + Fmt.count(expected) : "");
            err.printf("  lost %s%s  duplicated %s  out of order %s  foreign %s%n", Fmt.count(lost),
                    expected < 0 ? " (gaps in sequence numbers)" : expected > 0
                            ? String.format(Locale.ROOT, " (%.3f%%)", 100.0 * lost / expected) : "",
                    Fmt.count(fin.duplicates), Fmt.count(fin.outOfOrder), Fmt.count(fin.foreign));
            err.printf("  latency   %s  (%s samples)%n", Fmt.latencies(latency), Fmt.count(latency.getTotalCount()));
        }
        err.printf("  cpu       this tool %s%s (cores busy while measuring, of %d)%n", coresText(benchCpu),
                to.brokerPid == null ? "" : ", broker " + coresText(brokerCpu) + " (RSS " + Fmt.bytes(brokerRss * 1024)
                        + " at the end)", Runtime.getRuntime().availableProcessors());
        err.printf("  clients   %d connected, %d failed, %d dropped; connect %s%n", readySubs + readyPubs, failed,
                fin.disconnected, Fmt.latencies(connectLatency));

        Map<String, Object> r = new LinkedHashMap<>();
        r.put("scenario", plan.scenario());
        r.put("host", co.host);
        r.put("port", co.port);
        if (co.splitSubscribers()) {
            r.put("sub_host", co.subscriberHost());
            r.put("sub_port", co.subscriberPort());
        }
        r.put("mqtt", run.version.toString());
        r.put("qos", to.qos);
        r.put("payload", to.size);
        r.put("publishers", plan.publishers());
        r.put("subscribers", plan.subscribers());
        r.put("rate_per_publisher", to.rate);
        r.put("inflight", to.inflight);
        r.put("persistent", co.persistent);
        r.put("tls", co.tls);
        r.put("duration_s", measured);
        r.put("warmup_s", to.warmup);
        r.put("drain_s", drained);
        r.put("sent", sent);
        r.put("sent_rate", sentRate);
        r.put("acked", fin.acked);
        r.put("publish_refused", fin.publishErrors);
        r.put("received", plan.publishers() == 0 ? fin.received : receivedCounted);
        r.put("received_all", fin.received);
        r.put("recv_rate", recvRate);
        r.put("expected", expected);
        r.put("lost", lost);
        r.put("duplicated", fin.duplicates);
        r.put("out_of_order", fin.outOfOrder);
        r.put("foreign", fin.foreign);
        r.put("latency_samples", latency.getTotalCount());
        r.put("lat_p50_ms", latency.getTotalCount() == 0 ? null : latency.getValueAtPercentile(50) / 1000.0);
        r.put("lat_p99_ms", latency.getTotalCount() == 0 ? null : latency.getValueAtPercentile(99) / 1000.0);
        r.put("lat_p999_ms", latency.getTotalCount() == 0 ? null : latency.getValueAtPercentile(99.9) / 1000.0);
        r.put("lat_max_ms", latency.getTotalCount() == 0 ? null : latency.getMaxValue() / 1000.0);
        r.put("lat_mean_ms", latency.getTotalCount() == 0 ? null : latency.getMean() / 1000.0);
        r.put("bench_cpu_cores", benchCpu < 0 ? null : benchCpu);
        r.put("broker_cpu_cores", brokerCpu < 0 ? null : brokerCpu);
        r.put("broker_rss_kib", brokerRss < 0 ? null : brokerRss);
        r.put("clients_connected", readySubs + readyPubs);
        r.put("clients_failed", failed);
        r.put("clients_dropped", fin.disconnected);
        r.put("ok", failed == 0 && fin.disconnected == 0);
        return r;
    }

    /** Without a known sent count (standalone sub), lost = sequence numbers never seen between the first and last. */
    private static long gapsOf(List<BenchClient> subs) {
        long gaps = 0;
        for (BenchClient s : subs) {
            gaps += s.gaps();
        }
        return gaps;
    }

    private static double cores(double cpuBefore, double cpuAfter, double seconds) {
        return cpuBefore < 0 || cpuAfter < 0 || seconds <= 0 ? -1 : (cpuAfter - cpuBefore) / seconds;
    }

    private static String coresText(double cores) {
        return cores < 0 ? "n/a" : String.format(Locale.ROOT, "%.2f", cores);
    }

    private void connectProgress(RunContext run, double seconds, int total) {
        if (co.quiet) {
            return;
        }
        Stats.Totals t = run.stats.totals();
        err.printf("[%5.1fs] connecting: %s of %s ready, %s failed%n", seconds, Fmt.count(t.connected),
                Fmt.count(total), Fmt.count(t.connectFailed));
    }

    private void progress(RunContext run, String label, long start, Stats.Totals last, long lastNanos,
                          Stats.Totals now) {
        Histogram interval = run.stats.latencyInterval();
        if (co.quiet) {
            return;
        }
        double dt = (System.nanoTime() - lastNanos) / 1e9;
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "[%5.1fs]%s", (System.nanoTime() - start) / 1e9,
                label.isEmpty() ? "" : " " + label));
        if (plan.publishers() > 0) {
            sb.append("  sent ").append(Fmt.rate((now.sent - last.sent) / dt));
            if (to.qos > 0) {
                sb.append(" (in flight ").append(Fmt.count(now.sent - now.acked)).append(')');
            }
        }
        if (plan.subscribers() > 0) {
            sb.append("  recv ").append(Fmt.rate((now.received - last.received) / dt));
            if (interval.getTotalCount() > 0) {
                sb.append("  lat p50 ").append(Fmt.ms(interval.getValueAtPercentile(50)))
                        .append(" p99 ").append(Fmt.ms(interval.getValueAtPercentile(99)));
            }
            if (now.duplicates + now.outOfOrder > 0) {
                sb.append("  dup ").append(Fmt.count(now.duplicates)).append(" ooo ").append(Fmt.count(now.outOfOrder));
            }
        }
        sb.append("  clients ").append(Fmt.count(now.connected - now.disconnected));
        err.println(sb);
    }

    private static boolean allDone(List<BenchClient> pubs) {
        for (BenchClient p : pubs) {
            if (!p.publisherDone) {
                return false;
            }
        }
        return true;
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long ms = (nanoTime - System.nanoTime()) / 1_000_000;
        if (ms > 0) {
            Thread.sleep(Math.min(ms, 1000));
        }
    }

    private static void addIfNotNull(List<ChannelFuture> list, ChannelFuture f) {
        if (f != null) {
            list.add(f);
        }
    }
}
