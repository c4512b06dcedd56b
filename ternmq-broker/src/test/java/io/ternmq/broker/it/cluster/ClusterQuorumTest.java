package io.ternmq.broker.it.cluster;

import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.ReasonCode;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code cluster.min_members}: a node that sees fewer members stops serving (MQTT 5 clients get DISCONNECT 0x9C, new
 * CONNECTs 0x88 / 3.x 0x03) until it sees enough again.
 */
class ClusterQuorumTest {
    private ClusterHarness cluster;
    private Process restarted;

    @AfterEach
    void stop() throws InterruptedException {
        if (restarted != null) {
            restarted.destroyForcibly().waitFor();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @DisplayName("min_members 2 of 3: one node loss is served through; alone, the last node disconnects its clients "
            + "(0x9C) and refuses CONNECTs (0x88, 3.1.1: 0x03) until a node rejoins")
    void aNodeBelowQuorumStopsServing() throws Exception {
        // two backups: the survivor holds every partition after two deaths half a second apart (with one, the
        // partitions whose owner and backup were on the two dead nodes are lost, node 1's session with them)
        cluster = ClusterHarness.start(3, "cluster.min_members 2", "cluster.backup_count 2");
        ClusterHarness.Node survivor = cluster.node(2);
        Paho5Client v5 = Paho5Client.connect(survivor.uri(), "quorum-5", Paho5Client.options(true));
        PahoClient v3 = PahoClient.connect(survivor.uri(), "quorum-3", true);
        org.eclipse.paho.mqttv5.client.MqttConnectionOptions persistent = Paho5Client.options(true);
        persistent.setSessionExpiryInterval(600L);
        try (Paho5Client p = Paho5Client.connect(cluster.node(1).uri(), "quorum-p", persistent)) {
            p.subscribe("quorum/p", 1);
            p.disconnect();
        }
        try {
            cluster.node(0).process().destroyForcibly().waitFor();
            cluster.awaitCondition("the survivor to see 2 members", Duration.ofSeconds(30),
                    () -> survivor.logText().contains("left (2 members)"));
            assertThat(v5.isConnected()).as("2 of min 2: still served").isTrue();

            int beforeAlone = survivor.logText().length();
            cluster.node(1).process().destroyForcibly().waitFor();
            cluster.awaitCondition("the MQTT 5 client to be told 0x9C", Duration.ofSeconds(30),
                    () -> v5.disconnected() != null);
            assertThat(v5.disconnected().getReturnCode()).isEqualTo(ReasonCode.USE_ANOTHER_SERVER);
            cluster.awaitCondition("the MQTT 3.1.1 client to be disconnected", Duration.ofSeconds(10),
                    () -> !v3.client().isConnected());
            try (RawClient raw = new RawClient(survivor.mqttPort()).version(MqttVersion.MQTT_5)) {
                assertThat(RawV5.connack(raw, RawV5.connect("quorum-new")).reasonCode())
                        .isEqualTo(ReasonCode.SERVER_UNAVAILABLE);
            }
            MqttClient refused = new MqttClient(survivor.uri(), "quorum-new-3", new MemoryPersistence());
            try {
                assertThatThrownBy(refused::connect).isInstanceOfSatisfying(MqttException.class,
                        e -> assertThat(e.getReasonCode()).isEqualTo(MqttException.REASON_CODE_BROKER_UNAVAILABLE));
            } finally {
                refused.close();
            }

            restarted = ClusterHarness.startProcess(cluster.node(0).config(), cluster.node(0).log());
            cluster.awaitCondition("the survivor to serve again", Duration.ofSeconds(60),
                    () -> {
                        String log = survivor.logText();
                        return log.substring(log.lastIndexOf("cluster: not serving")).contains("cluster: serving");
                    });
            try (Paho5Client back = Paho5Client.connect(survivor.uri(), "quorum-5", Paho5Client.options(true))) {
                assertThat(back.isConnected()).isTrue();
            }
            // node 1's session: not adopted by the survivor while it was alone (it did not serve), adopted once it
            // serves again (node 1 is still dead)
            String sinceAlone = survivor.logText().substring(beforeAlone);
            int servingAgain = sinceAlone.lastIndexOf("cluster: serving");
            assertThat(sinceAlone.substring(0, servingAgain)).as("adopted while alone")
                    .doesNotContain("adopted the session of client 'quorum-p'");
            org.eclipse.paho.mqttv5.client.MqttConnectionOptions resume = Paho5Client.options(false);
            resume.setSessionExpiryInterval(600L);
            boolean[] present = new boolean[1];
            cluster.awaitCondition("client quorum-p to resume on the survivor", Duration.ofSeconds(30), () -> {
                try (Paho5Client p = Paho5Client.connect(survivor.uri(), "quorum-p", resume)) {
                    present[0] = p.connectToken().getSessionPresent();
                    return true;
                } catch (RuntimeException refusedWhileAdopted) {
                    return false;
                }
            });
            assertThat(present[0]).as("node 1's session, adopted; " + cluster.logs()).isTrue();
        } finally {
            v5.close();
            v3.close();
        }
    }
}
