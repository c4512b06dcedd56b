package io.ternmq.broker.it.cluster;

import io.ternmq.broker.testing.Paho5Client;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A restart of the whole cluster empties the session directory (Hazelcast's memory); each node records the sessions
 * it restored from its store (RocksDB), so a client finds its session from any node afterwards.
 */
class ClusterRestartTest {
    private ClusterHarness cluster;
    private final List<Process> restarted = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (Process p : restarted) {
            if (p == null) {
                continue; // not started
            }
            p.destroy();
            if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static long count(String text, String what) {
        return text.lines().filter(l -> l.contains(what)).count();
    }

    @Test
    @DisplayName("after a full cluster restart (RocksDB), a persistent session of node A with queued messages "
            + "resumes on node B: session present, every message, in order")
    void sessionFoundAfterFullRestart() throws Exception {
        cluster = ClusterHarness.start(2, "storage.type rocksdb");
        MqttConnectionOptions o = Paho5Client.options(true);
        o.setSessionExpiryInterval(600L);
        try (Paho5Client sub = Paho5Client.connect(cluster.node(0).uri(), "restart-sub", o)) {
            sub.subscribe("restart/#", 1);
            sub.disconnect();
        }
        try (Paho5Client pub = Paho5Client.connect(cluster.node(1).uri(), "restart-pub", Paho5Client.options(true))) {
            for (int i = 0; i < 20; i++) {
                pub.publish("restart/" + i, "r" + i, 1, false);
            }
        }
        for (int i = 0; i < 2; i++) {
            Process p = cluster.node(i).process();
            p.destroy(); // SIGTERM: an orderly stop
            assertThat(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).as("node " + i + " stopped").isTrue();
        }
        for (int i = 0; i < 2; i++) {
            restarted.add(ClusterHarness.startProcess(cluster.node(i).config(), cluster.node(i).log()));
        }
        cluster.awaitCondition("both nodes to restart, see each other and serve", Duration.ofSeconds(90),
                () -> {
                    String a = cluster.node(0).logText();
                    String b = cluster.node(1).logText();
                    return count(a, "TernMQ started") == 2 && count(b, "TernMQ started") == 2
                            && count(a, "data link to node") >= 2 && count(b, "data link to node") >= 2;
                });
        assertThat(cluster.node(0).logText()).contains("1 restored sessions recorded in the session directory");

        MqttConnectionOptions resume = Paho5Client.options(false);
        resume.setSessionExpiryInterval(600L);
        try (Paho5Client sub = Paho5Client.connect(cluster.node(1).uri(), "restart-sub", resume)) {
            assertThat(sub.connectToken().getSessionPresent()).as(cluster.logs()).isTrue();
            List<String> got = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                Paho5Client.Received r = sub.poll(5_000);
                assertThat(r).as("message " + i + " (got " + got + "); " + cluster.logs()).isNotNull();
                got.add(r.payload());
            }
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                expected.add("r" + i);
            }
            assertThat(got).containsExactlyElementsOf(expected);
        }
    }

    @Test
    @DisplayName("after a full cluster restart (RocksDB), the node holding a restored session with queued messages is "
            + "killed: the session, replicated from its restored copy, is adopted and resumes on the survivor")
    void restoredSessionIsReplicatedAndAdopted() throws Exception {
        cluster = ClusterHarness.start(2, "storage.type rocksdb");
        MqttConnectionOptions o = Paho5Client.options(true);
        o.setSessionExpiryInterval(600L);
        try (Paho5Client sub = Paho5Client.connect(cluster.node(0).uri(), "restored-sub", o)) {
            sub.subscribe("restored/#", 1);
            sub.disconnect();
        }
        try (Paho5Client pub = Paho5Client.connect(cluster.node(0).uri(), "restored-pub",
                Paho5Client.options(true))) {
            for (int i = 0; i < 20; i++) {
                pub.publish("restored/" + i, "r" + i, 1, false);
            }
        }
        for (int i = 0; i < 2; i++) {
            Process p = cluster.node(i).process();
            p.destroy(); // SIGTERM: an orderly stop; the replicas go with the whole cluster
            assertThat(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).as("node " + i + " stopped").isTrue();
        }
        // node B first: node A then restores its session into a cluster that has a member to hold the backup (a
        // node alone has none to replicate to, whatever it writes)
        restarted.add(null);
        restarted.add(ClusterHarness.startProcess(cluster.node(1).config(), cluster.node(1).log()));
        cluster.awaitCondition("node B to restart", Duration.ofSeconds(60),
                () -> count(cluster.node(1).logText(), "TernMQ started") == 2);
        restarted.set(0, ClusterHarness.startProcess(cluster.node(0).config(), cluster.node(0).log()));
        cluster.awaitCondition("both nodes to restart, see each other and serve", Duration.ofSeconds(90),
                () -> {
                    String a = cluster.node(0).logText();
                    String b = cluster.node(1).logText();
                    return count(a, "TernMQ started") == 2 && count(b, "TernMQ started") == 2
                            && count(a, "data link to node") >= 2 && count(b, "data link to node") >= 2;
                });
        restarted.get(0).destroyForcibly().waitFor(); // SIGKILL the node that restored the session
        cluster.awaitCondition("node B to see node A leave", Duration.ofSeconds(60),
                () -> count(cluster.node(1).logText(), "left (1 members)") >= 1);

        MqttConnectionOptions resume = Paho5Client.options(false);
        resume.setSessionExpiryInterval(600L);
        java.util.concurrent.atomic.AtomicReference<Paho5Client> client = new java.util.concurrent.atomic
                .AtomicReference<>();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            client.set(Paho5Client.connect(cluster.node(1).uri(), "restored-sub", resume));
            return client.get().isConnected();
        });
        try (Paho5Client sub = client.get()) {
            assertThat(sub.connectToken().getSessionPresent()).as(cluster.logs()).isTrue();
            java.util.Set<String> got = new java.util.HashSet<>();
            while (got.size() < 20) {
                Paho5Client.Received r = sub.poll(10_000);
                assertThat(r).as("messages so far " + got + "; " + cluster.logs()).isNotNull();
                got.add(r.payload());
            }
        }
        assertThat(cluster.node(1).logText()).contains("adopted the session of client 'restored-sub'");
    }
}
