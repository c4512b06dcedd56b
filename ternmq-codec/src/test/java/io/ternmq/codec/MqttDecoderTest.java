package io.ternmq.codec;

import static io.ternmq.codec.Wire.assertSamePackets;
import static io.ternmq.codec.Wire.bytes;
import static io.ternmq.codec.Wire.packet;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** {@link MqttDecoder} in a pipeline: framing under any fragmentation, size limit, failure handling, version. */
class MqttDecoderTest {
    private static final String CONNECT_5 = """
            10 36 0004 4d515454 05 d6 001e
            0f 11 00000e10 21 0014 26 0001 6b 0001 76
            0002 6331 0b 01 01 03 0001 74 18 00000005 0001 77 0001 7a 0001 75 0001 09""";
    private static final String PUBLISH_5 = """
            32 2c 0003 612f62 0001
            22 01 01 02 0000003c 03 0001 63 08 0001 72 09 0001 ab 23 0005 0b 01 0b c801 26 0001 61 0001 62
            6869""";
    private static final String SUBSCRIBE_5 = "82 18 0001 02 0b 05 0003 612f2b 2d 000a 2473686172652f672f78 02";
    private static final String CONNECT_311 = "10 0f 0004 4d515454 04 02 003c 0003 616263";

    /** Every buffer handed to a channel, to check all were released. */
    private final List<ByteBuf> written = new ArrayList<>();
    private final List<EmbeddedChannel> channels = new ArrayList<>();

    @AfterEach
    void noLeaks() {
        for (EmbeddedChannel ch : channels) {
            assertThat(ch.finishAndReleaseAll()).as("unread messages").isFalse();
        }
        for (ByteBuf b : written) {
            assertThat(b.refCnt()).as("input buffer released").isZero();
        }
    }

    private EmbeddedChannel channel(MqttDecoder decoder) {
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        channels.add(ch);
        return ch;
    }

    /** Writes the bytes as one pooled (leak-tracked) buffer and returns everything decoded so far. */
    private List<Object> feed(EmbeddedChannel ch, byte[] bytes, int from, int to) {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.buffer(to - from).writeBytes(bytes, from, to - from);
        written.add(buf);
        ch.writeInbound(buf);
        return drain(ch);
    }

    private List<Object> feed(EmbeddedChannel ch, String hex) {
        byte[] b = bytes(hex);
        return feed(ch, b, 0, b.length);
    }

    private static List<Object> drain(EmbeddedChannel ch) {
        List<Object> out = new ArrayList<>();
        for (Object o = ch.readInbound(); o != null; o = ch.readInbound()) {
            out.add(o);
        }
        return out;
    }

    // ----- a stream of several packets, in any fragmentation -----

    private static byte[] stream() {
        ByteArrayOutputStream s = new ByteArrayOutputStream();
        for (String hex : streamPackets()) {
            s.writeBytes(bytes(hex));
        }
        return s.toByteArray();
    }

    private static List<String> streamPackets() {
        String bigPublish = packet("30", "0003 612f62 00" + "ab".repeat(300)); // two-byte remaining length
        return List.of(CONNECT_5, PUBLISH_5, SUBSCRIBE_5, "62 03 0003 92", bigPublish, "c0 00",
                "f0 0a 18 08 15 0001 6d 16 0001 01", "e0 07 04 05 11 00000000");
    }

    private static List<MqttPacket> expectedStream() throws MalformedPacketException {
        List<MqttPacket> expected = new ArrayList<>();
        for (String hex : streamPackets()) {
            expected.add(Wire.decode(hex, MqttVersion.MQTT_5));
        }
        return expected;
    }

    @Test
    @DisplayName("a stream of packets fed one byte at a time decodes to the same packets")
    void oneByteAtATime() throws Exception {
        byte[] stream = stream();
        EmbeddedChannel ch = channel(new MqttDecoder(1024));
        List<Object> out = new ArrayList<>();
        for (int i = 0; i < stream.length; i++) {
            out.addAll(feed(ch, stream, i, i + 1));
        }
        assertSamePackets(out, expectedStream());
    }

    @Test
    @DisplayName("a stream of packets in random splits (fixed seed) decodes to the same packets")
    void randomSplits() throws Exception {
        byte[] stream = stream();
        List<MqttPacket> expected = expectedStream();
        Random random = new Random(20_240_601L);
        for (int round = 0; round < 200; round++) {
            EmbeddedChannel ch = channel(new MqttDecoder(1024));
            List<Object> out = new ArrayList<>();
            int from = 0;
            while (from < stream.length) {
                int to = Math.min(stream.length, from + 1 + random.nextInt(round % 2 == 0 ? 8 : 200));
                out.addAll(feed(ch, stream, from, to));
                from = to;
            }
            assertSamePackets(out, expected);
        }
    }

    @Test
    @DisplayName("the whole stream in one buffer decodes to the same packets")
    void wholeStream() throws Exception {
        byte[] stream = stream();
        EmbeddedChannel ch = channel(new MqttDecoder(1024));
        assertSamePackets(feed(ch, stream, 0, stream.length), expectedStream());
    }

    @Test
    @DisplayName("payloads are copies, not views of the cumulation buffer")
    void payloadCopied() {
        byte[] raw = bytes("30 07 0003 612f62 6869");
        EmbeddedChannel ch = channel(new MqttDecoder(1024));
        ByteBuf buf = Unpooled.wrappedBuffer(raw); // the first read becomes the cumulation buffer itself
        written.add(buf);
        ch.writeInbound(buf);
        Publish p = (Publish) ch.readInbound();
        Arrays.fill(raw, (byte) 'X');
        assertThat(p.payload()).isEqualTo(Wire.ascii("hi"));
        assertThat(p.topic()).isEqualTo("a/b");
    }

    // ----- packet size limit -----

    @Test
    @DisplayName("an oversized packet fails with 0x95 as soon as its fixed header is read")
    void tooLargeFromHeaderAlone() {
        EmbeddedChannel ch = channel(new MqttDecoder(100));
        List<Object> out = feed(ch, "30 64"); // 1 + 1 + 100 = 102 bytes > 100
        assertThat(out).singleElement().isInstanceOfSatisfying(DecodeFailure.class, f -> {
            assertThat(f.reasonCode()).isEqualTo(ReasonCode.PACKET_TOO_LARGE);
            assertThat(f.packetType()).isEqualTo(PacketType.PUBLISH);
            assertThat(f.version()).isEqualTo(MqttVersion.MQTT_3_1_1);
            assertThat(f.unsupportedProtocolVersion()).isFalse();
        });
        // the body that follows is discarded
        assertThat(feed(ch, "00".repeat(100))).isEmpty();
    }

    @Test
    @DisplayName("a huge announced length fails at once, nothing of it is buffered")
    void hugeAnnouncedLength() {
        EmbeddedChannel ch = channel(new MqttDecoder(1 << 20));
        assertThat(feed(ch, "30 ff ff ff 7f")).singleElement().isInstanceOfSatisfying(DecodeFailure.class,
                f -> assertThat(f.reasonCode()).isEqualTo(ReasonCode.PACKET_TOO_LARGE));
    }

    @Test
    @DisplayName("a packet of exactly the maximum size is accepted; the limit can be changed")
    void exactlyAtLimit() {
        String atLimit = packet("30", "0001 74" + "00".repeat(95)); // 1 + 1 + 98 = 100 bytes
        MqttDecoder decoder = new MqttDecoder(100);
        EmbeddedChannel ch = channel(decoder);
        assertThat(feed(ch, atLimit)).singleElement().isInstanceOf(Publish.class);
        decoder.setMaxPacketSize(200);
        assertThat(feed(ch, packet("30", "0001 74" + "00".repeat(150)))).singleElement()
                .isInstanceOf(Publish.class);
        decoder.setMaxPacketSize(99);
        assertThat(feed(ch, atLimit)).singleElement().isInstanceOf(DecodeFailure.class);
    }

    @Test
    @DisplayName("an oversized CONNECT reports the version it asks for when those bytes have arrived")
    void tooLargeConnect() {
        EmbeddedChannel ch = channel(new MqttDecoder(20));
        assertThat(feed(ch, CONNECT_5)).singleElement().isInstanceOfSatisfying(DecodeFailure.class, f -> {
            assertThat(f.reasonCode()).isEqualTo(ReasonCode.PACKET_TOO_LARGE);
            assertThat(f.packetType()).isEqualTo(PacketType.CONNECT);
            assertThat(f.version()).isEqualTo(MqttVersion.MQTT_5);
        });
        EmbeddedChannel ch2 = channel(new MqttDecoder(20));
        assertThat(feed(ch2, "10 36")).singleElement().isInstanceOfSatisfying(DecodeFailure.class,
                f -> assertThat(f.version()).isNull());
    }

    // ----- malformed streams -----

    @Test
    @DisplayName("a 5-byte remaining length fails on the 4th length byte, without waiting for a 5th")
    void fiveByteRemainingLength() {
        EmbeddedChannel ch = channel(new MqttDecoder(Integer.MAX_VALUE));
        assertThat(feed(ch, "30 ff ff ff")).isEmpty();
        assertThat(feed(ch, "ff")).singleElement().isInstanceOfSatisfying(DecodeFailure.class,
                f -> assertThat(f.reasonCode()).isEqualTo(ReasonCode.MALFORMED_PACKET));
    }

    @Test
    @DisplayName("after a failure every further byte is discarded and nothing else is emitted")
    void discardAfterFailure() {
        MqttDecoder decoder = new MqttDecoder(1024);
        EmbeddedChannel ch = channel(decoder);
        List<Object> out = feed(ch, "c0 00 00 00 c0 00 e0 00"); // PINGREQ, reserved type 0, then more packets
        assertThat(out).hasSize(2);
        assertThat(out.get(0)).isEqualTo(Pingreq.INSTANCE);
        assertThat(out.get(1)).isInstanceOfSatisfying(DecodeFailure.class, f -> {
            assertThat(f.packetType()).isNull();
            assertThat(f.reasonCode()).isEqualTo(ReasonCode.MALFORMED_PACKET);
        });
        assertThat(decoder.hasFailed()).isTrue();
        assertThat(feed(ch, "c0 00 c0 00")).isEmpty();
        assertThat(feed(ch, CONNECT_311)).isEmpty();
    }

    @Test
    @DisplayName("a failure in a body is reported with the packet type and the connection's version")
    void failureInBody() {
        EmbeddedChannel ch = channel(new MqttDecoder(1024));
        feed(ch, CONNECT_5);
        assertThat(feed(ch, "30 07 0001 74 03 23 0000")).singleElement().isInstanceOfSatisfying(DecodeFailure.class,
                f -> {
                    assertThat(f.packetType()).isEqualTo(PacketType.PUBLISH);
                    assertThat(f.version()).isEqualTo(MqttVersion.MQTT_5);
                    assertThat(f.reasonCode()).isEqualTo(ReasonCode.TOPIC_ALIAS_INVALID);
                    assertThat(f.message()).contains("MQTT-3.3.2-8");
                });
    }

    @Test
    @DisplayName("[MQTT-3.1.2-2] an unsupported protocol level is flagged so the broker can send CONNACK")
    void unsupportedProtocolVersion() {
        EmbeddedChannel ch = channel(new MqttDecoder(1024));
        assertThat(feed(ch, "10 0f 0004 4d515454 06 02 003c 0003 616263")).singleElement()
                .isInstanceOfSatisfying(DecodeFailure.class, f -> {
                    assertThat(f.unsupportedProtocolVersion()).isTrue();
                    assertThat(f.packetType()).isEqualTo(PacketType.CONNECT);
                    assertThat(f.version()).isNull();
                    assertThat(f.reasonCode()).isEqualTo(ReasonCode.UNSUPPORTED_PROTOCOL_VERSION);
                });
    }

    @Test
    @DisplayName("a malformed CONNECT reports the version it asked for, so the CONNACK can use its format")
    void malformedConnectVersion() {
        EmbeddedChannel ch5 = channel(new MqttDecoder(1024));
        assertThat(feed(ch5, "10 10 0004 4d515454 05 03 003c 00 0003 616263")).singleElement()
                .isInstanceOfSatisfying(DecodeFailure.class, f -> {
                    assertThat(f.version()).isEqualTo(MqttVersion.MQTT_5);
                    assertThat(f.unsupportedProtocolVersion()).isFalse();
                    assertThat(f.message()).contains("MQTT-3.1.2-3");
                });
        EmbeddedChannel ch31 = channel(new MqttDecoder(1024));
        assertThat(feed(ch31, "10 11 0006 4d5149736470 03 42 003c 0003 616263")).singleElement()
                .isInstanceOfSatisfying(DecodeFailure.class,
                        f -> assertThat(f.version()).isEqualTo(MqttVersion.MQTT_3_1));
        EmbeddedChannel chName = channel(new MqttDecoder(1024));
        assertThat(feed(chName, "10 0f 0004 4d515458 04 02 003c 0003 616263")).singleElement()
                .isInstanceOfSatisfying(DecodeFailure.class, f -> {
                    assertThat(f.version()).isNull();
                    assertThat(f.unsupportedProtocolVersion()).isFalse();
                });
        EmbeddedChannel chFlags = channel(new MqttDecoder(1024));
        assertThat(feed(chFlags, "11 0f")).singleElement().isInstanceOfSatisfying(DecodeFailure.class, f -> {
            assertThat(f.packetType()).isEqualTo(PacketType.CONNECT);
            assertThat(f.version()).isNull();
        });
    }

    // ----- protocol version -----

    @Test
    @DisplayName("the version is learnt from the first CONNECT; before it, 3.1.1 rules apply")
    void learnsVersion() {
        MqttDecoder decoder = new MqttDecoder(1024);
        EmbeddedChannel ch = channel(decoder);
        assertThat(decoder.version()).isEqualTo(MqttVersion.MQTT_3_1_1);
        feed(ch, CONNECT_5);
        assertThat(decoder.version()).isEqualTo(MqttVersion.MQTT_5);
        List<Object> out = feed(ch, "f0 00 40 03 0001 10");
        assertSamePackets(out, List.of(new Auth(0, MqttProperties.EMPTY),
                new Puback(1, ReasonCode.NO_MATCHING_SUBSCRIBERS, MqttProperties.EMPTY)));
        // a second CONNECT (the broker's protocol error to handle) does not change the version
        assertThat(feed(ch, CONNECT_311)).singleElement().isInstanceOf(Connect.class);
        assertThat(decoder.version()).isEqualTo(MqttVersion.MQTT_5);
    }

    @Test
    @DisplayName("without a CONNECT, 5.0-only forms are refused: AUTH, long PUBACK")
    void before5() {
        EmbeddedChannel ch = channel(new MqttDecoder(1024));
        assertThat(feed(ch, "f0 00")).singleElement().isInstanceOf(DecodeFailure.class);
        EmbeddedChannel ch2 = channel(new MqttDecoder(1024));
        feed(ch2, CONNECT_311);
        assertThat(feed(ch2, "40 03 0001 10")).singleElement().isInstanceOf(DecodeFailure.class);
    }

    @Test
    @DisplayName("MQTT 3.1 is learnt too")
    void learns31() {
        MqttDecoder decoder = new MqttDecoder(1024);
        EmbeddedChannel ch = channel(decoder);
        feed(ch, "10 11 0006 4d5149736470 03 02 003c 0003 616263");
        assertThat(decoder.version()).isEqualTo(MqttVersion.MQTT_3_1);
        assertThat(feed(ch, "8a 06 0001 0001 61 00")).singleElement().isInstanceOf(Subscribe.class);
    }

    @Test
    @DisplayName("a client sets the version itself and decodes server packets")
    void clientSide() {
        MqttDecoder decoder = new MqttDecoder(1024);
        decoder.setVersion(MqttVersion.MQTT_5);
        EmbeddedChannel ch = channel(decoder);
        List<Object> out = feed(ch, "20 03 01 00 00 90 04 0001 00 01 b0 04 0001 00 11 d0 00 e0 01 8b");
        assertSamePackets(out, List.of(new Connack(true, 0), new Suback(1, List.of(1), MqttProperties.EMPTY),
                new Unsuback(1, List.of(0x11), MqttProperties.EMPTY), Pingresp.INSTANCE,
                new Disconnect(ReasonCode.SERVER_SHUTTING_DOWN)));
    }

    @Test
    @DisplayName("an incomplete packet at channel close is dropped without leaking")
    void incompleteAtClose() {
        EmbeddedChannel ch = channel(new MqttDecoder(1024));
        assertThat(feed(ch, "30 07 0003 61")).isEmpty();
        ch.close();
        assertThat(drain(ch)).isEmpty();
    }
}
