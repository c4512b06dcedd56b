package io.ternmq.broker.it.v5;

import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Pubcomp;
import io.ternmq.codec.Publish;
import io.ternmq.codec.Pubrec;
import io.ternmq.codec.Pubrel;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Will;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import static io.ternmq.broker.testing.RawV5.props;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Payload Format Indicator 1 (UTF-8) on a payload that is not UTF-8 (3.3.2.3.2): the broker answers 0x99 in the
 * acknowledgement (QoS 1/2), the DISCONNECT (QoS 0) or the CONNACK (a will), and routes nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PayloadFormatTest {
    private static final MqttProperties UTF8 = props(PropertyId.PAYLOAD_FORMAT_INDICATOR, 1);
    private static final byte[] NOT_UTF8 = {(byte) 0xC3, 0x28};

    private TestBroker broker;
    private RawClient subscriber;
    private RawClient publisher;
    private int marker;

    @BeforeAll
    void start() {
        broker = TestBroker.start();
        subscriber = RawV5.connected(broker, "pf-sub");
        RawV5.subscribe(subscriber, "pf/#", QoS.AT_LEAST_ONCE);
    }

    @AfterAll
    void stop() {
        subscriber.close();
        broker.close();
    }

    @AfterEach
    void nothingRoutedAndOthersUnaffected() {
        // the subscriber's next message is a fresh one from another client: the refused one was not routed
        String m = "marker-" + (marker++);
        try (RawClient other = RawV5.connected(broker, "pf-marker")) {
            other.send(RawV5.publish("pf/marker", QoS.AT_LEAST_ONCE, 1, m));
            other.read(Puback.class);
        }
        Publish p = subscriber.read(Publish.class);
        assertThat(RawV5.payload(p)).isEqualTo(m);
        subscriber.send(new Puback(p.packetId()));
        if (publisher != null) {
            publisher.close();
            publisher = null;
        }
    }

    private RawClient publisher() {
        publisher = RawV5.connected(broker, "pf-pub");
        return publisher;
    }

    private static Publish invalid(QoS qos, int packetId) {
        return new Publish("pf/bad", qos, false, false, packetId, NOT_UTF8, UTF8);
    }

    @Test
    @DisplayName("(3.3.2.3.2) QoS 1 PUBLISH with Payload Format Indicator 1 and a payload that is not UTF-8: "
            + "PUBACK 0x99, "
            + "the connection stays")
    void qos1() {
        RawClient c = publisher();
        c.send(invalid(QoS.AT_LEAST_ONCE, 7));
        Puback ack = c.read(Puback.class);
        assertThat(ack.packetId()).isEqualTo(7);
        assertThat(ack.reasonCode()).isEqualTo(ReasonCode.PAYLOAD_FORMAT_INVALID);
        RawV5.assertAlive(c);
    }

    @Test
    @DisplayName("(3.3.2.3.2) QoS 2 PUBLISH with Payload Format Indicator 1 and a payload that is not UTF-8: "
            + "PUBREC 0x99, "
            + "the connection stays")
    void qos2() {
        RawClient c = publisher();
        c.send(invalid(QoS.EXACTLY_ONCE, 8));
        Pubrec rec = c.read(Pubrec.class);
        assertThat(rec.packetId()).isEqualTo(8);
        assertThat(rec.reasonCode()).isEqualTo(ReasonCode.PAYLOAD_FORMAT_INVALID);
        RawV5.assertAlive(c);
    }

    @Test
    @DisplayName("[MQTT-4.3.3-9] after PUBREC 0x99 the same packet identifier starts a new message")
    void qos2IdReusableAfterRefusal() {
        RawClient c = publisher();
        c.send(invalid(QoS.EXACTLY_ONCE, 9));
        assertThat(c.read(Pubrec.class).reasonCode()).isEqualTo(ReasonCode.PAYLOAD_FORMAT_INVALID);
        c.send(RawV5.publish("nobody/listens", QoS.EXACTLY_ONCE, 9, "valid", UTF8));
        Pubrec rec = c.read(Pubrec.class);
        assertThat(rec.packetId()).isEqualTo(9);
        assertThat(rec.reasonCode()).isEqualTo(ReasonCode.NO_MATCHING_SUBSCRIBERS);
        c.send(new Pubrel(9));
        assertThat(c.read(Pubcomp.class).reasonCode()).isEqualTo(ReasonCode.SUCCESS);
    }

    @Test
    @DisplayName("(3.3.2.3.2) QoS 0 PUBLISH with Payload Format Indicator 1 and a payload that is not UTF-8: "
            + "DISCONNECT 0x99")
    void qos0() {
        RawClient c = publisher();
        c.send(invalid(QoS.AT_MOST_ONCE, 0));
        assertThat(RawV5.disconnectReason(c)).isEqualTo(ReasonCode.PAYLOAD_FORMAT_INVALID);
    }

    @ParameterizedTest(name = "payload {0}")
    @ValueSource(strings = {"c328", "c0af", "eda080", "ff", "f4908080", "e282"})
    @DisplayName("[MQTT-1.5.4-1] every kind of ill-formed UTF-8 (bad continuation, overlong, surrogate, 0xFF, above "
            + "U+10FFFF, truncated) is refused with PUBACK 0x99")
    void illFormedKinds(String hex) {
        RawClient c = publisher();
        c.send(new Publish("pf/bad", QoS.AT_LEAST_ONCE, false, false, 3, HexFormat.of().parseHex(hex), UTF8));
        assertThat(c.read(Puback.class).reasonCode()).isEqualTo(ReasonCode.PAYLOAD_FORMAT_INVALID);
    }

    @Test
    @DisplayName("Payload Format Indicator 1 with well-formed UTF-8 is delivered")
    void validUtf8Delivered() {
        RawClient c = publisher();
        c.send(RawV5.publish("pf/good", QoS.AT_LEAST_ONCE, 4, "grüße 😀", UTF8));
        assertThat(c.read(Puback.class).reasonCode()).isEqualTo(ReasonCode.SUCCESS);
        Publish p = subscriber.read(Publish.class);
        subscriber.send(new Puback(p.packetId()));
        assertThat(RawV5.payload(p)).isEqualTo("grüße 😀");
        assertThat(p.properties().getInt(PropertyId.PAYLOAD_FORMAT_INDICATOR)).isEqualTo(1);
    }

    @Test
    @DisplayName("Payload Format Indicator 0 (unspecified bytes) with a payload that is not UTF-8 is delivered")
    void binaryDelivered() {
        RawClient c = publisher();
        c.send(new Publish("pf/bin", QoS.AT_LEAST_ONCE, false, false, 5, NOT_UTF8,
                props(PropertyId.PAYLOAD_FORMAT_INDICATOR, 0)));
        assertThat(c.read(Puback.class).reasonCode()).isEqualTo(ReasonCode.SUCCESS);
        Publish p = subscriber.read(Publish.class);
        subscriber.send(new Puback(p.packetId()));
        assertThat(p.payload()).isEqualTo(NOT_UTF8);
    }

    @Test
    @DisplayName("(3.1.3.2.3) a will with Payload Format Indicator 1 and a payload that is not UTF-8: CONNACK 0x99, "
            + "then the connection closes")
    void will() {
        Will w = new Will("pf/will", NOT_UTF8, QoS.AT_LEAST_ONCE, false, UTF8);
        try (RawClient c = RawV5.open(broker)) {
            Connack ack = RawV5.connack(c, RawV5.connect("pf-will", true, 60, MqttProperties.EMPTY, w));
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.PAYLOAD_FORMAT_INVALID);
            assertThat(ack.sessionPresent()).isFalse();
            c.assertClosedByServer();
        }
        assertThat(broker.broker().sessions().get("pf-will")).isNull();
    }

    @Test
    @DisplayName("a will with Payload Format Indicator 1 and well-formed UTF-8 is accepted")
    void validWill() {
        Will w = new Will("pf/will-ok", "bye".getBytes(StandardCharsets.UTF_8), QoS.AT_LEAST_ONCE, false, UTF8);
        try (RawClient c = RawV5.open(broker)) {
            assertThat(RawV5.connack(c, RawV5.connect("pf-will-ok", true, 60, MqttProperties.EMPTY, w)).reasonCode())
                    .isEqualTo(ReasonCode.SUCCESS);
            c.send(Disconnect.NORMAL);
            c.assertClosedByServer();
        }
    }
}
