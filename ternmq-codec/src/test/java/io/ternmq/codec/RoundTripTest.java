package io.ternmq.codec;

import static io.ternmq.codec.QoS.AT_LEAST_ONCE;
import static io.ternmq.codec.QoS.AT_MOST_ONCE;
import static io.ternmq.codec.QoS.EXACTLY_ONCE;
import static io.ternmq.codec.Wire.ascii;
import static io.ternmq.codec.Wire.assertSamePacket;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;

/** encode → decode gives back the packet, for every packet type in every version; varint boundaries. */
class RoundTripTest {

    private static MqttPacket roundTrip(MqttPacket packet, MqttVersion version) throws MalformedPacketException {
        ByteBuf buf = MqttPacketEncoder.encode(PooledByteBufAllocator.DEFAULT, packet, version);
        try {
            assertThat(buf.readableBytes()).isEqualTo(MqttPacketEncoder.encodedSize(packet, version));
            return MqttPacketDecoder.decode(buf, version);
        } finally {
            buf.release();
        }
    }

    /** Packets whose every field survives a round trip in 3.x (no reason codes, no properties). */
    private static List<MqttPacket> packets3(MqttVersion v) {
        Will will = new Will("will/topic", ascii("gone"), EXACTLY_ONCE, true, MqttProperties.EMPTY);
        return List.of(
                new Connect(v, "client-1", false, 65_535, "user", ascii("secret"), will, MqttProperties.EMPTY),
                new Connect(v, "c", true, 0, null, null, null, MqttProperties.EMPTY),
                new Connack(false, 3),
                new Publish("a/b/c", AT_MOST_ONCE, true, 0, new byte[0]),
                new Publish("ü/€", AT_LEAST_ONCE, false, true, 65_535, new byte[1000], MqttProperties.EMPTY),
                new Publish("$SYS/x", EXACTLY_ONCE, false, 1, ascii("p")),
                new Puback(1), new Pubrec(2), new Pubrel(3), new Pubcomp(4),
                new Subscribe(5, List.of(new TopicSubscription("a/+/#", EXACTLY_ONCE),
                        new TopicSubscription("+", AT_MOST_ONCE)), MqttProperties.EMPTY),
                new Suback(5, List.of(2, 0, 0x80), MqttProperties.EMPTY),
                new Unsubscribe(6, List.of("a/+/#", "#"), MqttProperties.EMPTY),
                new Unsuback(6),
                Pingreq.INSTANCE, Pingresp.INSTANCE, Disconnect.NORMAL);
    }

    @ParameterizedTest
    @EnumSource(value = MqttVersion.class, names = {"MQTT_3_1", "MQTT_3_1_1"})
    @DisplayName("every 3.x packet type round-trips")
    void roundTrip3(MqttVersion v) throws Exception {
        for (MqttPacket p : packets3(v)) {
            assertSamePacket(roundTrip(p, v), p);
        }
        if (v == MqttVersion.MQTT_3_1_1) {
            assertSamePacket(roundTrip(new Connack(true, 0), v), new Connack(true, 0));
        }
    }

    @Test
    @DisplayName("every 5.0 packet type round-trips with reason codes and properties")
    void roundTrip5() throws Exception {
        MqttVersion v = MqttVersion.MQTT_5;
        MqttProperties user = MqttProperties.builder().userProperty("k", "v").userProperty("k", "w").build();
        MqttProperties reason = MqttProperties.builder().set(PropertyId.REASON_STRING, "why").build();
        Will will = new Will("w", new byte[0], AT_LEAST_ONCE, false,
                MqttProperties.builder().set(PropertyId.MESSAGE_EXPIRY_INTERVAL, 10L)
                        .set(PropertyId.RESPONSE_TOPIC, "resp").set(PropertyId.CORRELATION_DATA, new byte[] {1})
                        .userProperty("a", "b").build());
        List<MqttPacket> packets = new ArrayList<>(List.of(
                new Connect(v, "", true, 10, null, ascii("token"), will,
                        MqttProperties.builder().set(PropertyId.TOPIC_ALIAS_MAXIMUM, 5).build()),
                new Connack(true, ReasonCode.SUCCESS, MqttProperties.builder()
                        .set(PropertyId.ASSIGNED_CLIENT_IDENTIFIER, "auto-1").set(PropertyId.MAXIMUM_QOS, 0).build()),
                new Connack(false, ReasonCode.BANNED, reason),
                new Publish("t", EXACTLY_ONCE, true, true, 7, new byte[200], MqttProperties.builder()
                        .subscriptionIdentifier(268_435_455).subscriptionIdentifier(128).build()),
                new Puback(1, ReasonCode.QUOTA_EXCEEDED, reason), new Pubrec(2, 0x10, MqttProperties.EMPTY),
                new Pubrel(3, 0, user), new Pubcomp(4, 0x92, reason),
                new Subscribe(5, List.of(new TopicSubscription("x", AT_LEAST_ONCE, false, true, 1)), user),
                new Suback(5, List.of(0x9E, 0xA1, 0xA2), reason),
                new Unsubscribe(6, List.of("x", "y"), user),
                new Unsuback(6, List.of(0x00, 0x11, 0x87), reason),
                Pingreq.INSTANCE, Pingresp.INSTANCE,
                new Disconnect(ReasonCode.SESSION_TAKEN_OVER, reason),
                new Auth(ReasonCode.CONTINUE_AUTHENTICATION, MqttProperties.builder()
                        .set(PropertyId.AUTHENTICATION_METHOD, "SCRAM").set(PropertyId.AUTHENTICATION_DATA, new byte[0])
                        .set(PropertyId.REASON_STRING, "more").build())));
        // the 3.x list minus its CONNECTs, and minus UNSUBACK without codes, which 5.0 does not have
        packets3(v).stream().skip(2).filter(p -> !(p instanceof Unsuback)).forEach(packets::add);
        for (MqttPacket p : packets) {
            assertSamePacket(roundTrip(p, v), p);
        }
    }

    @ParameterizedTest(name = "remaining length {0} -> {1}")
    @CsvSource({"0, 00", "127, 7f", "128, 8001", "16383, ff7f", "16384, 808001", "2097151, ffff7f",
            "2097152, 80808001"})
    @DisplayName("remaining length is a variable byte integer of 1 to 4 bytes")
    void remainingLengthBoundaries(int remainingLength, String encoded) throws Exception {
        MqttPacket p = remainingLength == 0 ? Pingreq.INSTANCE
                : new Publish("t", AT_MOST_ONCE, false, 0, new byte[remainingLength - 3]);
        ByteBuf buf = MqttPacketEncoder.encode(PooledByteBufAllocator.DEFAULT, p, MqttVersion.MQTT_3_1_1);
        try {
            byte[] header = new byte[encoded.length() / 2];
            buf.getBytes(1, header);
            assertThat(header).isEqualTo(Wire.bytes(encoded));
            assertThat(buf.readableBytes()).isEqualTo(1 + header.length + remainingLength);
            MqttPacket decoded = MqttPacketDecoder.decode(buf, MqttVersion.MQTT_3_1_1);
            if (p instanceof Publish publish) {
                // compared directly: a recursive comparison of megabyte arrays is very slow
                assertThat(((Publish) decoded).payload()).isEqualTo(publish.payload());
                assertThat(((Publish) decoded).topic()).isEqualTo(publish.topic());
            } else {
                assertSamePacket(decoded, p);
            }
        } finally {
            buf.release();
        }
    }

    @Test
    @DisplayName("the largest remaining length, 268,435,455, is read from a 4-byte header")
    void largestRemainingLength() throws Exception {
        ByteBuf buf = Unpooled.wrappedBuffer(Wire.bytes("30 ff ff ff 7f"));
        try {
            long header = MqttPacketDecoder.peekFixedHeader(buf, MqttVersion.MQTT_5);
            assertThat(MqttPacketDecoder.headerLength(header)).isEqualTo(5);
            assertThat(MqttPacketDecoder.remainingLength(header)).isEqualTo(MqttPacketDecoder.MAX_REMAINING_LENGTH);
            assertThat(buf.readerIndex()).isZero();
        } finally {
            buf.release();
        }
    }

    @Test
    @DisplayName("the encoder refuses what cannot be represented")
    void unencodable() {
        String longTopic = "x".repeat(65_536);
        assertThrows(IllegalArgumentException.class, () -> MqttPacketEncoder.encodedSize(
                new Publish(longTopic, AT_MOST_ONCE, false, 0, new byte[0]), MqttVersion.MQTT_3_1_1));
        assertThrows(IllegalArgumentException.class, () -> MqttPacketEncoder.encodedSize(
                new Connect(MqttVersion.MQTT_5, "c", true, 0, null, new byte[70_000], null, MqttProperties.EMPTY),
                MqttVersion.MQTT_5));
        assertThrows(IllegalArgumentException.class, () -> MqttPacketEncoder.encodedSize(
                new Auth(0, MqttProperties.EMPTY), MqttVersion.MQTT_3_1_1));
        // a failed append leaves the target buffer as it was
        ByteBuf out = PooledByteBufAllocator.DEFAULT.buffer();
        try {
            out.writeByte(0x42);
            assertThrows(IllegalArgumentException.class,
                    () -> MqttPacketEncoder.encode(out, new Puback(70_000), MqttVersion.MQTT_3_1_1));
            assertThat(out.writerIndex()).isEqualTo(1);
            MqttPacketEncoder.encode(out, new Puback(1), MqttVersion.MQTT_3_1_1);
            assertThat(out.readableBytes()).isEqualTo(5);
        } finally {
            out.release();
        }
    }

    @Test
    @DisplayName("the encoder writes rule-breaking packets faithfully, so tests can send them")
    void encodesWhatItIsGiven() {
        Publish dupQos0 = new Publish("a", AT_MOST_ONCE, false, true, 0, new byte[0], MqttProperties.EMPTY);
        assertThat(Wire.encode(dupQos0, MqttVersion.MQTT_3_1_1)).isEqualTo("3803000161");
        Connect passwordOnly = new Connect(MqttVersion.MQTT_3_1_1, "c", true, 0, null, new byte[0], null,
                MqttProperties.EMPTY);
        assertThat(Wire.encode(passwordOnly, MqttVersion.MQTT_3_1_1)).isEqualTo("100f00044d515454044200000001630000");
    }

    @ParameterizedTest
    @CsvSource({"MQTT_3_1, 0x83", "MQTT_3_1_1, 0x84"})
    @DisplayName("Mosquitto's try_private: a bridge's CONNECT carries protocol level | 0x80, and decodes as a bridge")
    void bridgeProtocolLevel(MqttVersion v, String level) throws Exception {
        Connect bridge = new Connect(v, "bridge-1", false, 60, null, null, null, MqttProperties.EMPTY, true);
        ByteBuf buf = MqttPacketEncoder.encode(PooledByteBufAllocator.DEFAULT, bridge, v);
        try {
            // fixed header (2) + name length (2) + name, then the level
            int at = 2 + 2 + v.protocolName().length();
            assertThat((int) buf.getUnsignedByte(at)).isEqualTo(Integer.decode(level));
        } finally {
            buf.release();
        }
        Connect back = (Connect) roundTrip(bridge, v);
        assertThat(back.bridge()).isTrue();
        assertThat(back.version()).isEqualTo(v);
        assertThat(((Connect) roundTrip(new Connect(v, "c", true, 0, null, null, null, MqttProperties.EMPTY), v))
                .bridge()).isFalse();
    }

    @Test
    @DisplayName("MQTT 5 has no bridge bit: 0x85 is an unsupported level [MQTT-3.1.2-2]")
    void noBridgeBitInMqtt5() {
        assertThrows(IllegalArgumentException.class, () -> new Connect(MqttVersion.MQTT_5, "b", false, 60, null, null,
                null, MqttProperties.EMPTY, true));
        ByteBuf body = Unpooled.buffer();
        body.writeShort(4).writeBytes(ascii("MQTT")).writeByte(0x85).writeByte(0x02).writeShort(60);
        ByteBuf packet = Unpooled.buffer().writeByte(0x10).writeByte(body.readableBytes()).writeBytes(body);
        assertThrows(UnsupportedProtocolVersionException.class,
                () -> MqttPacketDecoder.decode(packet, MqttVersion.MQTT_3_1_1));
    }
}
