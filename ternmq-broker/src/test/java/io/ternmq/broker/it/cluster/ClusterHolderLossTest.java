package io.ternmq.broker.it.cluster;

import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.codec.Connack;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.ReasonCode;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The node holding persistent sessions stops answering: until the cluster declares it dead its clients are refused
 * elsewhere (0x88, 3.x 0x03), never given an empty session; once it is, a survivor adopts the sessions and the clients
 * resume them (Session Present 1) on any node, MQTT 5 and 3.1.1 alike.
 */
class ClusterHolderLossTest {
    private ClusterHarness cluster;

    @AfterEach
    void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static void signal(Process p, String signal) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).inheritIO().start().waitFor();
    }

    @Test
    @DisplayName("a persistent session whose node is silent: CONNECT elsewhere refused 0x88 until the node is "
            + "declared dead, never given an empty session; then adopted and resumed with Session Present 1")
    void refusedUntilTheDeathIsDetectedThenAdopted() throws Exception {
        cluster = ClusterHarness.start(2);
        MqttConnectionOptions o = Paho5Client.options(true);
        o.setSessionExpiryInterval(600L);
        try (Paho5Client c = Paho5Client.connect(cluster.node(0).uri(), "orphan-5", o)) {
            c.subscribe("orphan/#", 1);
        }
        MqttClient v3 = new MqttClient(cluster.node(0).uri(), "orphan-3", new MemoryPersistence());
        MqttConnectOptions v3Options = new MqttConnectOptions();
        v3Options.setCleanSession(false);
        v3.connect(v3Options);
        v3.subscribe("orphan3/#", 1);
        v3.disconnect();
        v3.close();

        // silent, not closed: the cluster needs cluster.failure_timeout to declare it dead
        Process holder = cluster.node(0).process();
        signal(holder, "STOP");
        try {
            try (RawClient raw = new RawClient(cluster.node(1).mqttPort()).version(MqttVersion.MQTT_5)
                    .socketTimeout(Duration.ofSeconds(40))) {
                Connack refused = RawV5.connack(raw, RawV5.connect("orphan-5", false, 60,
                        RawV5.props(PropertyId.SESSION_EXPIRY_INTERVAL, 600L)));
                assertThat(refused.reasonCode()).as(cluster.logs()).isEqualTo(ReasonCode.SERVER_UNAVAILABLE);
                assertThat(refused.sessionPresent()).isFalse();
            }
            cluster.awaitCondition("node B to see node A leave", Duration.ofSeconds(60),
                    () -> cluster.node(1).logText().contains("left (1 members)"));

            AtomicReference<Paho5Client> resumed = new AtomicReference<>();
            MqttConnectionOptions again = Paho5Client.options(false);
            again.setSessionExpiryInterval(600L);
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                resumed.set(Paho5Client.connect(cluster.node(1).uri(), "orphan-5", again));
                return resumed.get().isConnected();
            });
            try (Paho5Client c = resumed.get()) {
                assertThat(c.connectToken().getSessionPresent()).as(cluster.logs()).isTrue();
            }
            MqttClient v3Again = new MqttClient(cluster.node(1).uri(), "orphan-3", new MemoryPersistence());
            try {
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                    v3Again.connect(v3Options);
                    return v3Again.isConnected();
                });
                assertThat(v3Again.isConnected()).isTrue();
                v3Again.disconnect();
            } finally {
                v3Again.close();
            }
            assertThat(cluster.node(1).logText()).contains("adopted the session of client 'orphan-5'")
                    .contains("adopted the session of client 'orphan-3'");
        } finally {
            holder.destroyForcibly().waitFor();
        }
    }
}
