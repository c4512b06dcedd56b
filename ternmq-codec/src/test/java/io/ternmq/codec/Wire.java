package io.ternmq.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** Test helpers: hex vectors in and out of the codec, releasing every buffer they create. */
final class Wire {
    private Wire() {
    }

    /** @param hex hex digits, whitespace ignored */
    static byte[] bytes(String hex) {
        return ByteBufUtil.decodeHexDump(normalise(hex));
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    static String normalise(String hex) {
        return hex.replaceAll("\\s+", "").toLowerCase();
    }

    /**
     * Prefixes a body with a fixed header whose remaining length is computed, for negative tests whose point is one
     * field of the body.
     */
    static String packet(String firstByteHex, String bodyHex) {
        int length = normalise(bodyHex).length() / 2;
        StringBuilder sb = new StringBuilder(firstByteHex);
        do {
            int b = length & 0x7F;
            length >>>= 7;
            sb.append(String.format("%02x", length > 0 ? b | 0x80 : b));
        } while (length > 0);
        return sb.append(normalise(bodyHex)).toString();
    }

    /** A UTF-8 encoded string field for {@code s}. */
    static String str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return String.format("%04x", b.length) + ByteBufUtil.hexDump(b);
    }

    static MqttPacket decode(String hex, MqttVersion version) throws MalformedPacketException {
        ByteBuf buf = Unpooled.wrappedBuffer(bytes(hex));
        try {
            return MqttPacketDecoder.decode(buf, version);
        } finally {
            buf.release();
        }
    }

    /** Encodes with a pooled (leak-tracked) allocator and checks {@code encodedSize} agrees. */
    static String encode(MqttPacket packet, MqttVersion version) {
        ByteBuf buf = MqttPacketEncoder.encode(PooledByteBufAllocator.DEFAULT, packet, version);
        try {
            assertThat(buf.readableBytes()).as("encodedSize").isEqualTo(MqttPacketEncoder.encodedSize(packet, version));
            return ByteBufUtil.hexDump(buf);
        } finally {
            buf.release();
        }
    }

    /** Record equality compares arrays by reference, so packets are compared field by field, arrays by content. */
    static void assertSamePacket(Object actual, Object expected) {
        assertThat(actual).usingRecursiveComparison().withStrictTypeChecking().isEqualTo(expected);
    }

    static void assertSamePackets(List<?> actual, List<?> expected) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            assertSamePacket(actual.get(i), expected.get(i));
        }
    }

    /** The vector decodes to the packet and the packet encodes to the vector. */
    static void assertVector(String hex, MqttPacket packet, MqttVersion version) throws MalformedPacketException {
        assertSamePacket(decode(hex, version), packet);
        assertThat(encode(packet, version)).isEqualTo(normalise(hex));
    }

    static MalformedPacketException reject(String hex, MqttVersion version) {
        return assertThrows(MalformedPacketException.class, () -> decode(hex, version));
    }

    /** Decoding fails with this reason code and normative statement (null: none is numbered). */
    static MalformedPacketException assertRejected(String hex, MqttVersion version, int reasonCode, String rule) {
        MalformedPacketException e = reject(hex, version);
        assertThat(e.reasonCode()).as("reason code of: %s", e.getMessage()).isEqualTo(reasonCode);
        assertThat(e.rule()).as("rule of: %s", e.getMessage()).isEqualTo(rule);
        return e;
    }

    static MalformedPacketException assertMalformed(String hex, MqttVersion version, String rule) {
        return assertRejected(hex, version, ReasonCode.MALFORMED_PACKET, rule);
    }

    static MalformedPacketException assertProtocolError(String hex, MqttVersion version, String rule) {
        return assertRejected(hex, version, ReasonCode.PROTOCOL_ERROR, rule);
    }
}
