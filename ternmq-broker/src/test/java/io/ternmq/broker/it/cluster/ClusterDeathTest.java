package io.ternmq.broker.it.cluster;

import io.ternmq.broker.testing.Paho5Client;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A node's death loses nothing acknowledged (issue 13, point 4): three broker processes; the node holding sessions is
 * killed with SIGKILL, a survivor adopts them from their replicas, and their clients resume them on another node.
 */
class ClusterDeathTest {
    private static final int MESSAGES = 300;
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

    /** Connects, retrying while the session's node is not known dead yet (CONNACK 0x88 meanwhile). */
    private Paho5Client reconnect(int node, String clientId, MqttConnectionOptions options) {
        AtomicReference<Paho5Client> client = new AtomicReference<>();
        try {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                    .until(() -> {
                        client.set(Paho5Client.connect(cluster.node(node).uri(), clientId, options));
                        return client.get().isConnected();
                    });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("client " + clientId + " could not resume on node " + node + "; "
                    + cluster.logs(), e);
        }
        return client.get();
    }

    private void kill(int node) throws InterruptedException {
        cluster.node(node).process().destroyForcibly().waitFor(); // SIGKILL
    }

    @Test
    @DisplayName("SIGKILL the node holding a persistent session with 300 queued QoS 1 and 300 QoS 2 messages: the "
            + "client resumes on another node with every one of them, QoS 2 exactly once")
    void queuedMessagesSurviveTheirNodesDeath() throws Exception {
        cluster = ClusterHarness.start(3);
        try (Paho5Client sub = Paho5Client.connect(cluster.node(0).uri(), "death-sub", persistent(true))) {
            sub.subscribe("death/q1", 1);
            sub.subscribe("death/q2", 2);
            sub.disconnect();
        }
        try (Paho5Client pub = Paho5Client.connect(cluster.node(0).uri(), "death-pub", Paho5Client.options(true))) {
            for (int i = 0; i < MESSAGES; i++) {
                pub.publish("death/q1", "q1-" + i, 1, false); // waits for PUBACK
                pub.publish("death/q2", "q2-" + i, 2, false); // waits for PUBCOMP (PUBREC came first)
            }
            pub.disconnect();
        }
        kill(0);

        Paho5Client sub = reconnect(1, "death-sub", persistent(false));
        try {
            assertThat(sub.connectToken().getSessionPresent()).as(cluster.logs()).isTrue();
            Map<String, Integer> seen = new HashMap<>();
            cluster.awaitCondition("all " + 2 * MESSAGES + " messages to arrive", Duration.ofSeconds(60), () -> {
                Paho5Client.Received r;
                while ((r = sub.poll(0)) != null) {
                    seen.merge(r.payload(), 1, Integer::sum);
                }
                return seen.size() == 2 * MESSAGES;
            });
            // a moment more for anything sent twice
            Paho5Client.Received r;
            while ((r = sub.poll(1000)) != null) {
                seen.merge(r.payload(), 1, Integer::sum);
            }
            for (int i = 0; i < MESSAGES; i++) {
                assertThat(seen).containsKey("q1-" + i);
                assertThat(seen.get("q2-" + i)).as("QoS 2 message q2-" + i + " exactly once").isEqualTo(1);
            }
        } finally {
            sub.close();
        }
        assertThat(cluster.node(1).logText() + cluster.node(2).logText())
                .contains("adopted the session of client 'death-sub' from dead node");
    }

    @Test
    @DisplayName("wills of a killed node's clients (persistent sessions, and one that ends with its connection) are "
            + "published once by a survivor, a delayed one after its Will Delay Interval, and not at all for a client "
            + "that resumes its session within it")
    void willsOfTheDeadNodesClientsArePublishedOnce() throws Exception {
        cluster = ClusterHarness.start(3);
        List<Paho5Client> clients = new ArrayList<>();
        try (Paho5Client watcher = Paho5Client.connect(cluster.node(1).uri(), "will-watcher",
                Paho5Client.options(true))) {
            watcher.subscribe("wills/#", 1);
            clients.add(Paho5Client.connect(cluster.node(0).uri(), "will-now", withWill("wills/now", 0)));
            clients.add(Paho5Client.connect(cluster.node(0).uri(), "will-late", withWill("wills/late", 6)));
            clients.add(Paho5Client.connect(cluster.node(0).uri(), "will-back", withWill("wills/back", 12)));
            // a session that ends with its connection: no replica; its will is kept apart
            MqttConnectionOptions clean = withWill("wills/clean", 0);
            clean.setSessionExpiryInterval(0L);
            clients.add(Paho5Client.connect(cluster.node(0).uri(), "will-clean", clean));
            long killedAt = System.nanoTime();
            kill(0);

            Map<String, Long> arrivedAfter = new HashMap<>();
            Map<String, Integer> count = new HashMap<>();
            // the client that comes back within its will delay, on another node
            Paho5Client back = reconnect(2, "will-back", persistent(false));
            try {
                assertThat(back.connectToken().getSessionPresent()).as(cluster.logs()).isTrue();
                cluster.awaitCondition("the wills of the clients that stayed away", Duration.ofSeconds(60), () -> {
                    Paho5Client.Received r;
                    while ((r = watcher.poll(0)) != null) {
                        count.merge(r.topic(), 1, Integer::sum);
                        arrivedAfter.putIfAbsent(r.topic(), (System.nanoTime() - killedAt) / 1_000_000);
                    }
                    return count.containsKey("wills/now") && count.containsKey("wills/late")
                            && count.containsKey("wills/clean");
                });
                // past the longest will delay (12 s from the adoption): nothing more, nothing twice
                long until = killedAt + Duration.ofSeconds(16).toNanos();
                while (System.nanoTime() < until) {
                    Paho5Client.Received r = watcher.poll(500);
                    if (r != null) {
                        count.merge(r.topic(), 1, Integer::sum);
                    }
                }
            } finally {
                back.close();
            }
            assertThat(count).as(cluster.logs()).isEqualTo(Map.of("wills/now", 1, "wills/late", 1,
                    "wills/clean", 1));
            assertThat(arrivedAfter.get("wills/late")).as("the 6 s will delay is honoured")
                    .isGreaterThanOrEqualTo(6_000);
        } finally {
            for (Paho5Client c : clients) {
                try {
                    c.close();
                } catch (RuntimeException e) {
                    // its node is dead
                }
            }
        }
    }

    private static MqttConnectionOptions withWill(String topic, long delaySeconds) {
        MqttConnectionOptions o = persistent(true);
        MqttProperties wp = new MqttProperties();
        wp.setWillDelayInterval(delaySeconds);
        o.setWill(topic, Paho5Client.message("gone", 1, false, new MqttProperties()));
        o.setWillMessageProperties(wp);
        return o;
    }
}
