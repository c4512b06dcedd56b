package io.ternmq.broker.it.v5;

import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Publish;
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

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Broken MQTT 5.0 properties (2.2.2.2) sent after CONNACK: a property included twice is a Protocol Error (0x82), an
 * identifier not valid for the packet or a broken variable byte integer makes a Malformed Packet (0x81). The broker
 * says so in a DISCONNECT and closes only that connection.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MalformedPropertiesTest {
    private TestBroker broker;
    private RawClient subscriber;
    private RawClient publisher;
    private int round;

    @BeforeAll
    void start() {
        broker = TestBroker.start();
        subscriber = RawV5.connected(broker, "mp-sub");
        RawV5.subscribe(subscriber, "health/#", QoS.AT_LEAST_ONCE);
        publisher = RawV5.connected(broker, "mp-pub");
    }

    @AfterAll
    void stop() {
        subscriber.close();
        publisher.close();
        broker.close();
    }

    @AfterEach
    void bystandersUnaffected() {
        String payload = "still-alive-" + (++round);
        publisher.send(RawV5.publish("health/check", QoS.AT_LEAST_ONCE, round, payload));
        assertThat(publisher.read(Puback.class).reasonCode()).isEqualTo(ReasonCode.SUCCESS);
        Publish p = subscriber.read(Publish.class);
        assertThat(RawV5.payload(p)).isEqualTo(payload);
        subscriber.send(new Puback(p.packetId()));
    }

    private static void expectDisconnect(TestBroker broker, String hex, int reasonCode, String why) {
        try (RawClient c = RawV5.connected(broker, "mp-offender")) {
            c.sendHex(hex);
            assertThat(RawV5.disconnectReason(c)).as(why).isEqualTo(reasonCode);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            PUBLISH with Payload Format Indicator twice          | 30 09 00 01 61 04 01 01 01 01 78
            PUBLISH with Content Type twice                      | 30 0d 00 01 61 08 03 00 01 61 03 00 01 62 78
            PUBLISH with Message Expiry Interval twice           | 30 0f 00 01 61 0a 02 00 00 00 0a 02 00 00 00 0a 78
            PUBLISH with Topic Alias twice                       | 30 0b 00 01 61 06 23 00 01 23 00 01 78
            PUBLISH with Response Topic twice                    | 30 0d 00 01 61 08 08 00 01 72 08 00 01 73 78
            PUBLISH with Correlation Data twice                  | 30 0c 00 01 61 07 09 00 01 01 09 00 00 78
            SUBSCRIBE with Subscription Identifier twice         | 82 0b 00 01 04 0b 01 0b 02 00 01 61 00
            PUBACK with Reason String twice                      | 40 0c 00 01 00 08 1f 00 01 61 1f 00 01 62
            DISCONNECT with Session Expiry Interval twice        | e0 0c 00 0a 11 00 00 00 00 11 00 00 00 00
            """)
    @DisplayName("(2.2.2.2) a property included more than once: DISCONNECT 0x82 (Protocol Error)")
    void duplicated(String what, String hex) {
        expectDisconnect(broker, hex, ReasonCode.PROTOCOL_ERROR, what);
    }

    @Test
    @DisplayName("[MQTT-3.3.2-17] User Property is the exception: repeated in a PUBLISH, it is accepted")
    void repeatedUserPropertyAccepted() {
        try (RawClient c = RawV5.connected(broker, "mp-user")) {
            // two User Properties a=b, a=b
            c.sendHex("32 15 00 01 61 00 01 0e 26 00 01 61 00 01 62 26 00 01 61 00 01 62 78");
            assertThat(c.read(Puback.class).packetId()).isEqualTo(1);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            PUBLISH with Session Expiry Interval                 | 30 0a 00 01 61 05 11 00 00 00 0a 78
            PUBLISH with Receive Maximum                         | 30 08 00 01 61 03 21 00 05 78
            PUBLISH with Assigned Client Identifier              | 30 09 00 01 61 04 12 00 01 78 78
            PUBLISH with Will Delay Interval                     | 30 0a 00 01 61 05 18 00 00 00 01 78
            PUBLISH with an unknown property identifier 0x7F     | 30 07 00 01 61 02 7f 00 78
            SUBSCRIBE with Message Expiry Interval               | 82 0c 00 01 05 02 00 00 00 0a 00 01 61 00
            UNSUBSCRIBE with Subscription Identifier             | a2 08 00 01 02 0b 01 00 01 61
            PUBACK with Topic Alias                              | 40 07 00 01 00 03 23 00 01
            PUBREL with Content Type                             | 62 09 00 01 00 05 03 00 02 61 62
            DISCONNECT with Will Delay Interval                  | e0 07 00 05 18 00 00 00 01
            """)
    @DisplayName("(2.2.2.2) a property not valid for the packet type: DISCONNECT 0x81 (Malformed Packet)")
    void notAllowedHere(String what, String hex) {
        expectDisconnect(broker, hex, ReasonCode.MALFORMED_PACKET, what);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            MQTT-1.5.5-1 property length 0 in two bytes                    | 30 06 00 01 61 80 00 78
            MQTT-1.5.5-1 Subscription Identifier 1 in two bytes            | 82 0a 00 01 03 0b 81 00 00 01 61 00
            1.5.5 property length of five bytes                            | 30 09 00 01 61 ff ff ff ff 7f 78
            1.5.5 Subscription Identifier of five bytes                    | 82 0d 00 01 06 0b ff ff ff ff 7f 00 01 61 00
            2.2.2.1 property length beyond the end of the packet           | 30 06 00 01 61 10 01 01
            2.2.2.2 Message Expiry Interval cut short by the property length | 30 08 00 01 61 03 02 00 00 78
            """)
    @DisplayName("(1.5.5) a broken variable byte integer or property length: DISCONNECT 0x81 (Malformed Packet)")
    void badVariableByteInteger(String what, String hex) {
        expectDisconnect(broker, hex, ReasonCode.MALFORMED_PACKET, what);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            3.8.2.1.2 Subscription Identifier 0                  | 82 09 00 01 02 0b 00 00 01 61 00
            3.3.2.3.2 Payload Format Indicator 2                 | 30 07 00 01 61 02 01 02 78
            MQTT-3.3.2-14 Response Topic with a wildcard         | 30 0a 00 01 61 05 08 00 02 61 23 78
            """)
    @DisplayName("a property value the standard forbids: DISCONNECT 0x82 (Protocol Error)")
    void forbiddenValue(String what, String hex) {
        expectDisconnect(broker, hex, ReasonCode.PROTOCOL_ERROR, what);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            will property Topic Alias (not a will property)      | 81 | 10 19 00 04 4d 51 54 54 05 06 00 3c 00 00 02 63 31 03 23 00 01 00 01 77 00 01 78
            will property Content Type twice                     | 82 | 10 1e 00 04 4d 51 54 54 05 06 00 3c 00 00 02 63 31 08 03 00 01 61 03 00 01 62 00 01 77 00 01 78
            """)
    @DisplayName("broken will properties in CONNECT: CONNACK with the reason (or a close), never a DISCONNECT")
    void brokenWillProperties(String what, String code, String hex) {
        try (RawClient c = RawV5.open(broker)) {
            c.sendHex(hex);
            List<MqttPacket> got = RawV5.readUntilClosed(c);
            assertThat(got).as(what).hasSizeLessThanOrEqualTo(1);
            if (!got.isEmpty()) {
                assertThat(got.get(0)).isInstanceOf(Connack.class);
                assertThat(((Connack) got.get(0)).reasonCode()).isEqualTo(Integer.parseInt(code, 16));
            }
        }
    }
}
