package io.ternmq.broker.it.v5;

import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttPacketEncoder;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Pubcomp;
import io.ternmq.codec.Publish;
import io.ternmq.codec.Pubrec;
import io.ternmq.codec.Pubrel;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Reason codes the broker sends: in acknowledgements, in its own DISCONNECTs (takeover, keep alive, shutdown, malformed
 * packets, protocol errors, packet too large), and never a DISCONNECT before CONNACK (max_packet_size 1024 here).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReasonCodeTest {
    private TestBroker broker;
    private RawClient bystander;

    @BeforeAll
    void start() {
        broker = TestBroker.start(b -> b.maxPacketSize(1024));
        bystander = RawV5.connected(broker, "rc-bystander");
        RawV5.subscribe(bystander, "rc/#", QoS.AT_MOST_ONCE);
    }

    @AfterAll
    void stop() {
        bystander.close();
        broker.close();
    }

    @AfterEach
    void bystanderUnaffected() {
        RawV5.assertAlive(bystander);
    }

    // ------------------------------------------------------------------ acknowledgements

    @Test
    @DisplayName("(3.4.2.1) PUBACK 0x10 (No matching subscribers) when nobody subscribed; 0x00 when somebody did")
    void pubackNoMatchingSubscribers() {
        try (RawClient c = RawV5.connected(broker, "rc-pub1")) {
            c.send(RawV5.publish("nobody/listens", QoS.AT_LEAST_ONCE, 1, "x"));
            assertThat(c.read(Puback.class).reasonCode()).isEqualTo(ReasonCode.NO_MATCHING_SUBSCRIBERS);
            c.send(RawV5.publish("rc/listened", QoS.AT_LEAST_ONCE, 2, "x"));
            assertThat(c.read(Puback.class).reasonCode()).isEqualTo(ReasonCode.SUCCESS);
        }
        bystander.read(Publish.class);
    }

    @Test
    @DisplayName("(3.5.2.1) PUBREC 0x10 (No matching subscribers) when nobody subscribed, and the flow completes")
    void pubrecNoMatchingSubscribers() {
        try (RawClient c = RawV5.connected(broker, "rc-pub2")) {
            c.send(RawV5.publish("nobody/listens", QoS.EXACTLY_ONCE, 1, "x"));
            assertThat(c.read(Pubrec.class).reasonCode()).isEqualTo(ReasonCode.NO_MATCHING_SUBSCRIBERS);
            c.send(new Pubrel(1));
            assertThat(c.read(Pubcomp.class).reasonCode()).isEqualTo(ReasonCode.SUCCESS);
        }
    }

    @Test
    @DisplayName("(3.7.2.1) PUBREL for an unknown packet identifier: PUBCOMP 0x92 (Packet Identifier not found)")
    void pubcompPacketIdNotFound() {
        try (RawClient c = RawV5.connected(broker, "rc-pubrel")) {
            c.send(new Pubrel(42));
            Pubcomp comp = c.read(Pubcomp.class);
            assertThat(comp.packetId()).isEqualTo(42);
            assertThat(comp.reasonCode()).isEqualTo(ReasonCode.PACKET_IDENTIFIER_NOT_FOUND);
        }
    }

    @Test
    @DisplayName("(3.6.2.1) PUBREC for an unknown packet identifier: PUBREL 0x92 (Packet Identifier not found)")
    void pubrelPacketIdNotFound() {
        try (RawClient c = RawV5.connected(broker, "rc-pubrec")) {
            c.send(new Pubrec(43));
            Pubrel rel = c.read(Pubrel.class);
            assertThat(rel.packetId()).isEqualTo(43);
            assertThat(rel.reasonCode()).isEqualTo(ReasonCode.PACKET_IDENTIFIER_NOT_FOUND);
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-29] with Request Problem Information 0 a PUBACK 0x99 carries no Reason String")
    void noReasonStringWithoutProblemInformation() {
        try (RawClient c = RawV5.connected(broker, RawV5.connect("rc-quiet", true, 60,
                RawV5.props(PropertyId.REQUEST_PROBLEM_INFORMATION, 0)))) {
            c.send(new Publish("rc/bad", QoS.AT_LEAST_ONCE, false, false, 1, new byte[] {(byte) 0xC3, 0x28},
                    RawV5.props(PropertyId.PAYLOAD_FORMAT_INDICATOR, 1)));
            Puback ack = c.read(Puback.class);
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.PAYLOAD_FORMAT_INVALID);
            assertThat(ack.properties().contains(PropertyId.REASON_STRING)).isFalse();
            assertThat(ack.properties().userProperties()).isEmpty();
        }
    }

    @Test
    @DisplayName("[MQTT-3.14.2-3] the broker's DISCONNECT drops its Reason String rather than exceed the client's "
            + "Maximum Packet Size (32)")
    void disconnectFitsClientMaximumPacketSize() {
        try (RawClient c = RawV5.connected(broker, RawV5.connect("rc-tiny", true, 60,
                RawV5.props(PropertyId.MAXIMUM_PACKET_SIZE, 32L)))) {
            c.sendHex("d0 00"); // PINGRESP from a client: protocol error
            MqttPacket p = c.read();
            assertThat(p).isInstanceOf(Disconnect.class);
            assertThat(((Disconnect) p).reasonCode()).isEqualTo(ReasonCode.PROTOCOL_ERROR);
            assertThat(MqttPacketEncoder.encodedSize(p, MqttVersion.MQTT_5)).isLessThanOrEqualTo(32);
            c.assertClosedByServer();
        }
    }

    // ------------------------------------------------------------------ the broker's DISCONNECTs

    @Test
    @DisplayName("[MQTT-3.1.4-3] takeover: the old connection gets DISCONNECT 0x8E, the new one is accepted")
    void sessionTakenOver() {
        try (RawClient old = RawV5.connected(broker, "rc-twin"); RawClient fresh = RawV5.open(broker)) {
            assertThat(RawV5.connack(fresh, RawV5.connect("rc-twin")).reasonCode()).isEqualTo(ReasonCode.SUCCESS);
            assertThat(RawV5.disconnectReason(old)).isEqualTo(ReasonCode.SESSION_TAKEN_OVER);
            RawV5.assertAlive(fresh);
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.4-3] Paho v5 taken over is told 0x8E")
    void sessionTakenOverPaho() {
        try (Paho5Client old = Paho5Client.connect(broker, "rc-paho-twin");
             Paho5Client fresh = Paho5Client.connect(broker, "rc-paho-twin")) {
            assertThat(fresh.isConnected()).isTrue();
            await().atMost(Duration.ofSeconds(5)).until(() -> old.disconnected() != null);
            assertThat(old.disconnected().getReturnCode()).isEqualTo(ReasonCode.SESSION_TAKEN_OVER);
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-22] keep alive timeout: silence for 1.5 x 1 s gets DISCONNECT 0x8D")
    void keepAliveTimeout() {
        try (RawClient c = RawV5.open(broker)) {
            RawV5.connack(c, RawV5.connect("rc-sleepy", true, 1, MqttProperties.EMPTY));
            long t0 = System.nanoTime();
            assertThat(RawV5.disconnectReason(c)).isEqualTo(ReasonCode.KEEP_ALIVE_TIMEOUT);
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(1000))
                    .isLessThan(Duration.ofSeconds(4));
        }
    }

    @Test
    @DisplayName("(4.13) broker shutdown: a connected MQTT 5 client gets DISCONNECT 0x8B; a 3.1.1 client is "
            + "just closed")
    void serverShuttingDown() {
        TestBroker stopping = TestBroker.start();
        try (RawClient v5 = RawV5.connected(stopping, "rc-v5");
             RawClient v3 = new RawClient(stopping.port())) {
            v3.send(new Connect(MqttVersion.MQTT_3_1_1, "rc-v3", true, 60, null, null, null, MqttProperties.EMPTY));
            v3.read(Connack.class);
            stopping.close();
            assertThat(RawV5.disconnectReason(v5)).isEqualTo(ReasonCode.SERVER_SHUTTING_DOWN);
            v3.assertClosedByServer();
        }
    }

    @Test
    @DisplayName("(4.13) broker shutdown: Paho v5 is told 0x8B")
    void serverShuttingDownPaho() {
        TestBroker stopping = TestBroker.start();
        try (Paho5Client c = Paho5Client.connect(stopping, "rc-paho-stop")) {
            stopping.close();
            await().atMost(Duration.ofSeconds(5)).until(() -> c.disconnected() != null);
            assertThat(c.disconnected().getReturnCode()).isEqualTo(ReasonCode.SERVER_SHUTTING_DOWN);
        }
    }

    @ParameterizedTest(name = "{0}: {1} -> 0x{2}")
    @CsvSource(delimiter = '|', textBlock = """
            MQTT-3.3.1-4      | PUBLISH with QoS 3                          | 81 | 36 06 00 01 61 00 01 00
            MQTT-3.3.1-2      | PUBLISH QoS 0 with DUP set                  | 81 | 38 04 00 01 61 00
            MQTT-2.2.1-3      | QoS 1 PUBLISH with packet id 0              | 81 | 32 06 00 01 61 00 00 00
            MQTT-1.5.4-1      | PUBLISH topic that is not UTF-8             | 81 | 30 05 00 02 c3 28 00
            MQTT-3.6.1-1      | PUBREL with flags 0000                      | 81 | 60 02 00 01
            MQTT-3.10.1-1     | UNSUBSCRIBE with flags 0000                 | 81 | a0 06 00 01 00 00 01 61
            MQTT-3.14.1-1     | DISCONNECT with a flag bit set              | 81 | e1 00
            MQTT-1.5.5-1      | remaining length not in the fewest bytes    | 81 | c0 80 00
            MQTT-2.2.3        | PINGREQ with a trailing byte                | 81 | c0 01 00
            MQTT-2.1          | reserved packet type 0                      | 81 | 00 00
            MQTT-3.8.3-5      | SUBSCRIBE options with reserved bits        | 81 | 82 07 00 01 00 00 01 61 c0
            MQTT-3.8.3-2      | SUBSCRIBE without a topic filter            | 81 | 82 03 00 01 00
            MQTT-3.3.2-2      | PUBLISH topic with a wildcard (0x90)        | 90 | 30 06 00 03 61 2f 2b 00
            MQTT-3.1.0-2      | a second CONNECT                            | 82 | 10 0f 00 04 4d 51 54 54 05 02 00 3c 00 00 02 63 31
            MQTT-3.8.3-4      | No Local on a shared subscription           | 82 | 82 10 00 01 00 00 0a 24 73 68 61 72 65 2f 67 2f 61 04
            3.8.3.1           | SUBSCRIBE with Retain Handling 3            | 82 | 82 07 00 01 00 00 01 61 30
            3.8.3.1           | SUBSCRIBE with Maximum QoS 3                | 82 | 82 07 00 01 00 00 01 61 03
            MQTT-4.12.0-7     | AUTH without an Authentication Method       | 82 | f0 00
            3.2               | CONNACK sent by a client                    | 82 | 20 03 00 00 00
            3.13              | PINGRESP sent by a client                   | 82 | d0 00
            """)
    @DisplayName("after CONNACK a malformed packet gets DISCONNECT 0x81, a protocol error 0x82, and only that "
            + "connection closes")
    void malformedOrProtocolError(String rule, String what, String code, String hex) {
        try (RawClient c = RawV5.connected(broker, "rc-offender")) {
            c.sendHex(hex);
            assertThat(RawV5.disconnectReason(c)).as(rule + ": " + what).isEqualTo(Integer.parseInt(code, 16));
        }
    }

    @Test
    @DisplayName("(3.2.2.3.6) a packet above the broker's Maximum Packet Size (1024) after CONNACK: DISCONNECT 0x95")
    void packetTooLarge() {
        try (RawClient c = RawV5.open(broker)) {
            Connack ack = RawV5.connack(c, RawV5.connect("rc-big"));
            assertThat(ack.properties().getLong(PropertyId.MAXIMUM_PACKET_SIZE)).isEqualTo(1024L);
            c.sendHex("30 80 80 40"); // a PUBLISH announcing 1 MiB; its body never comes
            assertThat(RawV5.disconnectReason(c)).isEqualTo(ReasonCode.PACKET_TOO_LARGE);
        }
    }

    @Test
    @DisplayName("a packet of exactly the broker's Maximum Packet Size (1024) is accepted")
    void packetAtLimit() {
        try (RawClient c = RawV5.connected(broker, "rc-limit")) {
            // 1 type byte + 2 length bytes + 2 + 4 topic ("rc/x") + 1 property length + 1014 payload bytes = 1024
            c.sendHex("30 fd 07 00 04 72 63 2f 78 00" + " 41".repeat(1014));
            Publish p = bystander.read(Publish.class);
            assertThat(p.payload()).hasSize(1014);
            RawV5.assertAlive(c);
        }
    }

    // ------------------------------------------------------------------ before CONNACK: never a DISCONNECT

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', textBlock = """
            MQTT-3.1.2-3      | reserved connect flag set                   | 10 0f 00 04 4d 51 54 54 05 03 00 3c 00 00 02 63 31
            3.1.2.11          | Session Expiry Interval twice               | 10 19 00 04 4d 51 54 54 05 02 00 3c 0a 11 00 00 00 0a 11 00 00 00 0a 00 02 63 31
            3.1.2.11.3        | Receive Maximum 0                           | 10 12 00 04 4d 51 54 54 05 02 00 3c 03 21 00 00 00 02 63 31
            2.2.2.2           | Topic Alias in CONNECT                      | 10 12 00 04 4d 51 54 54 05 02 00 3c 03 23 00 01 00 02 63 31
            MQTT-3.1.2-12     | will QoS 3                                  | 10 16 00 04 4d 51 54 54 05 1e 00 3c 00 00 02 63 31 00 00 01 77 00 01 78
            MQTT-1.5.5-1      | property length not in the fewest bytes     | 10 10 00 04 4d 51 54 54 05 02 00 3c 80 00 00 02 63 31
            MQTT-1.5.4-1      | client id that is not UTF-8                 | 10 0f 00 04 4d 51 54 54 05 02 00 3c 00 00 02 c3 28
            3.2.2.3.6         | CONNECT larger than max_packet_size         | 10 80 10 00 04 4d 51 54 54 05 02 00 3c
            """)
    @DisplayName("[MQTT-3.14.0-1] a broken 5.0 CONNECT gets a CONNACK with a reason code >= 0x80 (or just a close), "
            + "never a DISCONNECT")
    void noDisconnectBeforeConnack(String rule, String what, String hex) {
        try (RawClient c = RawV5.open(broker)) {
            c.sendHex(hex);
            List<MqttPacket> got = RawV5.readUntilClosed(c);
            assertThat(got).as(rule + ": " + what).allSatisfy(p -> assertThat(p).isInstanceOf(Connack.class));
            assertThat(got).hasSizeLessThanOrEqualTo(1);
            if (!got.isEmpty()) {
                Connack ack = (Connack) got.get(0);
                assertThat(ack.reasonCode()).isGreaterThanOrEqualTo(0x80);
                assertThat(ack.sessionPresent()).as("[MQTT-3.2.2-6]").isFalse();
            }
        }
    }

    @Test
    @DisplayName("[MQTT-3.14.0-1] a broken 5.0 CONNECT gets CONNACK with the decoder's reason (duplicate property: "
            + "0x82)")
    void connackCarriesReason() {
        try (RawClient c = RawV5.open(broker)) {
            c.sendHex("10 19 00 04 4d 51 54 54 05 02 00 3c 0a 11 00 00 00 0a 11 00 00 00 0a 00 02 63 31");
            List<MqttPacket> got = RawV5.readUntilClosed(c);
            assertThat(got).hasSize(1);
            assertThat(((Connack) got.get(0)).reasonCode()).isEqualTo(ReasonCode.PROTOCOL_ERROR);
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.0-1][MQTT-3.14.0-1] a first packet other than CONNECT closes the connection without any "
            + "packet")
    void firstPacketNotConnect() {
        try (RawClient c = RawV5.open(broker)) {
            c.sendHex("c0 00");
            assertThat(RawV5.readUntilClosed(c)).isEmpty();
        }
    }

    @Test
    @DisplayName("[MQTT-3.14.0-1] CONNECT followed at once by a malformed packet: a DISCONNECT, if any, comes only "
            + "after a successful CONNACK")
    void pipelinedMalformedPacket() {
        try (RawClient c = RawV5.open(broker)) {
            c.sendHex("10 0f 00 04 4d 51 54 54 05 02 00 3c 00 00 02 63 32" + " 36 06 00 01 61 00 01 00");
            List<MqttPacket> got = RawV5.readUntilClosed(c);
            for (int i = 0; i < got.size(); i++) {
                if (got.get(i) instanceof Disconnect d) {
                    assertThat(d.reasonCode()).isEqualTo(ReasonCode.MALFORMED_PACKET);
                    assertThat(got.subList(0, i)).anySatisfy(p -> {
                        assertThat(p).isInstanceOf(Connack.class);
                        assertThat(((Connack) p).reasonCode()).isLessThan(0x80);
                    });
                }
            }
        }
    }
}
