package io.ternmq.broker.it.cluster;

import io.ternmq.broker.testing.Paho5Client;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A fourth node joins a cluster that holds 100,000 topic filters and 100,000 retained messages, and serves within
 * 10 s: a message published on it reaches the subscriber of another node, and a subscription on it gets every
 * retained message.
 */
class ClusterJoinTest {
    private static final int FILTERS = 100_000;
    private static final int RETAINED = 100_000;
    /** QoS 1 PUBLISHes in flight per publisher: well below the broker's Receive Maximum (100): Paho frees a slot
     * only a little after the token completes. */
    private static final int WINDOW = 50;
    private static ClusterHarness cluster;

    @BeforeAll
    static void startCluster() {
        // the new node's subscriber takes all 100,000 retained messages at QoS 1 through its queue
        cluster = ClusterHarness.start(3, 1, "max_queued_messages " + (RETAINED + 1_000));
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /**
     * A retained QoS 1 PUBLISH, waiting while Paho still counts slots of completed ones (on a loaded machine its
     * callback thread frees them late, and it then refuses with 32202 rather than wait).
     */
    private static IMqttToken publishWhenRoom(Paho5Client pub, String topic, byte[] payload) throws Exception {
        while (true) {
            try {
                return pub.client().publish(topic, payload, 1, true);
            } catch (org.eclipse.paho.mqttv5.common.MqttException e) {
                if (e.getReasonCode() != org.eclipse.paho.mqttv5.client.MqttClientException.REASON_CODE_MAX_INFLIGHT) {
                    throw e;
                }
                Thread.sleep(5);
            }
        }
    }

    /** Retained messages {@code join/r/i} for i = first, first + step, ... on that node, QoS 1, acknowledged. */
    private static void publishRetained(int node, int first, int step) throws Exception {
        try (Paho5Client pub = Paho5Client.connect(cluster.node(node).uri(), "join-ret-" + node,
                Paho5Client.options(true))) {
            ArrayDeque<IMqttToken> window = new ArrayDeque<>();
            for (int i = first; i < RETAINED; i += step) {
                if (window.size() == WINDOW) {
                    window.poll().waitForCompletion(30_000);
                }
                window.add(publishWhenRoom(pub, "join/r/" + i, ("r" + i).getBytes(StandardCharsets.UTF_8)));
            }
            for (IMqttToken t : window) {
                t.waitForCompletion(30_000);
            }
        }
    }

    @Test
    @DisplayName("a node joining 100,000 filters and 100,000 retained messages serves within 10 s, routes and "
            + "retained messages correct")
    void joinServesWithinTenSeconds() throws Exception {
        try (Paho5Client sub = Paho5Client.connect(cluster.node(0).uri(), "join-sub", Paho5Client.options(true))) {
            for (int i = 0; i < FILTERS; i += 1_000) {
                MqttSubscription[] batch = new MqttSubscription[1_000];
                for (int k = 0; k < batch.length; k++) {
                    batch[k] = new MqttSubscription("join/f/" + (i + k), 1);
                }
                sub.subscribe(null, batch);
            }
            // two publishers, on nodes 1 and 2, at once
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
            try {
                java.util.List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
                for (int n = 1; n <= 2; n++) {
                    int node = n;
                    done.add(pool.submit(() -> {
                        publishRetained(node, node - 1, 2);
                        return null;
                    }));
                }
                for (java.util.concurrent.Future<?> f : done) {
                    f.get(300, java.util.concurrent.TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }

            long t0 = System.nanoTime();
            ClusterHarness.Node joined = cluster.startSpare();
            cluster.awaitServing(joined, Duration.ofSeconds(60));
            Paho5Client pub = Paho5Client.connect(joined.uri(), "join-pub", Paho5Client.options(true));
            long servedMillis = (System.nanoTime() - t0) / 1_000_000;
            java.util.regex.Matcher started = java.util.regex.Pattern.compile("TernMQ started in (\\d+) ms")
                    .matcher(joined.logText());
            assertThat(started.find()).isTrue();
            long startMillis = Long.parseLong(started.group(1));
            System.out.println("join: node 3 serving " + servedMillis + " ms after its process started (the broker's "
                    + "own start, after the JVM's: " + startMillis + " ms)");
            try (pub; Paho5Client retainedSub = Paho5Client.connect(joined.uri(), "join-ret-sub",
                    Paho5Client.options(true))) {
                Random random = new Random();
                Set<String> sent = new HashSet<>();
                for (int k = 0; k < 50; k++) {
                    String topic = "join/f/" + random.nextInt(FILTERS);
                    if (sent.add(topic)) {
                        pub.publish(topic, topic, 1, false);
                    }
                }
                Set<String> got = new HashSet<>();
                for (int k = 0; k < sent.size(); k++) {
                    Paho5Client.Received r = sub.poll(5_000);
                    assertThat(r).as("messages published on the new node, at node 0's subscriber; " + cluster.logs())
                            .isNotNull();
                    got.add(r.payload());
                }
                assertThat(got).isEqualTo(sent);

                retainedSub.subscribe("join/r/#", 1);
                cluster.awaitCondition("every retained message at a subscriber of the new node",
                        Duration.ofSeconds(120), () -> retainedSub.received().size() >= RETAINED);
                Set<String> topics = new HashSet<>();
                for (Paho5Client.Received r : retainedSub.received()) {
                    assertThat(r.payload()).isEqualTo("r" + r.topic().substring("join/r/".length()));
                    topics.add(r.topic());
                }
                assertThat(topics).as("each retained message once").hasSize(RETAINED);
            }
            // the broker's own start: from main() to listening, joining and loading included (the JVM's own start
            // is left out: on a loaded machine it alone can take seconds)
            assertThat(startMillis).as("the new node serves within 10 s of its start; " + cluster.logs())
                    .isLessThanOrEqualTo(10_000);
        }
    }
}
