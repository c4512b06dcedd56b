package io.ternmq.broker.it;

import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Pingreq;
import io.ternmq.codec.Pingresp;
import io.ternmq.codec.ReasonCode;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** CONNECT/CONNACK, client identifiers, takeover, keep alive and the connect timeout. */
class ConnectTest {
    private TestBroker broker;

    @BeforeEach
    void start() {
        broker = TestBroker.start(b -> b.connectTimeoutSeconds(1));
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    static Connect connect(MqttVersion v, String clientId, boolean clean, int keepAlive) {
        return new Connect(v, clientId, clean, keepAlive, null, null, null, MqttProperties.EMPTY);
    }

    @Test
    @DisplayName("CONNACK 0 for MQTT 3.1.1, 3.1 and a Paho client")
    void acceptsEveryVersion() {
        try (RawClient c = new RawClient(broker.port())) {
            c.send(connect(MqttVersion.MQTT_3_1_1, "v311", true, 60));
            Connack ack = c.read(Connack.class);
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.V3_ACCEPTED);
            assertThat(ack.sessionPresent()).isFalse();
        }
        try (RawClient c = new RawClient(broker.port()).version(MqttVersion.MQTT_3_1)) {
            c.send(connect(MqttVersion.MQTT_3_1, "v31", true, 60));
            assertThat(c.read(Connack.class).reasonCode()).isEqualTo(ReasonCode.V3_ACCEPTED);
        }
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1);
        try (PahoClient p = PahoClient.connect(broker, "paho31", o)) {
            assertThat(p.isConnected()).isTrue();
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-2] unsupported protocol level gets CONNACK 0x01, then the connection closes")
    void unsupportedProtocolLevel() {
        try (RawClient c = new RawClient(broker.port())) {
            // "MQTT" with level 6
            c.sendHex("10 0e 00 04 4d 51 54 54 06 02 00 3c 00 02 63 31");
            Connack ack = c.read(Connack.class);
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.V3_UNACCEPTABLE_PROTOCOL_VERSION);
            c.assertClosedByServer();
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.3-8] empty client id without clean session gets CONNACK 0x02")
    void emptyClientIdWithoutCleanSessionIsRejected() {
        try (RawClient c = new RawClient(broker.port())) {
            c.send(connect(MqttVersion.MQTT_3_1_1, "", false, 60));
            assertThat(c.read(Connack.class).reasonCode()).isEqualTo(ReasonCode.V3_IDENTIFIER_REJECTED);
            c.assertClosedByServer();
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.3-6] empty client id with clean session is accepted with an assigned id")
    void emptyClientIdWithCleanSessionGetsAnId() {
        try (RawClient c = new RawClient(broker.port())) {
            c.send(connect(MqttVersion.MQTT_3_1_1, "", true, 60));
            assertThat(c.read(Connack.class).reasonCode()).isEqualTo(ReasonCode.V3_ACCEPTED);
            await().until(() -> broker.broker().sessions().size() == 1);
        }
    }

    @Test
    @DisplayName("empty client id is refused when allow_zero_length_clientid is false")
    void emptyClientIdRefusedByConfig() {
        try (TestBroker strict = TestBroker.start(b -> b.allowZeroLengthClientId(false));
             RawClient c = new RawClient(strict.port())) {
            c.send(connect(MqttVersion.MQTT_3_1_1, "", true, 60));
            assertThat(c.read(Connack.class).reasonCode()).isEqualTo(ReasonCode.V3_IDENTIFIER_REJECTED);
            c.assertClosedByServer();
        }
    }

    @Test
    @DisplayName("MQTT 3.1 refuses an empty client id and one longer than 23 characters with 0x02")
    void mqtt31ClientIdLength() {
        try (RawClient c = new RawClient(broker.port()).version(MqttVersion.MQTT_3_1)) {
            c.send(connect(MqttVersion.MQTT_3_1, "", true, 60));
            assertThat(c.read(Connack.class).reasonCode()).isEqualTo(ReasonCode.V3_IDENTIFIER_REJECTED);
            c.assertClosedByServer();
        }
        try (RawClient c = new RawClient(broker.port()).version(MqttVersion.MQTT_3_1)) {
            c.send(connect(MqttVersion.MQTT_3_1, "x".repeat(24), true, 60));
            assertThat(c.read(Connack.class).reasonCode()).isEqualTo(ReasonCode.V3_IDENTIFIER_REJECTED);
            c.assertClosedByServer();
        }
        try (RawClient c = new RawClient(broker.port()).version(MqttVersion.MQTT_3_1)) {
            c.send(connect(MqttVersion.MQTT_3_1, "x".repeat(23), true, 60));
            assertThat(c.read(Connack.class).reasonCode()).isEqualTo(ReasonCode.V3_ACCEPTED);
        }
    }

    @Test
    @DisplayName("MQTT 3.1.1 accepts client ids longer than 23 characters [MQTT-3.1.3-5 allows it]")
    void longClientIdIn311() {
        try (RawClient c = new RawClient(broker.port())) {
            c.send(connect(MqttVersion.MQTT_3_1_1, "a-rather-long-client-identifier-of-many-characters", true, 60));
            assertThat(c.read(Connack.class).reasonCode()).isEqualTo(ReasonCode.V3_ACCEPTED);
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.4-2] a second connection with the same client id takes over; the first is closed")
    void takeover() {
        try (RawClient first = new RawClient(broker.port()); RawClient second = new RawClient(broker.port())) {
            first.send(connect(MqttVersion.MQTT_3_1_1, "same", true, 60));
            first.read(Connack.class);
            second.send(connect(MqttVersion.MQTT_3_1_1, "same", true, 60));
            assertThat(second.read(Connack.class).reasonCode()).isEqualTo(ReasonCode.V3_ACCEPTED);
            first.assertClosedByServer();
            second.send(Pingreq.INSTANCE);
            assertThat(second.read()).isEqualTo(Pingresp.INSTANCE);
        }
        assertThat(broker.broker().metrics().sessionTakeovers.sum()).isEqualTo(1);
    }

    @Test
    @DisplayName("[MQTT-3.1.2-24] silence for 1.5 x keep alive closes the connection; PINGREQ keeps it open")
    void keepAliveEnforced() {
        try (RawClient idle = new RawClient(broker.port()); RawClient pinging = new RawClient(broker.port())) {
            pinging.send(connect(MqttVersion.MQTT_3_1_1, "pinging", true, 2));
            pinging.read(Connack.class);
            idle.send(connect(MqttVersion.MQTT_3_1_1, "idle", true, 1));
            idle.read(Connack.class);
            long t0 = System.nanoTime();
            idle.assertClosedByServer(Duration.ofSeconds(3));
            long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
            assertThat(elapsedMs).isBetween(1400L, 2600L);
            // pings every second keep a 2 s keep-alive connection open well past its 3 s deadline
            for (int i = 0; i < 3; i++) {
                pinging.send(Pingreq.INSTANCE);
                assertThat(pinging.read()).isEqualTo(Pingresp.INSTANCE);
                pinging.assertSilentFor(Duration.ofMillis(1000));
            }
            pinging.send(Pingreq.INSTANCE);
            assertThat(pinging.read()).isEqualTo(Pingresp.INSTANCE);
        }
        assertThat(broker.broker().metrics().keepAliveTimeouts.sum()).isEqualTo(1);
    }

    @Test
    @DisplayName("[MQTT-3.1.2-24] among many connections of one loop, only the silent ones are closed, while others "
            + "come and go")
    void keepAliveAmongMany() {
        java.util.List<RawClient> pinging = new java.util.ArrayList<>();
        java.util.List<RawClient> silent = new java.util.ArrayList<>();
        java.util.List<RawClient> leaving = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 30; i++) {
                RawClient c = new RawClient(broker.port());
                c.send(connect(MqttVersion.MQTT_3_1_1, "many-" + i, true, 1));
                c.read(Connack.class);
                (i % 3 == 0 ? pinging : i % 3 == 1 ? silent : leaving).add(c);
            }
            // for 3 s (twice the 1.5 s deadline): pings keep two thirds open, of which one half leaves one by one,
            // which moves connections around in the loop's deadline sweep; the last third says nothing
            long end = System.nanoTime() + 3_000_000_000L;
            while (System.nanoTime() < end) {
                for (RawClient c : pinging) {
                    c.send(Pingreq.INSTANCE);
                    assertThat(c.read()).isEqualTo(Pingresp.INSTANCE);
                }
                for (RawClient c : leaving) {
                    c.send(Pingreq.INSTANCE);
                    assertThat(c.read()).isEqualTo(Pingresp.INSTANCE);
                }
                if (!leaving.isEmpty()) {
                    RawClient c = leaving.remove(leaving.size() - 1);
                    c.send(new io.ternmq.codec.Disconnect(ReasonCode.SUCCESS, MqttProperties.EMPTY));
                    c.close();
                }
                await().pollDelay(Duration.ofMillis(300)).until(() -> true);
            }
            for (RawClient c : silent) {
                c.assertClosedByServer(Duration.ofSeconds(1));
            }
            for (RawClient c : pinging) {
                c.send(Pingreq.INSTANCE);
                assertThat(c.read()).isEqualTo(Pingresp.INSTANCE);
            }
            assertThat(broker.broker().metrics().keepAliveTimeouts.sum()).isEqualTo(silent.size());
        } finally {
            pinging.forEach(RawClient::close);
            silent.forEach(RawClient::close);
            leaving.forEach(RawClient::close);
        }
    }

    @Test
    @DisplayName("a connection that sends no CONNECT within connect_timeout is closed")
    void connectTimeout() {
        try (RawClient c = new RawClient(broker.port())) {
            c.assertClosedByServer(Duration.ofSeconds(4));
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.0-1] a first packet other than CONNECT closes the connection")
    void firstPacketMustBeConnect() {
        try (RawClient c = new RawClient(broker.port())) {
            c.send(Pingreq.INSTANCE);
            c.assertClosedByServer();
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.0-2] a second CONNECT is a protocol violation and closes the connection")
    void secondConnectCloses() {
        try (RawClient c = new RawClient(broker.port())) {
            c.send(connect(MqttVersion.MQTT_3_1_1, "twice", true, 60));
            c.read(Connack.class);
            c.send(connect(MqttVersion.MQTT_3_1_1, "twice", true, 60));
            c.assertClosedByServer();
        }
    }
}
