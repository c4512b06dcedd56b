package io.ternmq.codec;

import static io.ternmq.codec.WireReader.malformed;
import static io.ternmq.codec.WireReader.protocolError;
import static io.ternmq.codec.WireReader.readByte;
import static io.ternmq.codec.WireReader.readPacketId;
import static io.ternmq.codec.WireReader.readUtf8;
import static io.ternmq.codec.WireReader.rule;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes one complete MQTT control packet from bytes, for MQTT 3.1, 3.1.1 and 5.0, and checks every rule that can be
 * checked from the packet alone. Stateless and independent of any Netty pipeline; {@link MqttDecoder} frames the
 * byte stream and calls {@link #decodeBody}.
 * <p>
 * Rules that need connection state (a second CONNECT, topic alias mapping, negotiated maxima, which side sent the
 * packet) are the broker's.
 */
public final class MqttPacketDecoder {
    /** The largest remaining length a four-byte variable byte integer holds. */
    public static final int MAX_REMAINING_LENGTH = 268_435_455;

    /** Returned by {@link #peekFixedHeader} while the fixed header is incomplete. */
    static final long NEED_MORE = -1;

    private MqttPacketDecoder() {
    }

    /**
     * Decodes the packet that fills {@code packet}'s readable bytes exactly, fixed header included.
     *
     * @param version the connection's protocol version; ignored for CONNECT, which names its own
     * @throws MalformedPacketException if the bytes break a rule, hold less than one packet or more than one
     */
    public static MqttPacket decode(ByteBuf packet, MqttVersion version) throws MalformedPacketException {
        long header = peekFixedHeader(packet, version);
        if (header == NEED_MORE) {
            throw malformed(null, "packet ends inside its fixed header");
        }
        int headerLength = headerLength(header);
        int remainingLength = remainingLength(header);
        int available = packet.readableBytes() - headerLength;
        if (available < remainingLength) {
            throw malformed(null, "packet has " + available + " bytes after its fixed header, remaining length says "
                    + remainingLength);
        }
        if (available > remainingLength) {
            throw malformed(null, (available - remainingLength) + " byte(s) follow the end of the packet");
        }
        int firstByte = packet.readUnsignedByte();
        packet.skipBytes(headerLength - 1);
        return decodeBody(firstByte, packet.readSlice(remainingLength), version);
    }

    /**
     * Decodes a packet whose fixed header has been read: {@code body} holds exactly the remaining length's bytes.
     *
     * @param firstByte the fixed header's first byte: packet type and flags
     * @param version   the connection's protocol version; ignored for CONNECT, which names its own
     */
    public static MqttPacket decodeBody(int firstByte, ByteBuf body, MqttVersion version)
            throws MalformedPacketException {
        PacketType type = checkFixedHeader(firstByte, version);
        int flags = firstByte & 0x0F;
        MqttPacket packet = switch (type) {
            case CONNECT -> ConnectDecoder.decode(body);
            case CONNACK -> decodeConnack(body, version);
            case PUBLISH -> decodePublish(flags, body, version);
            case PUBACK -> {
                Ack ack = decodeAck(body, version, PropertyId.Where.PUBACK);
                yield new Puback(ack.packetId, ack.reasonCode, ack.properties);
            }
            case PUBREC -> {
                Ack ack = decodeAck(body, version, PropertyId.Where.PUBREC);
                yield new Pubrec(ack.packetId, ack.reasonCode, ack.properties);
            }
            case PUBREL -> {
                Ack ack = decodeAck(body, version, PropertyId.Where.PUBREL);
                yield new Pubrel(ack.packetId, ack.reasonCode, ack.properties);
            }
            case PUBCOMP -> {
                Ack ack = decodeAck(body, version, PropertyId.Where.PUBCOMP);
                yield new Pubcomp(ack.packetId, ack.reasonCode, ack.properties);
            }
            case SUBSCRIBE -> SubscribeDecoder.decodeSubscribe(body, version);
            case SUBACK -> decodeSuback(body, version);
            case UNSUBSCRIBE -> SubscribeDecoder.decodeUnsubscribe(body, version);
            case UNSUBACK -> decodeUnsuback(body, version);
            case PINGREQ -> Pingreq.INSTANCE;
            case PINGRESP -> Pingresp.INSTANCE;
            case DISCONNECT -> decodeDisconnect(body, version);
            case AUTH -> decodeAuth(body);
        };
        if (body.isReadable()) {
            throw malformed(null, type + " has " + body.readableBytes() + " byte(s) after its last field");
        }
        return packet;
    }

    /**
     * Checks the fixed header's first byte: a known packet type and the flags the spec prescribes for it [MQTT-2.2.2-1]
     * [MQTT-2.1.3-1]. MQTT 3.1 let senders set DUP on a retried PUBREL, SUBSCRIBE or UNSUBSCRIBE, so it is tolerated
     * there.
     *
     * @return the packet type
     */
    public static PacketType checkFixedHeader(int firstByte, MqttVersion version) throws MalformedPacketException {
        PacketType type = PacketType.of(firstByte >>> 4);
        if (type == null) {
            throw malformed(null, "packet type 0 is reserved");
        }
        int flags = firstByte & 0x0F;
        switch (type) {
            case PUBLISH -> {
                int qos = (flags >>> 1) & 0x03;
                if (qos == 3) {
                    throw malformed("MQTT-3.3.1-4", "PUBLISH with QoS 3");
                }
                if (qos == 0 && (flags & 0x08) != 0) {
                    throw malformed("MQTT-3.3.1-2", "PUBLISH with QoS 0 and DUP set");
                }
            }
            case PUBREL, SUBSCRIBE, UNSUBSCRIBE -> {
                boolean ok = flags == 0x02 || version == MqttVersion.MQTT_3_1 && flags == 0x0A;
                if (!ok) {
                    throw reservedFlags(type, flags, version);
                }
            }
            case AUTH -> {
                if (!version.isV5()) {
                    throw malformed(null, "AUTH exists only in MQTT 5.0");
                }
                if (flags != 0) {
                    throw reservedFlags(type, flags, version);
                }
            }
            default -> {
                if (flags != 0) {
                    throw reservedFlags(type, flags, version);
                }
            }
        }
        return type;
    }

    private static MalformedPacketException reservedFlags(PacketType type, int flags, MqttVersion version) {
        return malformed(rule(version, "MQTT-2.2.2-1", "MQTT-2.1.3-1"),
                "invalid fixed header flags 0x" + Integer.toHexString(flags) + " for " + type);
    }

    /**
     * Reads the fixed header at the buffer's reader index without moving it, checking the first byte and the
     * remaining length's encoding (at most 4 bytes; in MQTT 5.0 also the fewest bytes [MQTT-1.5.5-1]). A 4th length
     * byte with its continuation bit set is rejected at once, without waiting for a 5th.
     *
     * @return {@link #NEED_MORE}, or the header length (1 + bytes of the remaining length) in the upper 32 bits and
     *         the remaining length in the lower 32 bits
     */
    static long peekFixedHeader(ByteBuf in, MqttVersion version) throws MalformedPacketException {
        int start = in.readerIndex();
        if (!in.isReadable()) {
            return NEED_MORE;
        }
        checkFixedHeader(in.getUnsignedByte(start), version);
        int value = 0;
        for (int i = 0; i < 4; i++) {
            int index = start + 1 + i;
            if (index >= in.writerIndex()) {
                return NEED_MORE;
            }
            int b = in.getUnsignedByte(index);
            value |= (b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0) {
                if (version.isV5() && b == 0 && i > 0) {
                    throw malformed("MQTT-1.5.5-1", "remaining length is not encoded in the fewest bytes");
                }
                return ((long) (i + 2) << 32) | value;
            }
        }
        throw malformed(null, "remaining length is longer than 4 bytes");
    }

    static int headerLength(long header) {
        return (int) (header >>> 32);
    }

    static int remainingLength(long header) {
        return (int) header;
    }

    /**
     * Looks at a CONNECT body (from {@code index}) for the version it asks for, without validating anything else.
     *
     * @return the version, or null if the bytes are not there or name no version we speak
     */
    static MqttVersion peekConnectVersion(ByteBuf buf, int index) {
        int end = buf.writerIndex();
        if (end - index < 2) {
            return null;
        }
        int nameLength = buf.getUnsignedShort(index);
        if (nameLength > 6 || end - index < 2 + nameLength + 1) {
            return null;
        }
        String name = buf.toString(index + 2, nameLength, StandardCharsets.US_ASCII);
        return MqttVersion.of(name, buf.getUnsignedByte(index + 2 + nameLength));
    }

    // ----- server to client -----

    private static Connack decodeConnack(ByteBuf body, MqttVersion version) throws MalformedPacketException {
        int ackFlags = readByte(body, "connect acknowledge flags");
        boolean sessionPresent;
        if (version == MqttVersion.MQTT_3_1) {
            sessionPresent = false; // 3.1 had no flags here, just an unused byte
        } else {
            if ((ackFlags & 0xFE) != 0) {
                throw malformed(rule(version, null, "MQTT-3.2.2-1"), "CONNACK reserved flag bits are set");
            }
            sessionPresent = (ackFlags & 0x01) != 0;
        }
        int reasonCode = readByte(body, "CONNACK return code");
        MqttProperties properties = version.isV5() ? PropertiesCodec.decode(body, PropertyId.Where.CONNACK)
                : MqttProperties.EMPTY;
        return new Connack(sessionPresent, reasonCode, properties);
    }

    private static Suback decodeSuback(ByteBuf body, MqttVersion version) throws MalformedPacketException {
        int packetId = readPacketId(body, version);
        MqttProperties properties = version.isV5() ? PropertiesCodec.decode(body, PropertyId.Where.SUBACK)
                : MqttProperties.EMPTY;
        List<Integer> codes = readReasonCodes(body, "SUBACK");
        if (!version.isV5()) {
            for (int code : codes) {
                if (code > 2 && code != ReasonCode.V3_SUBACK_FAILURE) {
                    throw malformed("MQTT-3.9.3-2", "reserved SUBACK return code 0x" + Integer.toHexString(code));
                }
            }
        }
        return new Suback(packetId, codes, properties);
    }

    private static Unsuback decodeUnsuback(ByteBuf body, MqttVersion version) throws MalformedPacketException {
        int packetId = readPacketId(body, version);
        if (!version.isV5()) {
            return new Unsuback(packetId);
        }
        MqttProperties properties = PropertiesCodec.decode(body, PropertyId.Where.UNSUBACK);
        return new Unsuback(packetId, readReasonCodes(body, "UNSUBACK"), properties);
    }

    /** The rest of a SUBACK/UNSUBACK: one code per topic filter of the request, so at least one. */
    private static List<Integer> readReasonCodes(ByteBuf body, String packet) throws MalformedPacketException {
        if (!body.isReadable()) {
            throw malformed(null, packet + " has no reason codes");
        }
        List<Integer> codes = new ArrayList<>(body.readableBytes());
        while (body.isReadable()) {
            codes.add((int) body.readUnsignedByte());
        }
        return codes;
    }

    // ----- both directions -----

    private static Publish decodePublish(int flags, ByteBuf body, MqttVersion version)
            throws MalformedPacketException {
        boolean dup = (flags & 0x08) != 0;
        QoS qos = QoS.of((flags >>> 1) & 0x03); // 3 was refused by checkFixedHeader
        boolean retain = (flags & 0x01) != 0;
        String topic = readUtf8(body, version, "topic name");
        int packetId = qos == QoS.AT_MOST_ONCE ? 0 : readPacketId(body, version);
        MqttProperties properties = version.isV5() ? PropertiesCodec.decode(body, PropertyId.Where.PUBLISH)
                : MqttProperties.EMPTY;
        checkPublishTopic(topic, properties, version);
        byte[] payload = WireReader.readRest(body, body.readableBytes());
        return new Publish(topic, qos, retain, dup, packetId, payload, properties);
    }

    private static void checkPublishTopic(String topic, MqttProperties properties, MqttVersion version)
            throws MalformedPacketException {
        if (TopicSyntax.hasWildcard(topic)) {
            throw new MalformedPacketException(version.isV5() ? ReasonCode.TOPIC_NAME_INVALID
                    : ReasonCode.MALFORMED_PACKET, "MQTT-3.3.2-2", "PUBLISH topic name contains a wildcard");
        }
        if (topic.isEmpty()) {
            if (!version.isV5()) {
                throw malformed("MQTT-4.7.3-1", "PUBLISH topic name is empty");
            }
            if (!properties.contains(PropertyId.TOPIC_ALIAS)) {
                throw protocolError(null, "PUBLISH topic name is empty and there is no Topic Alias");
            }
        }
    }

    private record Ack(int packetId, int reasonCode, MqttProperties properties) {
    }

    /**
     * PUBACK, PUBREC, PUBREL and PUBCOMP. MQTT 3.x: just the packet identifier. MQTT 5.0 may also omit the reason
     * code (remaining length 2 means Success) and the property length (remaining length 3 means no properties).
     */
    private static Ack decodeAck(ByteBuf body, MqttVersion version, PropertyId.Where where)
            throws MalformedPacketException {
        int packetId = readPacketId(body, version);
        if (!version.isV5() || !body.isReadable()) {
            return new Ack(packetId, ReasonCode.SUCCESS, MqttProperties.EMPTY);
        }
        int reasonCode = body.readUnsignedByte();
        MqttProperties properties = body.isReadable() ? PropertiesCodec.decode(body, where) : MqttProperties.EMPTY;
        return new Ack(packetId, reasonCode, properties);
    }

    /** MQTT 5.0 may omit the reason code (remaining length 0: normal disconnection) and the property length. */
    private static Disconnect decodeDisconnect(ByteBuf body, MqttVersion version) throws MalformedPacketException {
        if (!version.isV5() || !body.isReadable()) {
            return Disconnect.NORMAL; // a 3.x DISCONNECT with a body is refused by decodeBody's trailing-bytes check
        }
        int reasonCode = body.readUnsignedByte();
        MqttProperties properties = body.isReadable() ? PropertiesCodec.decode(body, PropertyId.Where.DISCONNECT)
                : MqttProperties.EMPTY;
        return new Disconnect(reasonCode, properties);
    }

    /** AUTH may omit reason code and properties (remaining length 0: Success); a lone reason code is tolerated. */
    private static Auth decodeAuth(ByteBuf body) throws MalformedPacketException {
        if (!body.isReadable()) {
            return new Auth(ReasonCode.SUCCESS, MqttProperties.EMPTY);
        }
        int reasonCode = body.readUnsignedByte();
        MqttProperties properties = body.isReadable() ? PropertiesCodec.decode(body, PropertyId.Where.AUTH)
                : MqttProperties.EMPTY;
        return new Auth(reasonCode, properties);
    }
}
