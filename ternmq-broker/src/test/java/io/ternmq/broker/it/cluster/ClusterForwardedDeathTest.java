package io.ternmq.broker.it.cluster;

import io.ternmq.broker.testing.Paho5Client;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Messages forwarded to the node holding a subscriber's session are acknowledged to their publisher only once that
 * node holds them (issue 13, point 4): a publisher on node 0, the persistent subscriber's session on node 1, which is
 * stopped (SIGSTOP) while the messages are published and then killed; nothing is acknowledged while it is stopped,
 * and once it is dead every message reaches the subscriber on another node, QoS 2 exactly once, in order.
 */
class ClusterForwardedDeathTest {
    /** Per QoS; all but the first of each wait at once, within the broker's Receive Maximum (100). */
    private static final int MESSAGES = 50;
    private ClusterHarness cluster;

    @AfterEach
    void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static MqttConnectionOptions persistent(boolean cleanStart) {
        MqttConnectionOptions o = Paho5Client.options(cleanStart);
        o.setSessionExpiryInterval(600L);
        return o;
    }

    private static void signal(ClusterHarness.Node node, String signal) throws Exception {
        assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(node.process().pid())).start().waitFor())
                .isZero();
    }

    @Test
    @DisplayName("QoS 1/2 forwarded to a node that stops then dies: not acknowledged while it is silent; once it is "
            + "dead, acknowledged and every one delivered from the adopted session, QoS 2 once, in order")
    void forwardedMessagesAreAcknowledgedOnlyWhenTheSubscribersNodeHoldsThem() throws Exception {
        cluster = ClusterHarness.start(3);
        try (Paho5Client sub = Paho5Client.connect(cluster.node(1).uri(), "fwd-sub", persistent(true))) {
            sub.subscribe("fwd/q1", 1);
            sub.subscribe("fwd/q2", 2);
            sub.disconnect(); // offline: what comes is queued in its session on node 1
        }
        Paho5Client pub = Paho5Client.connect(cluster.node(0).uri(), "fwd-pub", Paho5Client.options(true));
        List<IMqttToken> acks = new ArrayList<>();
        try {
            // a few acknowledged while node 1 answers
            pub.publish("fwd/q1", "q1-0", 1, false);
            pub.publish("fwd/q2", "q2-0", 2, false);
            signal(cluster.node(1), "STOP");
            for (int i = 1; i < MESSAGES; i++) {
                acks.add(pub.client().publish("fwd/q1", Paho5Client.message("q1-" + i, 1, false,
                        new MqttProperties())));
                acks.add(pub.client().publish("fwd/q2", Paho5Client.message("q2-" + i, 2, false,
                        new MqttProperties())));
            }
            // node 0 routes them at once; their acknowledgements wait for node 1, which cannot answer
            Thread.sleep(1_500);
            assertThat(acks).as("acknowledged while the subscriber's node was stopped; " + cluster.logs())
                    .noneMatch(IMqttToken::isComplete);
            signal(cluster.node(1), "KILL");
            cluster.node(1).process().waitFor();
            cluster.awaitCondition("every publish acknowledged once node 1 is dead", Duration.ofSeconds(60),
                    () -> acks.stream().allMatch(IMqttToken::isComplete));
            assertThat(acks).allMatch(t -> t.getException() == null);
        } finally {
            pub.close();
        }

        AtomicReference<Paho5Client> client = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                .until(() -> {
                    client.set(Paho5Client.connect(cluster.node(2).uri(), "fwd-sub", persistent(false)));
                    return client.get().isConnected();
                });
        Paho5Client sub = client.get();
        try {
            assertThat(sub.connectToken().getSessionPresent()).as(cluster.logs()).isTrue();
            Map<String, Integer> seen = new HashMap<>();
            List<Integer> q1Order = new ArrayList<>();
            List<Integer> q2Order = new ArrayList<>();
            cluster.awaitCondition("all " + 2 * MESSAGES + " messages", Duration.ofSeconds(60), () -> {
                Paho5Client.Received r;
                while ((r = sub.poll(0)) != null) {
                    record(r, seen, q1Order, q2Order);
                }
                return seen.size() == 2 * MESSAGES;
            });
            Paho5Client.Received r;
            while ((r = sub.poll(1000)) != null) { // a moment more for anything sent twice
                record(r, seen, q1Order, q2Order);
            }
            for (int i = 0; i < MESSAGES; i++) {
                assertThat(seen.get("q2-" + i)).as("QoS 2 message q2-" + i + " exactly once").isEqualTo(1);
            }
            assertThat(firstArrivals(q1Order)).as("QoS 1 in order of first arrival").isSorted();
            assertThat(q2Order).as("QoS 2 in order").isSorted();
        } finally {
            sub.close();
        }
        assertThat(cluster.node(0).logText() + cluster.node(2).logText()).contains("forwarded to it unconfirmed");
    }

    private static void record(Paho5Client.Received r, Map<String, Integer> seen, List<Integer> q1, List<Integer> q2) {
        seen.merge(r.payload(), 1, Integer::sum);
        int n = Integer.parseInt(r.payload().substring(3));
        (r.payload().startsWith("q1-") ? q1 : q2).add(n);
    }

    private static List<Integer> firstArrivals(List<Integer> order) {
        List<Integer> first = new ArrayList<>();
        java.util.Set<Integer> had = new java.util.HashSet<>();
        for (int n : order) {
            if (had.add(n)) {
                first.add(n);
            }
        }
        return first;
    }
}
