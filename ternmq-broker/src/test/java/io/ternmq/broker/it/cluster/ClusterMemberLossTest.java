package io.ternmq.broker.it.cluster;

import io.ternmq.broker.testing.Paho5Client;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A node that stops answering (SIGSTOP) holds SUBACKs on the others back only until the membership declares it dead
 * ({@code cluster.failure_timeout}, 10 s); then it is no longer waited for, and the others route on.
 */
class ClusterMemberLossTest {
    private static ClusterHarness cluster;

    @BeforeAll
    static void startCluster() {
        cluster = ClusterHarness.start(3);
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (cluster != null) {
            signal("CONT", cluster.node(2));
            cluster.close();
        }
    }

    private static void signal(String signal, ClusterHarness.Node node) throws Exception {
        assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(node.process().pid())).start().waitFor())
                .isZero();
    }

    @Test
    @DisplayName("a silent node is waited for until it is declared dead (SUBACKs; publishers to it, once its link "
            + "backs up), then the others route on")
    void silentNodeIsWaitedForUntilDeclaredDead() throws Exception {
        try (Paho5Client sub = Paho5Client.connect(cluster.node(0).uri(), "loss-sub", Paho5Client.options(true));
             Paho5Client pub = Paho5Client.connect(cluster.node(1).uri(), "loss-pub", Paho5Client.options(true));
             Paho5Client silentSub = Paho5Client.connect(cluster.node(2).uri(), "loss-c-sub",
                     Paho5Client.options(true));
             Paho5Client flood = Paho5Client.connect(cluster.node(0).uri(), "loss-flood",
                     Paho5Client.options(true))) {
            silentSub.subscribe("flood/#", 0);
            signal("STOP", cluster.node(2));
            long stopped = System.nanoTime();
            // node A's link to the silent node C backs up: past 4 MiB waiting, A stops reading from the publisher
            byte[] big = new byte[256 * 1024];
            for (int i = 0; i < 200; i++) {
                flood.client().publish("flood/" + i, big, 0, false);
            }
            IMqttToken held = flood.client().publish("flood/last", new byte[] {1}, 1, false);
            IMqttToken suback = sub.client().subscribe(new MqttSubscription[] {new MqttSubscription("loss/a", 1)},
                    null, null, new MqttProperties());
            await().pollDelay(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3)).until(() -> true);
            assertThat(suback.isComplete()).as("SUBACK waits for the silent node; " + cluster.logs()).isFalse();
            assertThat(held.isComplete()).as("the publisher to the silent node is held back").isFalse();
            cluster.awaitCondition("node A to declare node C dead", Duration.ofSeconds(40),
                    () -> cluster.node(0).logText().contains("left (2 members)"));
            cluster.awaitCondition("the SUBACK once node C is gone", Duration.ofSeconds(5), suback::isComplete);
            cluster.awaitCondition("the held publisher's PUBACK once node C is gone", Duration.ofSeconds(20),
                    held::isComplete);
            long waitedMillis = (System.nanoTime() - stopped) / 1_000_000;
            assertThat(waitedMillis).as("SUBACK came after the failure timeout").isGreaterThanOrEqualTo(9_000);
            pub.publish("loss/a", "routed on", 1, false);
            Paho5Client.Received r = sub.poll(5_000);
            assertThat(r).as("the message from node B; " + cluster.logs()).isNotNull();
            assertThat(r.payload()).isEqualTo("routed on");
        }
    }
}
