package io.ternmq.broker.it;

import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Pingreq;
import io.ternmq.codec.Pingresp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Raw bytes that break MQTT 3.1.1 rules. Each must close the offending connection only: a bystander connection and
 * a subscriber keep working, and the retained message stored before stays.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProtocolViolationTest {
    private TestBroker broker;
    private PahoClient subscriber;
    private PahoClient publisher;
    private RawClient bystander;
    private int round;

    @BeforeAll
    void start() {
        broker = TestBroker.start(b -> b.maxPacketSize(1024));
        subscriber = PahoClient.connect(broker, "healthy-sub", true).subscribe("health/#", 1);
        publisher = PahoClient.connect(broker, "healthy-pub", true);
        publisher.publish("health/retained", "stored", 1, true);
        subscriber.next();
        bystander = new RawClient(broker.port());
        bystander.send(ConnectTest.connect(MqttVersion.MQTT_3_1_1, "bystander", true, 0));
        bystander.read(Connack.class);
    }

    @AfterAll
    void stop() {
        bystander.close();
        subscriber.close();
        publisher.close();
        broker.close();
    }

    @AfterEach
    void othersUnaffected() {
        bystander.send(Pingreq.INSTANCE);
        assertThat(bystander.read()).isEqualTo(Pingresp.INSTANCE);
        String payload = "still-alive-" + (round++);
        publisher.publish("health/check", payload, 1, false);
        assertThat(subscriber.next().payload()).isEqualTo(payload);
        assertThat(broker.broker().router().retained().get("health/retained")).isNotNull();
    }

    private RawClient connected() {
        RawClient c = new RawClient(broker.port());
        c.send(ConnectTest.connect(MqttVersion.MQTT_3_1_1, "offender", true, 60));
        c.read(Connack.class);
        return c;
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', textBlock = """
            MQTT-2.2.3        | remaining length of five bytes                 | 30 80 80 80 80 01
            MQTT-2.2.2-2      | SUBSCRIBE with flags 0000                      | 80 06 00 01 00 01 61 00
            MQTT-3.6.1-1      | PUBREL with flags 0000                         | 60 02 00 01
            MQTT-3.10.1-1     | UNSUBSCRIBE with flags 0000                    | a0 05 00 01 00 01 61
            MQTT-2.2.2-2      | PINGREQ with a flag bit set                    | c1 00
            MQTT-3.3.1-4      | PUBLISH with QoS 3                             | 36 05 00 01 61 00 01
            MQTT-3.3.1-2      | PUBLISH QoS 0 with DUP set                     | 38 03 00 01 61
            MQTT-1.5.3-1      | topic with an invalid UTF-8 sequence           | 30 04 00 02 c3 28
            MQTT-1.5.3-1      | topic with an overlong UTF-8 encoding          | 30 04 00 02 c0 af
            MQTT-1.5.3-1      | topic with an encoded UTF-16 surrogate         | 30 05 00 03 ed a0 80
            MQTT-1.5.3-2      | topic containing U+0000                        | 30 04 00 02 61 00
            MQTT-3.3.2-2      | PUBLISH topic containing a wildcard            | 30 05 00 03 61 2f 2b
            MQTT-4.7.3-1      | PUBLISH with an empty topic                    | 30 02 00 00
            MQTT-2.3.1-1      | QoS 1 PUBLISH with packet id 0                 | 32 05 00 01 61 00 00
            MQTT-2.3.1-1      | PUBACK with packet id 0                        | 40 02 00 00
            MQTT-2.3.1-1      | SUBSCRIBE with packet id 0                     | 82 06 00 00 00 01 61 00
            MQTT-3.8.3-3      | SUBSCRIBE without any filter                   | 82 02 00 01
            MQTT-3-8.3-4      | SUBSCRIBE asking for QoS 3                     | 82 06 00 01 00 01 61 03
            MQTT-3-8.3-4      | SUBSCRIBE with reserved option bits set        | 82 06 00 01 00 01 61 04
            MQTT-4.7.1-2      | SUBSCRIBE to a/#/b                             | 82 0a 00 01 00 05 61 2f 23 2f 62 00
            MQTT-4.7.1-3      | SUBSCRIBE to a+                                | 82 07 00 01 00 02 61 2b 00
            MQTT-3.10.3-2     | UNSUBSCRIBE without any filter                 | a2 02 00 01
            MQTT-3.1.0-2      | a second CONNECT                               | 10 0e 00 04 4d 51 54 54 04 02 00 3c 00 02 63 31
            MQTT-4.8.0-1      | CONNACK sent by a client                       | 20 02 00 00
            MQTT-4.8.0-1      | SUBACK sent by a client                        | 90 03 00 01 00
            MQTT-2.2.1        | reserved packet type 0                         | 00 00
            MQTT-2.2.1        | AUTH (type 15) in MQTT 3.1.1                   | f0 00
            MQTT-2.2.3        | PUBLISH shorter than its topic length          | 30 01 00
            MQTT-2.2.3        | PINGREQ with a trailing byte                   | c0 01 00
            MQTT-2.2.3        | PUBACK with a trailing byte                    | 40 03 00 01 00
            """)
    @DisplayName("after CONNECT, a packet that breaks the rule closes the connection")
    void violationAfterConnect(String rule, String what, String hex) {
        try (RawClient c = connected()) {
            c.sendHex(hex);
            c.assertClosedByServer();
        }
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', textBlock = """
            MQTT-3.1.2-1      | unknown protocol name                          | 10 0e 00 04 4d 51 54 58 04 02 00 3c 00 02 63 31
            MQTT-3.1.2-3      | reserved connect flag set                      | 10 0e 00 04 4d 51 54 54 04 03 00 3c 00 02 63 31
            MQTT-3.1.2-13     | will QoS without the will flag                 | 10 0e 00 04 4d 51 54 54 04 0a 00 3c 00 02 63 31
            MQTT-3.1.2-15     | will retain without the will flag              | 10 0e 00 04 4d 51 54 54 04 22 00 3c 00 02 63 31
            MQTT-3.1.2-14     | will QoS 3                                     | 10 14 00 04 4d 51 54 54 04 1e 00 3c 00 02 63 31 00 01 77 00 01 78
            MQTT-3.1.2-22     | password flag without user name flag           | 10 11 00 04 4d 51 54 54 04 42 00 3c 00 02 63 31 00 01 70
            MQTT-1.5.3-1      | client id with invalid UTF-8                   | 10 0e 00 04 4d 51 54 54 04 02 00 3c 00 02 c3 28
            MQTT-3.1.3-10     | will topic with a wildcard                     | 10 14 00 04 4d 51 54 54 04 06 00 3c 00 02 63 31 00 01 23 00 01 78
            MQTT-2.2.3        | CONNECT cut short by its remaining length      | 10 0a 00 04 4d 51 54 54 04 02 00 3c
            """)
    @DisplayName("a CONNECT that breaks the rule is answered by closing, without CONNACK")
    void violationInConnect(String rule, String what, String hex) {
        try (RawClient c = new RawClient(broker.port())) {
            c.sendHex(hex);
            c.assertClosedByServer();
        }
    }

    @Test
    @DisplayName("a packet above max_packet_size closes the connection as soon as its fixed header is read")
    void oversizedPacketRejectedBeforeBuffering() {
        try (RawClient c = connected()) {
            // PUBLISH announcing 1 MiB; the body is never sent, so only an early check can close the connection
            c.sendHex("30 80 80 40");
            c.assertClosedByServer(Duration.ofSeconds(3));
        }
    }

    @Test
    @DisplayName("a packet just under max_packet_size is accepted")
    void packetAtTheLimitAccepted() {
        try (RawClient c = connected()) {
            // 1024 bytes in all: 1 type byte + 2 length bytes + 2 topic length + 1 topic byte + 1018 payload bytes
            StringBuilder hex = new StringBuilder("30 fd 07 00 01 61");
            hex.append(" 00".repeat(1018));
            c.sendHex(hex.toString());
            c.send(Pingreq.INSTANCE);
            assertThat(c.read()).isEqualTo(Pingresp.INSTANCE);
        }
    }
}
