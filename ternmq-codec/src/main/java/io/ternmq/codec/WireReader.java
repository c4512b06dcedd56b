package io.ternmq.codec;

import io.netty.buffer.ByteBuf;

/**
 * Reads MQTT's data types (section 1.5) from a buffer that holds exactly one packet's body, so running out of
 * readable bytes means a field overruns the remaining length: a malformed packet.
 */
final class WireReader {
    private WireReader() {
    }

    static int readByte(ByteBuf buf, String field) throws MalformedPacketException {
        need(buf, 1, field);
        return buf.readUnsignedByte();
    }

    static int readTwoByteInt(ByteBuf buf, String field) throws MalformedPacketException {
        need(buf, 2, field);
        return buf.readUnsignedShort();
    }

    static long readFourByteInt(ByteBuf buf, String field) throws MalformedPacketException {
        need(buf, 4, field);
        return buf.readUnsignedInt();
    }

    /**
     * A variable byte integer inside a packet body (only MQTT 5.0 has those), so the 5.0 rule that it use the fewest
     * bytes applies [MQTT-1.5.5-1].
     */
    static int readVariableByteInt(ByteBuf buf, String field) throws MalformedPacketException {
        int value = 0;
        for (int i = 0; i < 4; i++) {
            int b = readByte(buf, field);
            value |= (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0) {
                if (b == 0 && i > 0) {
                    throw malformed("MQTT-1.5.5-1", field + " is not encoded in the fewest bytes");
                }
                return value;
            }
        }
        throw malformed(null, field + " is a variable byte integer longer than 4 bytes");
    }

    /** A UTF-8 encoded string: two-byte length, then well-formed UTF-8 without U+0000. */
    static String readUtf8(ByteBuf buf, MqttVersion version, String field) throws MalformedPacketException {
        int length = readTwoByteInt(buf, field + " length");
        need(buf, length, field);
        int index = buf.readerIndex();
        switch (Utf8.check(buf, index, length)) {
            case Utf8.NULL_CHARACTER -> throw malformed(rule(version, "MQTT-1.5.3-2", "MQTT-1.5.4-2"),
                    field + " contains U+0000");
            case Utf8.ILL_FORMED -> throw malformed(rule(version, "MQTT-1.5.3-1", "MQTT-1.5.4-1"),
                    field + " is not well-formed UTF-8");
            default -> {
                // valid
            }
        }
        buf.skipBytes(length);
        return Utf8.decode(buf, index, length);
    }

    /** Binary data: two-byte length, then that many bytes, copied so no buffer is kept alive. */
    static byte[] readBinary(ByteBuf buf, String field) throws MalformedPacketException {
        int length = readTwoByteInt(buf, field + " length");
        need(buf, length, field);
        return readRest(buf, length);
    }

    /** @return a copy of the next {@code length} bytes */
    static byte[] readRest(ByteBuf buf, int length) {
        byte[] bytes = new byte[length];
        buf.readBytes(bytes);
        return bytes;
    }

    /** A packet identifier, which is never 0 [MQTT-2.3.1-1] [MQTT-2.2.1-3]. */
    static int readPacketId(ByteBuf buf, MqttVersion version) throws MalformedPacketException {
        int id = readTwoByteInt(buf, "packet identifier");
        if (id == 0) {
            throw malformed(rule(version, "MQTT-2.3.1-1", "MQTT-2.2.1-3"), "packet identifier is 0");
        }
        return id;
    }

    private static void need(ByteBuf buf, int bytes, String field) throws MalformedPacketException {
        if (buf.readableBytes() < bytes) {
            throw malformed(null, field + " runs past the end of the packet");
        }
    }

    /** Picks the statement number of the version at hand: 3.1/3.1.1 and 5.0 number the same rule differently. */
    static String rule(MqttVersion version, String v3, String v5) {
        return version.isV5() ? v5 : v3;
    }

    static MalformedPacketException malformed(String rule, String message) {
        return new MalformedPacketException(ReasonCode.MALFORMED_PACKET, rule, message);
    }

    static MalformedPacketException protocolError(String rule, String message) {
        return new MalformedPacketException(ReasonCode.PROTOCOL_ERROR, rule, message);
    }
}
