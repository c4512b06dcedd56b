package io.ternmq.codec;

import static io.ternmq.codec.Wire.assertMalformed;
import static io.ternmq.codec.Wire.decode;
import static io.ternmq.codec.Wire.packet;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** UTF-8 encoded strings [MQTT-1.5.3-x] (3.1.1) / [MQTT-1.5.4-x] (5.0), exercised through a PUBLISH topic. */
class Utf8ValidationTest {
    private static final MqttVersion V311 = MqttVersion.MQTT_3_1_1;
    private static final MqttVersion V5 = MqttVersion.MQTT_5;

    /** A 3.1.1 QoS 0 PUBLISH whose topic is the given bytes. */
    private static String publish311(String topicHex) {
        return packet("30", String.format("%04x", topicHex.length() / 2) + topicHex);
    }

    private static String publish5(String topicHex) {
        return packet("30", String.format("%04x", topicHex.length() / 2) + topicHex + "00");
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource({
            "c0af, overlong 2-byte '/'",
            "c1bf, overlong 2-byte",
            "e080af, overlong 3-byte",
            "f08080af, overlong 4-byte",
            "eda080, encoded surrogate U+D800",
            "edbfbf, encoded surrogate U+DFFF",
            "edb080, encoded low surrogate U+DC00",
            "f4908080, past U+10FFFF",
            "f5808080, lead byte F5",
            "ff, byte FF",
            "80, stray continuation byte",
            "61bf62, stray continuation byte inside",
            "e282, truncated 3-byte sequence",
            "f09d84, truncated 4-byte sequence",
            "61c3, truncated at the end",
            "e228a1, bad continuation byte",
            "f09d2861, bad third byte"})
    @DisplayName("[MQTT-1.5.3-1] ill-formed UTF-8 is malformed")
    void illFormed311(String hex, String what) {
        assertMalformed(publish311(hex), V311, "MQTT-1.5.3-1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"c0af", "eda080", "f4908080", "e282", "80"})
    @DisplayName("[MQTT-1.5.4-1] 5.0: ill-formed UTF-8 is malformed")
    void illFormed5(String hex) {
        assertMalformed(publish5(hex), V5, "MQTT-1.5.4-1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"00", "6100", "610062", "c3a900"})
    @DisplayName("[MQTT-1.5.3-2] U+0000 is not allowed")
    void nullCharacter311(String hex) {
        assertMalformed(publish311(hex), V311, "MQTT-1.5.3-2");
    }

    @Test
    @DisplayName("[MQTT-1.5.4-2] 5.0: U+0000 is not allowed")
    void nullCharacter5() {
        assertMalformed(publish5("6100"), V5, "MQTT-1.5.4-2");
    }

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource({
            "7f, \u007f",
            "c280, \u0080",
            "dfbf, \u07ff",
            "e0a080, \u0800",
            "ed9fbf, \ud7ff",
            "ee8080, \ue000",
            "efbfbf, \uffff",
            "f0908080, \ud800\udc00",
            "f48fbfbf, \udbff\udfff"})
    @DisplayName("the boundaries of each well-formed sequence are accepted")
    void wellFormedBoundaries(String hex, String expected) throws Exception {
        assertThat(((Publish) decode(publish311(hex), V311)).topic()).isEqualTo(expected);
    }

    @Test
    @DisplayName("[MQTT-1.5.3-3] a BOM is kept wherever it appears")
    void bom() throws Exception {
        assertThat(((Publish) decode(publish311("efbbbf612fefbbbf"), V311)).topic()).isEqualTo("\uFEFFa/\uFEFF");
        assertThat(((Publish) decode(publish5("efbbbf"), V5)).topic()).isEqualTo("\uFEFF");
    }

    @Test
    @DisplayName("[MQTT-1.5.3-1] every string field is checked: client id, will topic, user name, filters")
    void otherFields() {
        // client id "a\xff"
        assertMalformed(packet("10", "0004 4d515454 04 02 003c 0002 61ff"), V311, "MQTT-1.5.3-1");
        // will topic "\xc0\xaf"
        assertMalformed(packet("10", "0004 4d515454 04 06 003c 0001 61 0002 c0af 0000"), V311, "MQTT-1.5.3-1");
        // user name with U+0000
        assertMalformed(packet("10", "0004 4d515454 04 82 003c 0001 61 0001 00"), V311, "MQTT-1.5.3-2");
        // SUBSCRIBE and UNSUBSCRIBE filters
        assertMalformed(packet("82", "0001 0001 ff 00"), V311, "MQTT-1.5.3-1");
        assertMalformed(packet("a2", "0001 0001 ff"), V311, "MQTT-1.5.3-1");
        // protocol name
        assertMalformed(packet("10", "0004 4d51ff54 04 02 003c 0000"), V311, "MQTT-1.5.3-1");
    }

    @Test
    @DisplayName("[MQTT-1.5.4-1] 5.0: string properties and user property pairs are checked")
    void propertyStrings() {
        // Content Type "\xff"
        assertMalformed(packet("30", "0001 74 04 03 0001 ff"), V5, "MQTT-1.5.4-1");
        // User Property value "\xed\xa0\x80"
        assertMalformed(packet("30", "0001 74 09 26 0001 61 0003 eda080"), V5, "MQTT-1.5.4-1");
        // User Property name with U+0000
        assertMalformed(packet("30", "0001 74 07 26 0001 00 0001 61"), V5, "MQTT-1.5.4-2");
    }

    @Test
    @DisplayName("the payload is not a string: any bytes are accepted, even with Payload Format Indicator 1")
    void payloadNotChecked() throws Exception {
        Publish p = (Publish) decode(packet("30", "0001 74 02 01 01 ff00c0af"), V5);
        assertThat(p.payload()).containsExactly(0xff, 0x00, 0xc0, 0xaf);
    }
}
