import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Delayed publish ({@code delayed_publish true}), for bench/delayed.sh (run with the Paho 3 jar on the class path,
 * Java's source launcher). Clocks: publisher, broker and subscriber share this machine's
 * {@code System.currentTimeMillis()}.
 * <pre>
 * live URI COUNT FROM_S TO_S PUBLISHERS ONE_MS
 *     COUNT messages, due FROM_S..TO_S after the start, all published (QoS 1) within the first 4 s so that all
 *     wait at once: ONE_MS of them sent at once to be due in one millisecond (the window's middle); of the rest,
 *     half one by one, evenly spread; half in bursts of 10 sent and due in one millisecond. Each payload carries its
 *     due time in epoch ms (the publisher's clock just before the PUBLISH plus the delay). One subscriber (QoS 1) on
 *     the real topics records lateness = arrival - due. The broker starts the delay when it reads the PUBLISH, after
 *     that stamp and before its PUBACK: lateness is also given from PUBACK + delay, a lower bound; the two meet
 *     when the PUBLISH takes no time to arrive.
 * fill URI COUNT DELAY_S
 *     COUNT messages to $delayed/DELAY_S/bench/restart/..., QoS 1, all acknowledged, then exits
 * subscribe URI
 *     the persistent session bench-delayed-restart subscribes to bench/restart/# (QoS 1) and leaves
 * count URI COUNT TIMEOUT_S
 *     that session comes back and counts what it receives, until COUNT or TIMEOUT_S
 * </pre>
 */
public final class DelayedLateness {
    /** Sends are spread over this many ms from the start; delays are whole seconds, so a multiple of 1000. */
    private static final long SEND_WINDOW_MS = 4_000;

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "live" -> live(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                    Integer.parseInt(args[4]), Integer.parseInt(args[5]), Integer.parseInt(args[6]));
            case "fill" -> fill(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            case "subscribe" -> subscribeRestart(args[1]);
            case "count" -> countRestart(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            default -> throw new IllegalArgumentException("live|fill|subscribe|count, not " + args[0]);
        }
    }

    private static MqttAsyncClient connect(String uri, String id, boolean clean, MqttCallback callback)
            throws Exception {
        MqttAsyncClient c = new MqttAsyncClient(uri, id, new MemoryPersistence());
        if (callback != null) {
            c.setCallback(callback);
        }
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(clean);
        o.setMaxInflight(65_000);
        o.setKeepAliveInterval(60);
        c.connect(o).waitForCompletion(10_000);
        return c;
    }

    /** A message's plan: its due time after the start, and the delay it is published with. */
    private record Planned(int index, long dueOffsetMs, long delaySeconds, long sendOffsetMs) {
        static Planned of(int index, long dueOffsetMs) {
            long send = dueOffsetMs % SEND_WINDOW_MS;
            return new Planned(index, dueOffsetMs, (dueOffsetMs - send) / 1000, send);
        }
    }

    static List<Planned> plan(int count, int fromS, int toS, int oneMs) {
        long from = fromS * 1000L;
        long span = (toS - fromS) * 1000L;
        int single = (count - oneMs) / 2;
        int bursts = (count - oneMs - single) / 10;
        single = count - oneMs - bursts * 10;
        List<Planned> plan = new ArrayList<>(count);
        int i = 0;
        for (int k = 0; k < single; k++) {
            plan.add(Planned.of(i++, from + k * span / single));
        }
        for (int b = 0; b < bursts; b++) {
            // b % 7: bursts due 2 s apart would otherwise be sent in the same millisecond
            long due = from + 1 + b * span / bursts + b % 7;
            for (int k = 0; k < 10; k++) {
                plan.add(Planned.of(i++, due));
            }
        }
        for (int k = 0; k < oneMs; k++) {
            plan.add(Planned.of(i++, from + span / 2));
        }
        return plan;
    }

    private static void live(String uri, int count, int fromS, int toS, int publishers, int oneMs)
            throws Exception {
        if (fromS * 1000L < SEND_WINDOW_MS + 1000) {
            throw new IllegalArgumentException("FROM_S must leave the " + SEND_WINDOW_MS + " ms of sending and 1 s");
        }
        List<Planned> plan = plan(count, fromS, toS, oneMs);
        long[] due = new long[count];
        long[] arrived = new long[count];
        AtomicInteger received = new AtomicInteger();
        AtomicInteger duplicates = new AtomicInteger();
        AtomicInteger foreign = new AtomicInteger();
        CountDownLatch all = new CountDownLatch(count);
        MqttAsyncClient sub = connect(uri, "bench-delayed-sub", true, new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
                System.out.println("subscriber lost its connection: " + cause);
            }

            @Override
            public void messageArrived(String topic, MqttMessage m) {
                long now = System.currentTimeMillis();
                String[] f = new String(m.getPayload(), StandardCharsets.US_ASCII).split(":");
                if (f.length != 2) {
                    foreign.incrementAndGet();
                    return;
                }
                int i = Integer.parseInt(f[0]);
                if (arrived[i] != 0) {
                    duplicates.incrementAndGet();
                    return;
                }
                due[i] = Long.parseLong(f[1]);
                arrived[i] = now;
                received.incrementAndGet();
                all.countDown();
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
            }
        });
        sub.subscribe("bench/delayed/#", 1).waitForCompletion(10_000);

        List<MqttAsyncClient> pubs = new ArrayList<>();
        for (int p = 0; p < publishers; p++) {
            pubs.add(connect(uri, "bench-delayed-pub-" + p, true, null));
        }
        AtomicInteger acked = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        AtomicLong lastAck = new AtomicLong();
        CountDownLatch allAcked = new CountDownLatch(count);
        long[] sentAt = new long[count];
        long[] ackedAt = new long[count];
        IMqttActionListener onAck = new IMqttActionListener() {
            @Override
            public void onSuccess(IMqttToken t) {
                long now = System.currentTimeMillis();
                ackedAt[(Integer) t.getUserContext()] = now;
                acked.incrementAndGet();
                lastAck.accumulateAndGet(now, Math::max);
                allAcked.countDown();
            }

            @Override
            public void onFailure(IMqttToken t, Throwable e) {
                refused.incrementAndGet();
                allAcked.countDown();
            }
        };
        long start = System.currentTimeMillis() + 200;
        long[] sendLag = new long[count];
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < publishers; p++) {
            MqttAsyncClient pub = pubs.get(p);
            List<Planned> mine = new ArrayList<>();
            for (int i = p; i < count; i += publishers) {
                mine.add(plan.get(i));
            }
            mine.sort((a, b) -> Long.compare(a.sendOffsetMs(), b.sendOffsetMs()));
            Thread t = new Thread(() -> {
                try {
                    for (Planned m : mine) {
                        long wait = start + m.sendOffsetMs() - System.currentTimeMillis();
                        if (wait > 0) {
                            Thread.sleep(wait);
                        }
                        long now = System.currentTimeMillis();
                        sendLag[m.index()] = now - (start + m.sendOffsetMs());
                        sentAt[m.index()] = now;
                        byte[] payload = (m.index() + ":" + (now + m.delaySeconds() * 1000))
                                .getBytes(StandardCharsets.US_ASCII);
                        pub.publish("$delayed/" + m.delaySeconds() + "/bench/delayed/" + m.index() % 100, payload, 1,
                                false, m.index(), onAck);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "publisher-" + p);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        allAcked.await(60, TimeUnit.SECONDS);
        long firstDue = start + plan.stream().mapToLong(Planned::dueOffsetMs).min().orElse(0);
        long lastDue = start + plan.stream().mapToLong(Planned::dueOffsetMs).max().orElse(0);
        System.out.printf("published %d (QoS 1) with %d publishers: %d acknowledged, %d refused; last PUBACK %+d ms "
                        + "from the start, first due at %+d ms (%s); send lag p99 %d ms, max %d ms%n", count,
                publishers, acked.get(), refused.get(), lastAck.get() - start, firstDue - start,
                lastAck.get() < firstDue ? "all waiting at once" : "NOT all waiting at once",
                percentile(sorted(sendLag), 0.99), Arrays.stream(sendLag).max().orElse(0));
        all.await(lastDue - System.currentTimeMillis() + 10_000, TimeUnit.MILLISECONDS);

        long[] lateness = new long[received.get()];
        long[] fromAck = new long[received.get()];
        long[] pubAck = new long[count];
        for (int i = 0; i < count; i++) {
            pubAck[i] = ackedAt[i] - sentAt[i];
        }
        int n = 0;
        int early = 0;
        for (int i = 0; i < count; i++) {
            if (arrived[i] != 0 && n < lateness.length) {
                // the broker starts the delay when it reads the PUBLISH: after the publisher stamped the payload,
                // before its PUBACK; so the truth lies between these two
                fromAck[n] = arrived[i] - (due[i] - sentAt[i] + ackedAt[i]);
                lateness[n++] = arrived[i] - due[i];
                // the broker's due time is its own clock's at the PUBLISH plus the delay, never before ours
                if (arrived[i] < due[i] - 1) {
                    early++;
                }
            }
        }
        long[] s = sorted(Arrays.copyOf(lateness, n));
        System.out.printf("received %d of %d (%d duplicates, %d foreign, %d early by more than 1 ms)%n", n, count,
                duplicates.get(), foreign.get(), early);
        if (n > 0) {
            long[] a = sorted(Arrays.copyOf(fromAck, n));
            long[] pa = sorted(pubAck);
            System.out.printf("PUBLISH to PUBACK ms: p50 %d  p99 %d  max %d%n", percentile(pa, 0.5),
                    percentile(pa, 0.99), pa[count - 1]);
            System.out.printf("lateness (arrival - due) ms: min %d  p50 %d  p90 %d  p99 %d  p99.9 %d  max %d%n", s[0],
                    percentile(s, 0.5), percentile(s, 0.9), percentile(s, 0.99), percentile(s, 0.999), s[n - 1]);
            System.out.printf("  due counted from the PUBACK instead (a lower bound): min %d  p50 %d  p90 %d  p99 %d  "
                    + "p99.9 %d  max %d%n", a[0], percentile(a, 0.5), percentile(a, 0.9), percentile(a, 0.99),
                    percentile(a, 0.999), a[n - 1]);
            // where the PUBLISH was acknowledged within 10 ms the broker's due time is known to 10 ms: these
            // messages' lateness is the release's, not the way in (chosen by what happened seconds before release)
            List<Long> known = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                if (arrived[i] != 0 && ackedAt[i] - sentAt[i] <= 10) {
                    known.add(arrived[i] - due[i]);
                }
            }
            long[] k = sorted(known.stream().mapToLong(Long::longValue).toArray());
            if (k.length > 0) {
                System.out.printf("  the %d acknowledged within 10 ms: p50 %d  p90 %d  p99 %d  p99.9 %d  max %d%n",
                        k.length, percentile(k, 0.5), percentile(k, 0.9), percentile(k, 0.99), percentile(k, 0.999),
                        k[k.length - 1]);
            }
            if (oneMs > 0) {
                // the burst sent at once, separately: the largest single release
                List<Long> burst = new ArrayList<>();
                for (Planned m : plan) {
                    if (m.index() >= count - oneMs && arrived[m.index()] != 0) {
                        burst.add(arrived[m.index()] - due[m.index()]);
                    }
                }
                long[] b = sorted(burst.stream().mapToLong(Long::longValue).toArray());
                System.out.printf("  of which the %d sent at once to be due in one ms: p50 %d  p99 %d  max %d%n",
                        b.length, percentile(b, 0.5), percentile(b, 0.99), b[b.length - 1]);
            }
        }
        System.out.printf("RESULT received=%d expected=%d early=%d duplicates=%d p50=%d p99=%d max=%d%n", n, count,
                early, duplicates.get(), n > 0 ? percentile(s, 0.5) : -1, n > 0 ? percentile(s, 0.99) : -1,
                n > 0 ? s[n - 1] : -1);
        for (MqttAsyncClient c : pubs) {
            c.disconnect().waitForCompletion(5_000);
            c.close();
        }
        sub.disconnect().waitForCompletion(5_000);
        sub.close();
    }

    private static long[] sorted(long[] a) {
        long[] s = a.clone();
        Arrays.sort(s);
        return s;
    }

    /** The value at or below which a fraction q of the samples lie (nearest rank). */
    private static long percentile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return -1;
        }
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    private static void fill(String uri, int count, int delayS) throws Exception {
        MqttAsyncClient pub = connect(uri, "bench-delayed-fill", true, null);
        List<IMqttToken> tokens = new ArrayList<>(count);
        long t0 = System.nanoTime();
        for (int i = 0; i < count; i++) {
            tokens.add(pub.publish("$delayed/" + delayS + "/bench/restart/" + i % 100,
                    Integer.toString(i).getBytes(StandardCharsets.US_ASCII), 1, false));
        }
        for (IMqttToken t : tokens) {
            t.waitForCompletion(60_000);
        }
        System.out.printf("stored %d delayed messages (QoS 1, %d s) in %d ms%n", count, delayS,
                (System.nanoTime() - t0) / 1_000_000);
        pub.disconnect().waitForCompletion(5_000);
        pub.close();
    }

    private static void subscribeRestart(String uri) throws Exception {
        MqttAsyncClient sub = connect(uri, "bench-delayed-restart", false, null);
        sub.subscribe("bench/restart/#", 1).waitForCompletion(10_000);
        sub.disconnect().waitForCompletion(5_000);
        sub.close();
    }

    private static void countRestart(String uri, int count, int timeoutS) throws Exception {
        boolean[] seen = new boolean[count];
        AtomicInteger distinct = new AtomicInteger();
        AtomicInteger all = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(count);
        long t0 = System.nanoTime();
        MqttAsyncClient sub = connect(uri, "bench-delayed-restart", false, new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
                System.out.println("subscriber lost its connection: " + cause);
            }

            @Override
            public void messageArrived(String topic, MqttMessage m) {
                all.incrementAndGet();
                int i = Integer.parseInt(new String(m.getPayload(), StandardCharsets.US_ASCII));
                if (!seen[i]) {
                    seen[i] = true;
                    distinct.incrementAndGet();
                    done.countDown();
                }
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
            }
        });
        boolean complete = done.await(timeoutS, TimeUnit.SECONDS);
        System.out.printf("after the restart: received %d of %d (%d in all), %s %d ms after the subscriber "
                        + "connected%n", distinct.get(), count, all.get(), complete ? "the last" : "gave up",
                (System.nanoTime() - t0) / 1_000_000);
        System.out.printf("RESULT restart_received=%d expected=%d%n", distinct.get(), count);
        sub.disconnect().waitForCompletion(5_000);
        sub.close();
    }
}
