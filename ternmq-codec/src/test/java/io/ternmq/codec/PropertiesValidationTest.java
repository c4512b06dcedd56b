package io.ternmq.codec;

import static io.ternmq.codec.Wire.assertMalformed;
import static io.ternmq.codec.Wire.assertProtocolError;
import static io.ternmq.codec.Wire.decode;
import static io.ternmq.codec.Wire.packet;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** MQTT 5.0 properties in general (section 2.2.2), exercised through several packet types. */
class PropertiesValidationTest {
    private static final MqttVersion V5 = MqttVersion.MQTT_5;

    @ParameterizedTest
    @ValueSource(strings = {"00", "04", "0a", "10", "14", "1b", "1e", "20", "2b", "7f"})
    @DisplayName("an unknown property identifier is malformed")
    void unknownIdentifier(String id) {
        assertMalformed(packet("40", "0001 00 02" + id + "00"), V5, null);
    }

    @Test
    @DisplayName("a two-byte property identifier naming nothing is malformed")
    void multiByteIdentifier() {
        assertMalformed(packet("40", "0001 00 03 8101 00"), V5, null);
    }

    /** Each row: a packet (first byte, body) carrying one property that packet may not carry. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "Topic Alias in PUBACK, 40, 0001 00 03 230001",
            "Content Type in PUBREC, 50, 0001 00 04 03000161",
            "Session Expiry Interval in PUBREL, 62, 0001 00 05 1100000001",
            "Subscription Identifier in PUBCOMP, 70, 0001 00 02 0b01",
            "Reason String in SUBSCRIBE, 82, 0001 04 1f000161 000161 00",
            "Maximum QoS in SUBACK, 90, 0001 02 2401 00",
            "Response Topic in UNSUBACK, b0, 0001 04 08000161 00",
            "Topic Alias in DISCONNECT, e0, 00 03 230001",
            "Server Reference in AUTH, f0, 18 04 1c000161",
            "Will Delay Interval in CONNACK, 20, 00 00 05 1800000001",
            "Request Problem Information in CONNACK, 20, 00 00 02 1701"})
    @DisplayName("a property not allowed in the packet is malformed")
    void notAllowed(String what, String firstByte, String body) {
        assertMalformed(packet(firstByte, body), V5, null);
    }

    @Test
    @DisplayName("a property length beyond the remaining length is malformed")
    void propertyLengthTooLong() {
        assertMalformed(packet("30", "0001 74 05 0101"), V5, null);
        assertMalformed(packet("40", "0001 00 7f"), V5, null);
    }

    @Test
    @DisplayName("a property value must end inside the property length, not in the payload after it")
    void valueBoundedByPropertyLength() {
        // property length 2 holds "23 00": a Topic Alias cut short; the payload byte 01 must not complete it
        assertMalformed(packet("30", "0001 74 02 2300 01"), V5, null);
        // a string property whose length runs past the property block
        assertMalformed(packet("30", "0001 74 03 030005 6162636465"), V5, null);
    }

    @Test
    @DisplayName("[MQTT-1.5.5-1] the property length must use the fewest bytes")
    void nonMinimalPropertyLength() {
        assertMalformed(packet("40", "0001 00 8000"), V5, "MQTT-1.5.5-1");
    }

    @Test
    @DisplayName("a property included twice is a protocol error (Reason String in PUBACK)")
    void duplicate() {
        assertProtocolError(packet("40", "0001 80 08 1f000161 1f000162"), V5, null);
    }

    @Test
    @DisplayName("User Property may be included any number of times")
    void userPropertyRepeats() throws Exception {
        Puback p = (Puback) decode(packet("40", "0001 80 0e 26000161000162 26000161000162"), V5);
        assertThat(p.properties().userProperties()).hasSize(2);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "Maximum QoS 2, 2402",
            "Retain Available 2, 2502",
            "Wildcard Subscription Available 2, 2802",
            "Subscription Identifier Available 2, 2902",
            "Shared Subscription Available 2, 2a02",
            "Receive Maximum 0, 210000",
            "Maximum Packet Size 0, 2700000000",
            "Authentication Data without Method, 16000101"})
    @DisplayName("CONNACK property values the spec forbids are protocol errors")
    void connackValues(String what, String property) {
        String p = Wire.normalise(property);
        assertProtocolError(packet("20", "00 00" + String.format("%02x", p.length() / 2) + p), V5, null);
    }

    @Test
    @DisplayName("AUTH: Authentication Data without Authentication Method is a protocol error")
    void authDataWithoutMethod() {
        assertProtocolError(packet("f0", "18 04 16000101"), V5, null);
    }

    @Test
    @DisplayName("properties are read only in 5.0: in 3.1.1 the same bytes are not properties")
    void noPropertiesIn311() {
        // a 3.1.1 PUBACK is exactly 2 bytes; the 5.0 long form is malformed there
        assertMalformed("40 04 0001 00 00", MqttVersion.MQTT_3_1_1, null);
    }
}
