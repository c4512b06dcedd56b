package io.ternmq.broker.it.cluster;

import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallbackExtended;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Chaos, as CrashTest does it on one node: QoS 1 and QoS 2 publishers and persistent subscribers (Paho, each with
 * every node's address, so they move to the next live node when theirs goes) while a random node is SIGKILLed and
 * restarted on its data, again and again. Every acknowledged message arrives; QoS 2 ones exactly once; in order of
 * first arrival per publisher. 3 kills in the default build, 30 with {@code -Pchaos} (docs/cluster.md keeps the
 * tally); {@code -Dchaos.enabled=false} leaves it out. The seed is printed; {@code -Dternmq.chaos.seed=N} repeats a
 * run.
 */
@EnabledIfSystemProperty(named = "ternmq.chaos", matches = "true")
class ClusterChaosTest {
    private static final int KILLS = Integer.getInteger("ternmq.chaos.kills", 3);
    private static final long SEED = Long.getLong("ternmq.chaos.seed", System.nanoTime());

    /** A publisher of numbered messages: what the broker acknowledged is what must arrive. */
    private static final class Publisher implements MqttCallbackExtended {
        final String id;
        final int qos;
        final MqttAsyncClient client;
        final Set<Integer> acked = ConcurrentHashMap.newKeySet();
        int next;

        Publisher(String id, int qos, String[] uris) throws MqttException {
            this.id = id;
            this.qos = qos;
            this.client = new MqttAsyncClient(uris[0], id, new MemoryPersistence());
            client.setCallback(this);
        }

        /** Publishes the next message if connected; false if not (it is tried again later). */
        boolean publishNext() {
            if (!client.isConnected()) {
                return false;
            }
            int seq = next;
            try {
                // the number rides on the token: Paho forgets a delivered message's payload
                client.publish("chaos/" + id, (id + ":" + seq).getBytes(StandardCharsets.UTF_8), qos, false, seq,
                        null);
                next++;
                return true;
            } catch (MqttException e) {
                return false; // not connected, or too many in flight: the same number goes again
            }
        }

        @Override
        public void deliveryComplete(IMqttDeliveryToken token) {
            if (token.getUserContext() instanceof Integer seq) {
                acked.add(seq);
            }
        }

        @Override
        public void connectComplete(boolean reconnect, String serverURI) {
        }

        @Override
        public void connectionLost(Throwable cause) {
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
        }
    }

    /** A persistent subscriber: every arrival, in order. */
    private static final class Subscriber implements MqttCallbackExtended {
        final MqttAsyncClient client;
        final List<String> arrivals = new CopyOnWriteArrayList<>();
        /** What happened to it, with the time: each arrival (its index, DUP flag) and each connection change. */
        final List<String> timeline = new CopyOnWriteArrayList<>();
        private volatile String server = "?";

        Subscriber(String id, String[] uris) throws MqttException {
            this.client = new MqttAsyncClient(uris[0], id, new MemoryPersistence());
            client.setCallback(this);
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            String body = new String(message.getPayload(), StandardCharsets.UTF_8);
            arrivals.add(body);
            timeline.add(String.format("%tT.%<tL #%d %s%s via %s", System.currentTimeMillis(), arrivals.size() - 1,
                    body, message.isDuplicate() ? " DUP" : "", server));
        }

        @Override
        public void connectComplete(boolean reconnect, String serverURI) {
            server = serverURI;
            timeline.add(String.format("%tT.%<tL connected to %s", System.currentTimeMillis(), serverURI));
        }

        @Override
        public void connectionLost(Throwable cause) {
            timeline.add(String.format("%tT.%<tL connection lost: %s", System.currentTimeMillis(), cause));
        }

        @Override
        public void deliveryComplete(IMqttDeliveryToken token) {
        }
    }

    private static MqttConnectOptions options(String[] uris) {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setServerURIs(uris);
        o.setCleanSession(false);
        o.setAutomaticReconnect(true);
        o.setMaxReconnectDelay(500);
        o.setConnectionTimeout(5);
        o.setKeepAliveInterval(5);
        o.setMaxInflight(50);
        return o;
    }

    @Test
    @DisplayName("QoS 1 and 2 publishers and persistent subscribers while random nodes are killed and restarted: "
            + "every acknowledged message arrives, QoS 2 exactly once, in order of first arrival per publisher")
    void killsLoseNothingAcknowledged() throws Exception {
        System.out.printf("ClusterChaosTest: seed %d, %d kills (-Dternmq.chaos.seed=%d repeats it)%n", SEED, KILLS,
                SEED);
        Random random = new Random(SEED);
        try (ClusterHarness cluster = ClusterHarness.start(3, 0, "storage.type rocksdb",
                "storage.durability fsync", "max_queued_messages 100000")) {
            String[] uris = {cluster.node(0).uri(), cluster.node(1).uri(), cluster.node(2).uri()};
            List<Subscriber> subs = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                // each starts on another node: rotate the list
                String[] mine = {uris[i % 3], uris[(i + 1) % 3], uris[(i + 2) % 3]};
                Subscriber s = new Subscriber("chaos-sub-" + i, mine);
                s.client.connect(options(mine)).waitForCompletion(10_000);
                s.client.subscribe("chaos/#", 2).waitForCompletion(10_000);
                subs.add(s);
            }
            List<Publisher> pubs = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                String[] mine = {uris[(i + 2) % 3], uris[i % 3], uris[(i + 1) % 3]};
                Publisher p = new Publisher("chaos-pub-q" + (i + 1), i + 1, mine);
                p.client.connect(options(mine)).waitForCompletion(10_000);
                pubs.add(p);
            }
            AtomicBoolean publishing = new AtomicBoolean(true);
            Thread load = new Thread(() -> {
                while (publishing.get()) {
                    for (Publisher p : pubs) {
                        p.publishNext();
                    }
                    try {
                        Thread.sleep(2); // some 500 messages a second each: a steady load, not a flood
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "chaos-load");
            load.start();
            try {
                for (int k = 0; k < KILLS; k++) {
                    Thread.sleep(2_000 + random.nextInt(3_000));
                    int victim = random.nextInt(3);
                    System.out.printf("ClusterChaosTest: %tT.%<tL kill %d of %d: node %d (%s)%n",
                            System.currentTimeMillis(), k + 1, KILLS, victim, uris[victim]);
                    ClusterHarness.Node n = cluster.restart(victim);
                    cluster.awaitServing(n, Duration.ofSeconds(60));
                }
                Thread.sleep(2_000);
            } finally {
                publishing.set(false);
                load.join();
            }
            // what was in flight when publishing stopped is acknowledged (or not) first: an acknowledgement that
            // came after the check below would name a message still on its way
            try {
                cluster.awaitCondition("nothing in flight at the publishers", Duration.ofSeconds(60), () ->
                        pubs.stream().allMatch(p -> p.client.getPendingDeliveryTokens().length == 0));
            } catch (AssertionError timedOut) {
                System.out.println("ClusterChaosTest: " + timedOut.getMessage());
            }
            Map<String, Set<Integer>> acked = new HashMap<>(); // what is checked: acknowledged by now
            for (Publisher p : pubs) {
                acked.put(p.id, Set.copyOf(p.acked));
            }
            // every acknowledged message must arrive: wait for the last ones, then check
            try {
                cluster.awaitCondition("every acknowledged message at every subscriber", Duration.ofSeconds(60), () ->
                        subs.stream().allMatch(s -> pubs.stream().allMatch(p -> firstArrivals(s, p.id).keySet()
                                .containsAll(acked.get(p.id)))));
            } catch (AssertionError timedOut) {
                // the assertions below say what is missing, and where
                System.out.println("ClusterChaosTest: " + timedOut.getMessage());
            }
            for (Subscriber s : subs) {
                for (Publisher p : pubs) {
                    java.util.TreeSet<Integer> missing = new java.util.TreeSet<>(acked.get(p.id));
                    missing.removeAll(firstArrivals(s, p.id).keySet());
                    System.out.printf("ClusterChaosTest: %s from %s: %d acknowledged, %d missing %s%n",
                            s.client.getClientId(), p.id, acked.get(p.id).size(), missing.size(),
                            missing.stream().limit(20).toList());
                    if (!missing.isEmpty()) {
                        // when the gap was: the arrivals of the messages just before and after it
                        System.out.printf("ClusterChaosTest: %s around the first missing from %s:%s%n",
                                s.client.getClientId(), p.id, around(s, p.id,
                                        List.of(missing.first() - 1, nextPresent(missing))));
                    }
                }
            }
            for (Subscriber s : subs) {
                for (Publisher p : pubs) {
                    Map<Integer, Integer> counts = firstArrivals(s, p.id);
                    assertThat(counts.keySet()).as("%s got every message %s had acknowledged; seed %d; %s",
                            s.client.getClientId(), p.id, SEED, cluster.logs()).containsAll(acked.get(p.id));
                    if (p.qos == 2) {
                        List<Integer> twice = counts.entrySet().stream().filter(e -> e.getValue() > 1)
                                .map(Map.Entry::getKey).sorted().toList();
                        assertThat(twice).as("QoS 2 from %s exactly once at %s; seed %d; %s; %s", p.id,
                                s.client.getClientId(), SEED, around(s, p.id, twice), cluster.logs()).isEmpty();
                    }
                    List<Integer> order = new ArrayList<>();
                    Set<Integer> seen = new java.util.HashSet<>();
                    for (String a : s.arrivals) {
                        if (a.startsWith(p.id + ":")) {
                            int seq = Integer.parseInt(a.substring(p.id.length() + 1));
                            if (seen.add(seq)) {
                                order.add(seq);
                            }
                        }
                    }
                    List<Integer> late = new ArrayList<>();
                    for (int i = 1; i < order.size(); i++) {
                        if (order.get(i) < order.get(i - 1)) {
                            late.add(order.get(i));
                        }
                    }
                    assertThat(late).as("first arrivals from %s at %s in order; seed %d; %s; %s", p.id,
                            s.client.getClientId(), SEED, around(s, p.id, late), cluster.logs()).isEmpty();
                }
            }
            System.out.printf("ClusterChaosTest: acknowledged %s; delivered %s%n",
                    pubs.stream().map(p -> p.id + "=" + acked.get(p.id).size()).toList(),
                    subs.stream().map(s -> s.client.getClientId() + "=" + s.arrivals.size()).toList());
            for (Publisher p : pubs) {
                close(p.client);
            }
            for (Subscriber s : subs) {
                close(s.client);
            }
        }
    }

    private static void close(MqttAsyncClient c) {
        try {
            c.disconnectForcibly(1_000, 1_000);
        } catch (MqttException e) {
            // reconnecting: nothing to disconnect
        }
        try {
            c.close(true);
        } catch (MqttException e) {
            // the test is over either way
        }
    }

    /** The subscriber's timeline around the first arrival of each of the first few {@code seqs} of a publisher. */
    private static String around(Subscriber s, String publisher, List<Integer> seqs) {
        StringBuilder out = new StringBuilder();
        for (Integer seq : seqs.stream().limit(3).toList()) {
            String needle = " " + publisher + ":" + seq;
            List<String> t = s.timeline;
            for (int i = 0; i < t.size(); i++) {
                String line = t.get(i);
                int at = line.indexOf(needle);
                if (at >= 0 && (line.length() == at + needle.length() || line.charAt(at + needle.length()) == ' ')) {
                    out.append("\n  around ").append(needle.trim()).append(':');
                    for (int j = Math.max(0, i - 6); j < Math.min(t.size(), i + 6); j++) {
                        out.append("\n    ").append(t.get(j));
                    }
                }
            }
        }
        List<String> connections = s.timeline.stream().filter(l -> !l.contains(" #")).toList();
        out.append("\n  connections: ").append(connections);
        return out.toString();
    }

    /** The first number after the first run of missing ones. */
    private static int nextPresent(java.util.TreeSet<Integer> missing) {
        int n = missing.first();
        while (missing.contains(n)) {
            n++;
        }
        return n;
    }

    /** How many times each message of one publisher arrived at a subscriber. */
    private static Map<Integer, Integer> firstArrivals(Subscriber s, String publisher) {
        Map<Integer, Integer> counts = new HashMap<>();
        for (String a : s.arrivals) {
            if (a.startsWith(publisher + ":")) {
                counts.merge(Integer.parseInt(a.substring(publisher.length() + 1)), 1, Integer::sum);
            }
        }
        return counts;
    }
}
