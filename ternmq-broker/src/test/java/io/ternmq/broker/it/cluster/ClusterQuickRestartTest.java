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

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node SIGKILLed and restarted on its data before the survivors adopted its sessions (a chaos run saw one back
 * 1.1 s after its death with none adopted): it adopts them itself from their replicas, with what the members
 * orphaned for them meanwhile, rather than taking them back from its store. A paused third node holds the survivor's
 * adoption back (it waits for every member's orphans) until the killed node is back.
 */
class ClusterQuickRestartTest {
    private ClusterHarness cluster;

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            signal("CONT", cluster.node(2)); // in case the test failed while it was paused
            cluster.close();
        }
    }

    private static void signal(String signal, ClusterHarness.Node node) throws Exception {
        assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(node.process().pid())).start().waitFor())
                .isZero();
    }

    @Test
    @DisplayName("a node killed and back before its sessions were adopted adopts them itself: every message published "
            + "meanwhile and acknowledged arrives, QoS 2 once, each publisher's in order")
    void backBeforeAdoption() throws Exception {
        cluster = ClusterHarness.start(3, "storage.type rocksdb");
        MqttConnectionOptions o = Paho5Client.options(true);
        o.setSessionExpiryInterval(600L);
        try (Paho5Client sub = Paho5Client.connect(cluster.node(0).uri(), "quick-sub", o)) {
            sub.subscribe("quick/#", 2);
            sub.disconnect();
        }
        try (Paho5Client pub = Paho5Client.connect(cluster.node(1).uri(), "quick-pub", Paho5Client.options(true))) {
            pub.publish("quick/q1", "before", 1, false);
            signal("STOP", cluster.node(2));
            ClusterHarness.Node back = cluster.restart(0); // SIGKILL, then the same data directory again
            // published while node 0 is dead or not yet serving: orphans of its routes, kept by node 1, which
            // acknowledges them once node 2 keeps them too
            List<IMqttToken> tokens = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                // not waited for: they are acknowledged once node 2 is back
                tokens.add(pub.client().publish("quick/q1",
                        Paho5Client.message("a" + i, 1, false, new MqttProperties())));
                tokens.add(pub.client().publish("quick/q2",
                        Paho5Client.message("b" + i, 2, false, new MqttProperties())));
            }
            cluster.awaitCondition("node 0 to join again", Duration.ofSeconds(30),
                    () -> back.logText().contains("is up, joining"));
            signal("CONT", cluster.node(2));
            cluster.awaitServing(back, Duration.ofSeconds(60));
            for (IMqttToken t : tokens) {
                t.waitForCompletion(30_000);
            }
        }
        MqttConnectionOptions resume = Paho5Client.options(false);
        resume.setSessionExpiryInterval(600L);
        Map<String, List<String>> got = new HashMap<>();
        try (Paho5Client sub = Paho5Client.connect(cluster.node(1).uri(), "quick-sub", resume)) {
            assertThat(sub.connectToken().getSessionPresent()).as(cluster.logs()).isTrue();
            for (Paho5Client.Received r; (r = sub.poll(3_000)) != null; ) {
                got.computeIfAbsent(r.topic(), k -> new ArrayList<>()).add(r.payload());
            }
        }
        List<String> q1 = new ArrayList<>();
        List<String> q2 = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            q1.add("a" + i);
            q2.add("b" + i);
        }
        String path = cluster.node(0).logText().contains("1 adopted from this node's earlier run")
                ? "node 0 adopted its earlier run's session" : "a survivor adopted node 0's session";
        System.out.println("ClusterQuickRestartTest: " + path);
        List<String> firstQ1 = got.getOrDefault("quick/q1", List.of()).stream().filter(p -> !p.equals("before"))
                .distinct().toList();
        assertThat(firstQ1).as("QoS 1, first arrivals (%s); %s", path, cluster.logs()).containsExactlyElementsOf(q1);
        assertThat(got.get("quick/q2")).as("QoS 2, once each (%s); %s", path, cluster.logs())
                .containsExactlyElementsOf(q2);
    }
}
