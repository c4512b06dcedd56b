package io.ternmq.codec;

import static io.ternmq.codec.Wire.assertMalformed;
import static io.ternmq.codec.Wire.assertSamePacket;
import static io.ternmq.codec.Wire.decode;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Packet identifiers, and the server-to-client packets a client (or test tool) decodes. */
class PacketIdAndAckValidationTest {
    private static final MqttVersion V311 = MqttVersion.MQTT_3_1_1;
    private static final MqttVersion V5 = MqttVersion.MQTT_5;

    @ParameterizedTest
    @ValueSource(strings = {"32 05 0001 61 0000", "34 05 0001 61 0000", "40 02 0000", "50 02 0000", "62 02 0000",
            "70 02 0000", "82 06 0000 0001 61 00", "90 03 0000 00", "a2 05 0000 0001 61", "b0 02 0000"})
    @DisplayName("[MQTT-2.3.1-1] 3.1.1: packet identifiers must be non-zero")
    void zeroPacketId311(String hex) {
        assertMalformed(hex, V311, "MQTT-2.3.1-1");
        assertMalformed(hex, MqttVersion.MQTT_3_1, "MQTT-2.3.1-1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"32 06 0001 61 0000 00", "40 02 0000", "50 03 0000 10", "62 02 0000", "70 02 0000",
            "82 07 0000 00 0001 61 00", "90 04 0000 00 00", "a2 06 0000 00 0001 61", "b0 04 0000 00 00"})
    @DisplayName("[MQTT-2.2.1-3] 5.0: packet identifiers must be non-zero")
    void zeroPacketId5(String hex) {
        assertMalformed(hex, V5, "MQTT-2.2.1-3");
    }

    @Test
    @DisplayName("CONNACK: reserved acknowledge flag bits must be 0 (3.1.1; [MQTT-3.2.2-1] in 5.0)")
    void connackReservedBits() {
        assertMalformed("20 02 02 00", V311, null);
        assertMalformed("20 03 80 00 00", V5, "MQTT-3.2.2-1");
    }

    @Test
    @DisplayName("CONNACK: cut short, too long, or without the 5.0 property length")
    void connackLength() {
        assertMalformed("20 01 00", V311, null);
        assertMalformed("20 03 00 00 00", V311, null);
        assertMalformed("20 02 00 00", V5, null);
    }

    @Test
    @DisplayName("[MQTT-3.9.3-2] 3.1.1: SUBACK return codes other than 0, 1, 2 and 0x80 are reserved")
    void subackReservedCode() throws Exception {
        assertMalformed("90 03 0001 03", V311, "MQTT-3.9.3-2");
        assertMalformed("90 04 0001 00 81", V311, "MQTT-3.9.3-2");
        // 5.0 has many failure codes
        assertSamePacket(decode("90 04 0001 00 a2", V5),
                new Suback(1, java.util.List.of(0xA2), MqttProperties.EMPTY));
    }

    @Test
    @DisplayName("SUBACK and 5.0 UNSUBACK carry at least one code")
    void ackWithoutCodes() {
        assertMalformed("90 02 0001", V311, null);
        assertMalformed("90 03 0001 00", V5, null);
        assertMalformed("b0 03 0001 00", V5, null);
    }

    @Test
    @DisplayName("3.x UNSUBACK has no payload")
    void unsuback311Payload() {
        assertMalformed("b0 03 0001 00", V311, null);
    }
}
