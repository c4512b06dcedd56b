package io.ternmq.codec;

import static io.ternmq.codec.Wire.assertMalformed;
import static io.ternmq.codec.Wire.assertProtocolError;
import static io.ternmq.codec.Wire.assertRejected;
import static io.ternmq.codec.Wire.decode;
import static io.ternmq.codec.Wire.packet;
import static io.ternmq.codec.Wire.reject;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** CONNECT rules (3.1.1 and 5.0 section 3.1). */
class ConnectValidationTest {
    private static final MqttVersion V311 = MqttVersion.MQTT_3_1_1;
    private static final MqttVersion V5 = MqttVersion.MQTT_5;

    /** A 3.1.1 CONNECT with these flags and payload (client id first). */
    private static String connect311(String flags, String payload) {
        return packet("10", "0004 4d515454 04" + flags + "003c" + payload);
    }

    private static String connect31(String flags, String payload) {
        return packet("10", "0006 4d5149736470 03" + flags + "003c" + payload);
    }

    /** A 5.0 CONNECT with these flags, CONNECT properties (without their length) and payload. */
    private static String connect5(String flags, String properties, String payload) {
        return packet("10", "0004 4d515454 05" + flags + "003c" + propertyField(properties) + payload);
    }

    static String propertyField(String properties) {
        String p = Wire.normalise(properties);
        return String.format("%02x", p.length() / 2) + p; // every test property block is under 128 bytes
    }

    /** client id "a", will properties (5.0), will topic "w", will payload "x" */
    private static String willPayload5(String willProperties) {
        return "0001 61" + propertyField(willProperties) + "0001 77 0001 78";
    }

    // ----- protocol name and level -----

    @ParameterizedTest
    @CsvSource({"4d515458, MQTX", "6d717474, mqtt", "4d5154, MQT"})
    @DisplayName("[MQTT-3.1.2-1] an unknown protocol name is malformed (the server may just close)")
    void unknownProtocolName(String nameHex, String name) {
        String body = String.format("%04x", nameHex.length() / 2) + nameHex + "04 02 003c 0001 61";
        MalformedPacketException e = assertMalformed(packet("10", body), V311, "MQTT-3.1.2-1");
        assertThat(e).isNotInstanceOf(UnsupportedProtocolVersionException.class);
    }

    @ParameterizedTest
    @CsvSource({"0004 4d515454, 06, MQTT", "0004 4d515454, 03, MQTT", "0004 4d515454, 00, MQTT",
            "0006 4d5149736470, 04, MQIsdp", "0006 4d5149736470, 05, MQIsdp"})
    @DisplayName("[MQTT-3.1.2-2] a known protocol name with an unsupported level is reported apart")
    void unsupportedLevel(String name, String level, String nameText) {
        // the rest of the packet is garbage on purpose: its layout depends on the unknown version
        MalformedPacketException e = assertRejected(packet("10", name + level + "ff ff ff"), V311,
                ReasonCode.UNSUPPORTED_PROTOCOL_VERSION, "MQTT-3.1.2-2");
        assertThat(e).isInstanceOfSatisfying(UnsupportedProtocolVersionException.class, u -> {
            assertThat(u.protocolName()).isEqualTo(nameText);
            assertThat(u.protocolLevel()).isEqualTo(Integer.parseInt(level, 16));
        });
    }

    // ----- connect flags -----

    @Test
    @DisplayName("[MQTT-3.1.2-3] the reserved connect flag must be 0")
    void reservedFlag() {
        assertMalformed(connect311("03", "0001 61"), V311, "MQTT-3.1.2-3");
        assertMalformed(connect31("01", "0001 61"), MqttVersion.MQTT_3_1, "MQTT-3.1.2-3");
        assertMalformed(connect5("03", "", "0001 61"), V5, "MQTT-3.1.2-3");
    }

    @Test
    @DisplayName("[MQTT-3.1.2-13] 3.1.1: without will flag, Will QoS must be 0")
    void willQosWithoutWill311() {
        assertMalformed(connect311("0a", "0001 61"), V311, "MQTT-3.1.2-13");
        assertMalformed(connect311("12", "0001 61"), V311, "MQTT-3.1.2-13");
    }

    @Test
    @DisplayName("[MQTT-3.1.2-11] 5.0: without will flag, Will QoS must be 0")
    void willQosWithoutWill5() {
        assertMalformed(connect5("0a", "", "0001 61"), V5, "MQTT-3.1.2-11");
    }

    @Test
    @DisplayName("[MQTT-3.1.2-15] 3.1.1: without will flag, Will Retain must be 0")
    void willRetainWithoutWill311() {
        assertMalformed(connect311("22", "0001 61"), V311, "MQTT-3.1.2-15");
    }

    @Test
    @DisplayName("[MQTT-3.1.2-13] 5.0: without will flag, Will Retain must be 0")
    void willRetainWithoutWill5() {
        assertMalformed(connect5("22", "", "0001 61"), V5, "MQTT-3.1.2-13");
    }

    @Test
    @DisplayName("[MQTT-3.1.2-14] 3.1.1: Will QoS 3 is malformed")
    void willQos3_311() {
        assertMalformed(connect311("1e", "0001 61 0001 77 0001 78"), V311, "MQTT-3.1.2-14");
    }

    @Test
    @DisplayName("[MQTT-3.1.2-12] 5.0: Will QoS 3 is malformed")
    void willQos3_5() {
        assertMalformed(connect5("1e", "", willPayload5("")), V5, "MQTT-3.1.2-12");
    }

    @Test
    @DisplayName("[MQTT-3.1.2-22] 3.x: password flag without user name flag is malformed")
    void passwordWithoutUsername() throws Exception {
        assertMalformed(connect311("42", "0001 61 0001 70"), V311, "MQTT-3.1.2-22");
        assertMalformed(connect31("42", "0001 61 0001 70"), MqttVersion.MQTT_3_1, "MQTT-3.1.2-22");
        // 5.0 allows it
        Connect c = (Connect) decode(connect5("42", "", "0001 61 0001 70"), V5);
        assertThat(c.username()).isNull();
        assertThat(c.password()).containsExactly('p');
    }

    @Test
    @DisplayName("a flagged field missing from the payload is malformed")
    void missingPayloadFields() {
        assertMalformed(connect311("82", "0001 61"), V311, null); // user name
        assertMalformed(connect311("c2", "0001 61 0001 75"), V311, null); // password
        assertMalformed(connect311("06", "0001 61 0001 77"), V311, null); // will payload
        assertMalformed(connect311("02", ""), V311, null); // client id
    }

    // ----- will topic -----

    @Test
    @DisplayName("[MQTT-4.7.1-1] a will topic is a topic name: no wildcards")
    void willTopicWildcard() {
        assertMalformed(connect311("06", "0001 61 0003 612f23 0000"), V311, "MQTT-4.7.1-1");
        assertMalformed(connect311("06", "0001 61 0001 2b 0000"), V311, "MQTT-4.7.1-1");
        assertRejected(connect5("06", "", "0001 61 00 0001 23 0000"), V5, ReasonCode.TOPIC_NAME_INVALID,
                "MQTT-4.7.1-1");
    }

    @Test
    @DisplayName("[MQTT-4.7.3-1] a will topic is at least one character long")
    void willTopicEmpty() {
        assertMalformed(connect311("06", "0001 61 0000 0000"), V311, "MQTT-4.7.3-1");
    }

    // ----- 5.0 properties -----

    @Test
    @DisplayName("5.0: Receive Maximum 0 is a protocol error")
    void receiveMaximumZero() {
        assertProtocolError(connect5("02", "21 0000", "0001 61"), V5, null);
    }

    @Test
    @DisplayName("5.0: Maximum Packet Size 0 is a protocol error")
    void maximumPacketSizeZero() {
        assertProtocolError(connect5("02", "27 00000000", "0001 61"), V5, null);
    }

    @Test
    @DisplayName("5.0: Request Problem Information and Request Response Information must be 0 or 1")
    void requestFlags() {
        assertProtocolError(connect5("02", "17 02", "0001 61"), V5, null);
        assertProtocolError(connect5("02", "19 02", "0001 61"), V5, null);
    }

    @Test
    @DisplayName("5.0: a CONNECT property included twice is a protocol error")
    void duplicateProperty() {
        assertProtocolError(connect5("02", "11 00000001 11 00000002", "0001 61"), V5, null);
        assertProtocolError(connect5("02", "15 0001 6d 15 0001 6d", "0001 61"), V5, null);
    }

    @Test
    @DisplayName("5.0: Authentication Data without Authentication Method is a protocol error")
    void authDataWithoutMethod() {
        assertProtocolError(connect5("02", "16 0001 01", "0001 61"), V5, null);
    }

    @Test
    @DisplayName("5.0: a property not allowed in CONNECT is malformed")
    void propertyNotAllowed() {
        assertMalformed(connect5("02", "23 0001", "0001 61"), V5, null); // Topic Alias
        assertMalformed(connect5("02", "18 00000001", "0001 61"), V5, null); // Will Delay Interval
        assertMalformed(connect5("02", "12 0001 61", "0001 61"), V5, null); // Assigned Client Identifier
    }

    @Test
    @DisplayName("5.0: will properties have their own allowed set and rules")
    void willProperties() throws Exception {
        assertMalformed(connect5("06", "", willPayload5("11 00000001")), V5, null); // Session Expiry Interval
        assertMalformed(connect5("06", "", willPayload5("23 0001")), V5, null); // Topic Alias
        assertProtocolError(connect5("06", "", willPayload5("01 02")), V5, null); // Payload Format Indicator 2
        assertProtocolError(connect5("06", "", willPayload5("18 00000001 18 00000002")), V5, null);
        assertProtocolError(connect5("06", "", willPayload5("08 0003 612f2b")), V5, null); // Response Topic a/+
        Connect c = (Connect) decode(connect5("06", "", willPayload5("18 00000005 09 0001 01")), V5);
        assertThat(c.will().properties().getLong(PropertyId.WILL_DELAY_INTERVAL)).isEqualTo(5L);
    }

    @Test
    @DisplayName("5.0: will properties must be present when the will flag is set")
    void willPropertiesMissing() {
        // will flag, but the payload ends after the client id
        assertMalformed(connect5("06", "", "0001 61"), V5, null);
    }

    @Test
    @DisplayName("a CONNECT that fails after naming 5.0 reports rules in 5.0 numbering")
    void versionOfFailure() {
        MalformedPacketException e = reject(connect5("0a", "", "0001 61"), V311);
        assertThat(e.rule()).isEqualTo("MQTT-3.1.2-11");
    }
}
