package io.ternmq.codec;

import static io.ternmq.codec.Wire.assertMalformed;
import static io.ternmq.codec.Wire.assertSamePacket;
import static io.ternmq.codec.Wire.decode;
import static io.ternmq.codec.Wire.packet;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Fixed header, remaining length and "the fields use exactly the remaining length". */
class FixedHeaderValidationTest {
    private static final MqttVersion V311 = MqttVersion.MQTT_3_1_1;
    private static final MqttVersion V5 = MqttVersion.MQTT_5;

    @ParameterizedTest
    @EnumSource(MqttVersion.class)
    @DisplayName("packet type 0 is reserved (forbidden)")
    void typeZero(MqttVersion v) {
        assertMalformed("00 00", v, null);
        assertMalformed("0f 00", v, null);
    }

    /** Bodies are irrelevant: the first byte is refused before the body is looked at. */
    @ParameterizedTest
    @ValueSource(strings = {"11", "12", "18", "21", "41", "52", "60", "63", "6a", "74", "80", "83", "8a", "91",
            "a0", "a3", "b8", "c1", "d2", "e4"})
    @DisplayName("[MQTT-2.2.2-1] 3.1.1: reserved fixed header flags must have their listed value")
    void reservedFlags311(String firstByte) {
        assertMalformed(packet(firstByte, "0001"), V311, "MQTT-2.2.2-1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"11", "21", "41", "52", "60", "63", "6a", "74", "80", "83", "8a", "91", "a0", "a3",
            "b8", "c1", "d2", "e4", "f1", "f8"})
    @DisplayName("[MQTT-2.1.3-1] 5.0: reserved fixed header flags must have their listed value")
    void reservedFlags5(String firstByte) {
        assertMalformed(packet(firstByte, "0001"), V5, "MQTT-2.1.3-1");
    }

    @Test
    @DisplayName("[MQTT-2.2.2-1] 3.1 tolerates DUP on PUBREL/SUBSCRIBE/UNSUBSCRIBE but nothing else")
    void reservedFlags31() throws Exception {
        assertSamePacket(decode("6a 02 0001", MqttVersion.MQTT_3_1), new Pubrel(1));
        assertMalformed("68 02 0001", MqttVersion.MQTT_3_1, "MQTT-2.2.2-1");
        assertMalformed("63 02 0001", MqttVersion.MQTT_3_1, "MQTT-2.2.2-1");
        assertMalformed("41 02 0001", MqttVersion.MQTT_3_1, "MQTT-2.2.2-1");
    }

    @ParameterizedTest
    @EnumSource(MqttVersion.class)
    @DisplayName("[MQTT-3.3.1-4] PUBLISH must not have both QoS bits set")
    void publishQos3(MqttVersion v) {
        assertMalformed("36 05 0001 61 0001", v, "MQTT-3.3.1-4");
        assertMalformed("3f 05 0001 61 0001", v, "MQTT-3.3.1-4");
    }

    @ParameterizedTest
    @EnumSource(MqttVersion.class)
    @DisplayName("[MQTT-3.3.1-2] PUBLISH QoS 0 must not have DUP set")
    void publishQos0Dup(MqttVersion v) {
        assertMalformed("38 03 0001 61", v, "MQTT-3.3.1-2");
        assertMalformed("39 03 0001 61", v, "MQTT-3.3.1-2");
    }

    @ParameterizedTest
    @EnumSource(value = MqttVersion.class, names = {"MQTT_3_1", "MQTT_3_1_1"})
    @DisplayName("AUTH exists only in MQTT 5.0")
    void authBefore5(MqttVersion v) {
        assertMalformed("f0 00", v, null);
    }

    @Test
    @DisplayName("remaining length longer than 4 bytes is malformed")
    void fiveByteRemainingLength() {
        MalformedPacketException e = assertMalformed("30 ff ff ff ff 01", V311, null);
        assertThat(e.getMessage()).contains("4 bytes");
        assertMalformed("c0 80 80 80 80 00", V5, null);
    }

    @Test
    @DisplayName("[MQTT-1.5.5-1] 5.0: remaining length must use the fewest bytes")
    void nonMinimalRemainingLength() throws Exception {
        assertMalformed("c0 80 00", V5, "MQTT-1.5.5-1");
        assertMalformed("40 82 00 0001", V5, "MQTT-1.5.5-1");
        // 3.1.1 has no such rule: the same bytes are a PINGREQ
        assertSamePacket(decode("c0 80 00", V311), Pingreq.INSTANCE);
    }

    @Test
    @DisplayName("fewer bytes than the remaining length announces")
    void truncatedPacket() {
        assertMalformed("40 02 00", V311, null);
        assertMalformed("30 07 0003 612f62 68", V311, null);
    }

    @Test
    @DisplayName("bytes after the packet")
    void trailingBytes() {
        assertMalformed("c0 00 c0", V311, null);
        assertMalformed("40 02 0001 00", V311, null);
    }

    @Test
    @DisplayName("a fixed header cut short")
    void truncatedHeader() {
        assertMalformed("", V311, null);
        assertMalformed("30", V311, null);
        assertMalformed("30 80", V311, null);
    }

    @Test
    @DisplayName("a field running past the remaining length")
    void fieldPastRemainingLength() {
        assertMalformed("40 01 00", V311, null);
        assertMalformed("30 04 0005 6162", V311, null);
        assertMalformed("82 05 0001 0001 61", V311, null); // options byte missing
        assertMalformed("32 04 0001 61 00", V311, null); // half a packet identifier
    }

    @Test
    @DisplayName("fields not using the whole remaining length")
    void fieldsShorterThanRemainingLength() {
        assertMalformed("40 03 0001 00", V311, null);
        assertMalformed("c0 01 00", V311, null);
        assertMalformed("d0 01 00", V5, null);
        assertMalformed("e0 01 00", V311, null); // 3.x DISCONNECT has no reason code
        assertMalformed("20 03 00 00 00", V311, null); // 3.x CONNACK has no properties
    }

    @Test
    @DisplayName("decodeBody checks the first byte too")
    void decodeBodyChecksHeader() {
        ByteBuf body = Unpooled.wrappedBuffer(new byte[] {0, 1});
        try {
            org.junit.jupiter.api.Assertions.assertThrows(MalformedPacketException.class,
                    () -> MqttPacketDecoder.decodeBody(0x41, body, V311));
        } finally {
            body.release();
        }
    }
}
