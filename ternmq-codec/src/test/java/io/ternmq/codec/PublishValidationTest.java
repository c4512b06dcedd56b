package io.ternmq.codec;

import static io.ternmq.codec.Wire.assertMalformed;
import static io.ternmq.codec.Wire.assertProtocolError;
import static io.ternmq.codec.Wire.assertRejected;
import static io.ternmq.codec.Wire.decode;
import static io.ternmq.codec.Wire.packet;
import static io.ternmq.codec.Wire.str;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** PUBLISH rules (3.1.1 and 5.0 section 3.3). */
class PublishValidationTest {
    private static final MqttVersion V311 = MqttVersion.MQTT_3_1_1;
    private static final MqttVersion V5 = MqttVersion.MQTT_5;

    /** A 5.0 QoS 0 PUBLISH with topic "t", these properties (without length) and payload "x". */
    private static String publish5(String properties) {
        return packet("30", str("t") + ConnectValidationTest.propertyField(properties) + "78");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a/+", "+", "#", "a/#", "a+b", "sport/#/x"})
    @DisplayName("[MQTT-3.3.2-2] 3.1.1: a PUBLISH topic name with a wildcard is malformed")
    void wildcardTopic311(String topic) {
        assertMalformed(packet("30", str(topic)), V311, "MQTT-3.3.2-2");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a/+", "#"})
    @DisplayName("[MQTT-3.3.2-2] 5.0: a PUBLISH topic name with a wildcard is Topic Name Invalid (0x90)")
    void wildcardTopic5(String topic) {
        assertRejected(packet("30", str(topic) + "00"), V5, ReasonCode.TOPIC_NAME_INVALID, "MQTT-3.3.2-2");
    }

    @Test
    @DisplayName("[MQTT-4.7.3-1] 3.x: an empty PUBLISH topic name is malformed")
    void emptyTopic311() {
        assertMalformed("30 02 0000", V311, "MQTT-4.7.3-1");
        assertMalformed("32 04 0000 0001", MqttVersion.MQTT_3_1, "MQTT-4.7.3-1");
    }

    @Test
    @DisplayName("5.0: an empty topic name without a Topic Alias is a protocol error")
    void emptyTopicWithoutAlias() {
        assertProtocolError("30 03 0000 00", V5, null);
        assertProtocolError(packet("30", "0000 02 0101"), V5, null);
    }

    @Test
    @DisplayName("[MQTT-3.3.2-8] 5.0: Topic Alias 0 is Topic Alias Invalid (0x94)")
    void topicAliasZero() {
        assertRejected(publish5("23 0000"), V5, ReasonCode.TOPIC_ALIAS_INVALID, "MQTT-3.3.2-8");
    }

    @Test
    @DisplayName("5.0: Topic Alias included twice is a protocol error")
    void topicAliasTwice() {
        assertProtocolError(publish5("23 0001 23 0002"), V5, null);
    }

    @Test
    @DisplayName("5.0: several Subscription Identifiers are allowed in PUBLISH, 0 is not")
    void subscriptionIdentifiers() throws Exception {
        Publish p = (Publish) decode(publish5("0b 01 0b 02 0b 01"), V5);
        assertThat(p.properties().subscriptionIdentifiers()).containsExactly(1, 2, 1);
        assertProtocolError(publish5("0b 00"), V5, null);
    }

    @Test
    @DisplayName("[MQTT-3.3.2-14] 5.0: a Response Topic with a wildcard is a protocol error")
    void responseTopicWildcard() {
        assertProtocolError(publish5("08" + str("a/#")), V5, "MQTT-3.3.2-14");
        assertProtocolError(publish5("08" + str("+")), V5, "MQTT-3.3.2-14");
    }

    @Test
    @DisplayName("5.0: Payload Format Indicator must be 0 or 1")
    void payloadFormatIndicator() throws Exception {
        assertProtocolError(publish5("01 02"), V5, null);
        assertThat(((Publish) decode(publish5("01 00"), V5)).properties().getInt(PropertyId.PAYLOAD_FORMAT_INDICATOR))
                .isZero();
    }

    @Test
    @DisplayName("5.0: a property included twice in PUBLISH is a protocol error")
    void duplicateProperties() {
        assertProtocolError(publish5("01 01 01 01"), V5, null);
        assertProtocolError(publish5("02 00000001 02 00000001"), V5, null);
        assertProtocolError(publish5("03 0001 61 03 0001 61"), V5, null);
        assertProtocolError(publish5("08 0001 61 08 0001 61"), V5, null);
        assertProtocolError(publish5("09 0000 09 0000"), V5, null);
    }

    @Test
    @DisplayName("5.0: a property not allowed in PUBLISH is malformed")
    void propertyNotAllowed() {
        assertMalformed(publish5("1f 0001 61"), V5, null); // Reason String
        assertMalformed(publish5("11 00000001"), V5, null); // Session Expiry Interval
        assertMalformed(publish5("18 00000001"), V5, null); // Will Delay Interval
    }

    @Test
    @DisplayName("[MQTT-2.2.1-2] a QoS 0 PUBLISH has no packet identifier: the bytes belong to the payload")
    void qos0HasNoPacketId() throws Exception {
        Publish p = (Publish) decode("30 05 0001 61 0000", V311);
        assertThat(p.packetId()).isZero();
        assertThat(p.payload()).containsExactly(0, 0);
    }
}
