package io.ternmq.broker.it.cluster;

import io.ternmq.broker.testing.Paho5Client;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Retained messages are the cluster's, not a node's: a set or a clear on one node is seen by a new subscriber on
 * any other right after the publisher's PUBACK; concurrent sets of one topic on different nodes leave one value on
 * every node; {@code retained_max_count} bounds the cluster's set; a node that restarts gets the whole set.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterRetainedTest {
    private static final int MAX_COUNT = 40;
    private static ClusterHarness cluster;

    /** A retained message on every node: what a new subscription gets after its topic's one, in one SUBSCRIBE. */
    private static final String SENTINEL = "ret/sentinel";

    @BeforeAll
    static void startCluster() {
        cluster = ClusterHarness.start(3, "retained_max_count " + MAX_COUNT);
        try (Paho5Client pub = v5(0, "ret-sentinel")) {
            pub.publish(SENTINEL, "sentinel", 1, true);
        }
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Paho5Client v5(int node, String clientId) {
        return Paho5Client.connect(cluster.node(node).uri(), clientId, Paho5Client.options(true));
    }

    /**
     * The retained message a new subscription to {@code topic} gets on that client's node, or null. One SUBSCRIBE
     * names the topic and then {@link #SENTINEL}: retained messages follow in the order of the filters, so what comes
     * before the sentinel's is the topic's, and if the sentinel's comes first the topic has none (no waiting for
     * nothing).
     */
    private static String retainedSeenBy(Paho5Client sub, String topic) {
        sub.subscribe(null, new MqttSubscription(topic, 1), new MqttSubscription(SENTINEL, 1));
        try {
            Paho5Client.Received r = sub.poll(5_000);
            assertThat(r).as("the sentinel's retained message at least; " + cluster.logs()).isNotNull();
            assertThat(r.message().isRetained()).as("a retained message has RETAIN set [MQTT-3.3.1-6]").isTrue();
            if (r.topic().equals(SENTINEL)) {
                return null;
            }
            Paho5Client.Received sentinel = sub.poll(5_000);
            assertThat(sentinel).as("the sentinel after the topic's retained message").isNotNull();
            assertThat(sentinel.topic()).as("one retained message per topic").isEqualTo(SENTINEL);
            return r.payload();
        } finally {
            sub.unsubscribe(topic, SENTINEL);
        }
    }

    /** Clears the retained messages of these topics (each test leaves the cluster's set as it found it). */
    private static void clear(Paho5Client pub, List<String> topics) {
        for (String t : topics) {
            pub.publish(t, "", 1, true);
        }
    }

    @Test
    @Order(1)
    @DisplayName("300 rounds: a retained QoS 1 message set on one node is seen by a new subscription on another "
            + "right after PUBACK, and so is its clearing [MQTT-3.3.1-5][MQTT-3.3.1-6][MQTT-3.3.1-10]")
    void setAndClearSeenOnOtherNodesRightAfterPuback() {
        Paho5Client[] pubs = {v5(0, "ret-pub-0"), v5(1, "ret-pub-1"), v5(2, "ret-pub-2")};
        Paho5Client[] subs = {v5(0, "ret-sub-0"), v5(1, "ret-sub-1"), v5(2, "ret-sub-2")};
        try {
            List<String> missed = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                String topic = "ret/round/" + i;
                Paho5Client pub = pubs[i % 3];
                Paho5Client sub = subs[(i + 1 + i / 3 % 2) % 3];
                pub.publish(topic, "v" + i, 1, true);
                String seen = retainedSeenBy(sub, topic);
                if (!("v" + i).equals(seen)) {
                    missed.add(topic + " set: saw " + seen);
                }
                pub.publish(topic, "", 1, true);
                seen = retainedSeenBy(sub, topic);
                if (seen != null) {
                    missed.add(topic + " cleared: saw " + seen);
                }
            }
            assertThat(missed).as("rounds not seen right after PUBACK; " + cluster.logs()).isEmpty();
        } finally {
            for (Paho5Client c : pubs) {
                c.close();
            }
            for (Paho5Client c : subs) {
                c.close();
            }
        }
    }

    @Test
    @Order(2)
    @DisplayName("concurrent sets of one topic on three nodes, 30 rounds: every node ends with the same value")
    void concurrentSetsConverge() throws Exception {
        Paho5Client[] pubs = {v5(0, "conv-pub-0"), v5(1, "conv-pub-1"), v5(2, "conv-pub-2")};
        Paho5Client[] subs = {v5(0, "conv-sub-0"), v5(1, "conv-sub-1"), v5(2, "conv-sub-2")};
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<String> diverged = new ArrayList<>();
            for (int round = 0; round < 30; round++) {
                String topic = "ret/conv/" + round;
                CyclicBarrier start = new CyclicBarrier(3);
                List<Future<?>> sets = new ArrayList<>();
                for (int n = 0; n < 3; n++) {
                    int node = n;
                    int r = round;
                    sets.add(pool.submit(() -> {
                        start.await(10, TimeUnit.SECONDS);
                        for (int k = 0; k < 5; k++) {
                            pubs[node].publish(topic, "node" + node + "-" + r + "-" + k, 1, true);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : sets) {
                    f.get(30, TimeUnit.SECONDS);
                }
                Map<Integer, String> seen = new HashMap<>();
                for (int n = 0; n < 3; n++) {
                    seen.put(n, retainedSeenBy(subs[n], topic));
                }
                if (seen.values().stream().distinct().count() != 1 || seen.get(0) == null) {
                    diverged.add(topic + ": " + seen);
                }
                assertThat(seen.get(0)).as("the value is one of the last ones set").endsWith("-4");
                clear(pubs[round % 3], List.of(topic));
            }
            assertThat(diverged).as("topics whose nodes disagree; " + cluster.logs()).isEmpty();
        } finally {
            pool.shutdownNow();
            for (Paho5Client c : pubs) {
                c.close();
            }
            for (Paho5Client c : subs) {
                c.close();
            }
        }
    }

    @Test
    @Order(3)
    @DisplayName("retained_max_count bounds the cluster's set: topics retained on three nodes count together; at the "
            + "bound a new topic is delivered but not retained, replacing one still works")
    void maxCountIsClusterWide() {
        List<String> topics = new ArrayList<>();
        Paho5Client[] pubs = {v5(0, "max-pub-0"), v5(1, "max-pub-1"), v5(2, "max-pub-2")};
        try (Paho5Client sub = v5(0, "max-sub")) {
            for (int i = 0; i < MAX_COUNT - 1; i++) { // the sentinel is one of the cluster's retained messages
                topics.add("ret/max/" + i);
                pubs[i % 3].publish("ret/max/" + i, "kept" + i, 1, true);
            }
            // one over the bound, published on each node: each node counts all three nodes' messages
            for (int n = 0; n < 3; n++) {
                topics.add("ret/max/over" + n);
                pubs[n].publish("ret/max/over" + n, "over", 1, true);
            }
            for (int n = 0; n < 3; n++) {
                assertThat(retainedSeenBy(sub, "ret/max/over" + n)).as("a topic over the bound, set on node " + n)
                        .isNull();
            }
            pubs[1].publish("ret/max/0", "replaced", 1, true);
            assertThat(retainedSeenBy(sub, "ret/max/0")).isEqualTo("replaced");
            sub.subscribe("ret/max/#", 1);
            List<String> got = new ArrayList<>();
            Paho5Client.Received r;
            while ((r = sub.poll(1_000)) != null) {
                got.add(r.topic());
            }
            assertThat(got).as("the cluster keeps exactly the bound, the sentinel included").hasSize(MAX_COUNT - 1);
            clear(pubs[2], topics);
        } finally {
            for (Paho5Client c : pubs) {
                c.close();
            }
        }
    }

    @Test
    @Order(4)
    @DisplayName("a node killed and restarted on an empty store gets the cluster's whole retained set, clearings "
            + "included, and serves it")
    void restartedNodeGetsTheSet() {
        List<String> topics = new ArrayList<>();
        try (Paho5Client pub = v5(0, "rs-pub")) {
            for (int i = 0; i < 30; i++) {
                topics.add("ret/rs/" + i);
                pub.publish("ret/rs/" + i, "r" + i, 1, true);
            }
            pub.publish("ret/rs/7", "", 1, true);
        }
        ClusterHarness.Node restarted = cluster.restart(2);
        cluster.awaitServing(restarted, Duration.ofSeconds(60));
        try (Paho5Client sub = v5(2, "rs-sub")) {
            sub.subscribe("ret/rs/#", 1);
            Map<String, String> got = new HashMap<>();
            Paho5Client.Received r;
            while ((r = sub.poll(1_000)) != null) {
                got.put(r.topic(), r.payload());
            }
            Map<String, String> expected = new HashMap<>();
            for (int i = 0; i < 30; i++) {
                if (i != 7) {
                    expected.put("ret/rs/" + i, "r" + i);
                }
            }
            assertThat(got).as(cluster.logs()).isEqualTo(expected);
            // and it takes part in what follows: a set on it is seen on the others
            try (Paho5Client pub = v5(2, "rs-pub-2"); Paho5Client other = v5(0, "rs-sub-0")) {
                pub.publish("ret/rs/7", "back", 1, true);
                assertThat(retainedSeenBy(other, "ret/rs/7")).isEqualTo("back");
                clear(pub, topics);
            }
        }
    }
}
