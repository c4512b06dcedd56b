package io.ternmq.broker.it.cluster;

import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.codec.Connack;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.ReasonCode;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The node holding a persistent session dies: its client is refused elsewhere (0x88, 3.x 0x03) rather than given an
 * empty session, since adopting a dead node's sessions is a later increment; asking for a clean session works.
 */
class ClusterHolderLossTest {
    private ClusterHarness cluster;

    @AfterEach
    void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @DisplayName("a persistent session whose node was killed: CONNECT elsewhere refused 0x88 (3.1.1: 0x03), not "
            + "given an empty session; with Clean Start it is accepted")
    void deadHolderRefusesRatherThanEmptySession() throws Exception {
        cluster = ClusterHarness.start(2);
        MqttConnectionOptions o = Paho5Client.options(true);
        o.setSessionExpiryInterval(600L);
        try (Paho5Client c = Paho5Client.connect(cluster.node(0).uri(), "orphan-5", o)) {
            c.subscribe("orphan/#", 1);
        }
        PahoClient v3 = PahoClient.connect(cluster.node(0).uri(), "orphan-3", false);
        v3.close();

        cluster.node(0).process().destroyForcibly().waitFor();
        cluster.awaitCondition("node B to see node A leave", Duration.ofSeconds(30),
                () -> cluster.node(1).logText().contains("left (1 members)"));

        try (RawClient raw = new RawClient(cluster.node(1).mqttPort()).version(MqttVersion.MQTT_5)) {
            Connack refused = RawV5.connack(raw, RawV5.connect("orphan-5", false, 60,
                    RawV5.props(PropertyId.SESSION_EXPIRY_INTERVAL, 600L)));
            assertThat(refused.reasonCode()).as(cluster.logs()).isEqualTo(ReasonCode.SERVER_UNAVAILABLE);
            assertThat(refused.sessionPresent()).isFalse();
        }
        MqttClient v3Again = new MqttClient(cluster.node(1).uri(), "orphan-3", new MemoryPersistence());
        MqttConnectOptions v3Options = new MqttConnectOptions();
        v3Options.setCleanSession(false);
        try {
            assertThatThrownBy(() -> v3Again.connect(v3Options)).isInstanceOfSatisfying(MqttException.class,
                    e -> assertThat(e.getReasonCode()).isEqualTo(MqttException.REASON_CODE_BROKER_UNAVAILABLE));
        } finally {
            v3Again.close();
        }
        try (Paho5Client fresh = Paho5Client.connect(cluster.node(1).uri(), "orphan-5", Paho5Client.options(true))) {
            assertThat(fresh.connectToken().getSessionPresent()).isFalse();
            assertThat(fresh.isConnected()).isTrue();
        }
    }
}
