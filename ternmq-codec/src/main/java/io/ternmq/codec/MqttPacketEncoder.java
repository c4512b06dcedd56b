package io.ternmq.codec;

import static io.ternmq.codec.PropertiesCodec.binarySize;
import static io.ternmq.codec.PropertiesCodec.utf8Size;
import static io.ternmq.codec.PropertiesCodec.variableByteIntSize;
import static io.ternmq.codec.PropertiesCodec.writeBinary;
import static io.ternmq.codec.PropertiesCodec.writeUtf8;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.util.List;

/**
 * Encodes packets for MQTT 3.1, 3.1.1 and 5.0. In 3.x, reason codes and properties do not exist and are not written
 * (SUBACK return codes and the CONNACK return code are). In 5.0 the shortest form the spec allows is used: PUBACK,
 * PUBREC, PUBREL and PUBCOMP with Success and no properties have remaining length 2, DISCONNECT and AUTH with
 * Success/Normal and no properties have remaining length 0.
 * <p>
 * The encoder writes what the packet says, even where that breaks a protocol rule (QoS 0 with DUP, a 3.x password
 * without user name...): checking is the decoder's job, and tests need to produce such packets. It only refuses what
 * cannot be represented (strings over 65,535 bytes, packets over the largest remaining length, AUTH in 3.x) with an
 * {@link IllegalArgumentException}. CONNECT is always encoded in the version it carries.
 */
public final class MqttPacketEncoder {
    private MqttPacketEncoder() {
    }

    /** @return a new buffer, sized exactly, holding the whole packet; the caller owns (and releases) it */
    public static ByteBuf encode(ByteBufAllocator alloc, MqttPacket packet, MqttVersion version) {
        int remainingLength = remainingLength(packet, version);
        int size = 1 + variableByteIntSize(remainingLength) + remainingLength;
        ByteBuf out = alloc.buffer(size);
        try {
            write(out, packet, version, remainingLength);
            return out;
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }

    /**
     * A PUBLISH up to its payload: fixed header (whose remaining length counts the payload), topic, packet identifier
     * and properties. Sent with the payload's bytes right behind it, it is the whole packet; this lets one copy of the
     * payload serve every receiver while each gets its own few header bytes.
     *
     * @return a new buffer, sized exactly; the caller owns (and releases) it
     */
    public static ByteBuf encodePublishHeader(ByteBufAllocator alloc, Publish publish, MqttVersion version) {
        int remainingLength = remainingLength(publish, version);
        int size = 1 + variableByteIntSize(remainingLength) + remainingLength - publish.payload().length;
        ByteBuf out = alloc.buffer(size);
        try {
            out.writeByte(firstByte(publish));
            PropertiesCodec.writeVariableByteInt(out, remainingLength);
            writePublishHeader(out, publish, version.isV5());
            return out;
        } catch (RuntimeException e) {
            out.release();
            throw e;
        }
    }

    /** Appends the whole packet to {@code out}; if it cannot be encoded, {@code out} is left as it was. */
    public static void encode(ByteBuf out, MqttPacket packet, MqttVersion version) {
        int remainingLength = remainingLength(packet, version);
        int writerIndex = out.writerIndex();
        try {
            write(out, packet, version, remainingLength);
        } catch (RuntimeException e) {
            out.writerIndex(writerIndex);
            throw e;
        }
    }

    /** @return the bytes the whole packet takes on the wire, fixed header included */
    public static int encodedSize(MqttPacket packet, MqttVersion version) {
        int remainingLength = remainingLength(packet, version);
        return 1 + variableByteIntSize(remainingLength) + remainingLength;
    }

    private static void write(ByteBuf out, MqttPacket packet, MqttVersion version, int remainingLength) {
        out.writeByte(firstByte(packet));
        PropertiesCodec.writeVariableByteInt(out, remainingLength);
        boolean v5 = version.isV5();
        switch (packet.type()) {
            case CONNECT -> writeConnect(out, (Connect) packet);
            case CONNACK -> {
                Connack c = (Connack) packet;
                // 3.1 has no session present flag; the byte was an unused "topic name compression response"
                out.writeByte(c.sessionPresent() && version != MqttVersion.MQTT_3_1 ? 1 : 0);
                out.writeByte(c.reasonCode());
                writeProperties(out, c.properties(), v5);
            }
            case PUBLISH -> {
                Publish p = (Publish) packet;
                writePublishHeader(out, p, v5);
                out.writeBytes(p.payload());
            }
            case PUBACK -> writeAck(out, ((Puback) packet).packetId(), ((Puback) packet).reasonCode(),
                    ((Puback) packet).properties(), v5);
            case PUBREC -> writeAck(out, ((Pubrec) packet).packetId(), ((Pubrec) packet).reasonCode(),
                    ((Pubrec) packet).properties(), v5);
            case PUBREL -> writeAck(out, ((Pubrel) packet).packetId(), ((Pubrel) packet).reasonCode(),
                    ((Pubrel) packet).properties(), v5);
            case PUBCOMP -> writeAck(out, ((Pubcomp) packet).packetId(), ((Pubcomp) packet).reasonCode(),
                    ((Pubcomp) packet).properties(), v5);
            case SUBSCRIBE -> {
                Subscribe s = (Subscribe) packet;
                out.writeShort(checkUnsigned16(s.packetId(), "packet identifier"));
                writeProperties(out, s.properties(), v5);
                for (TopicSubscription ts : s.subscriptions()) {
                    writeUtf8(out, ts.filter());
                    out.writeByte(v5 ? options5(ts) : ts.qos().value());
                }
            }
            case SUBACK -> {
                Suback s = (Suback) packet;
                out.writeShort(checkUnsigned16(s.packetId(), "packet identifier"));
                writeProperties(out, s.properties(), v5);
                writeCodes(out, s.reasonCodes());
            }
            case UNSUBSCRIBE -> {
                Unsubscribe u = (Unsubscribe) packet;
                out.writeShort(checkUnsigned16(u.packetId(), "packet identifier"));
                writeProperties(out, u.properties(), v5);
                for (String filter : u.filters()) {
                    writeUtf8(out, filter);
                }
            }
            case UNSUBACK -> {
                Unsuback u = (Unsuback) packet;
                out.writeShort(checkUnsigned16(u.packetId(), "packet identifier"));
                if (v5) {
                    PropertiesCodec.write(out, u.properties());
                    writeCodes(out, u.reasonCodes());
                }
            }
            case PINGREQ, PINGRESP -> {
                // no variable header, no payload
            }
            case DISCONNECT -> {
                Disconnect d = (Disconnect) packet;
                if (v5 && !isShortDisconnect(d)) {
                    out.writeByte(d.reasonCode());
                    if (!d.properties().isEmpty()) {
                        PropertiesCodec.write(out, d.properties());
                    }
                }
            }
            case AUTH -> {
                Auth a = (Auth) packet;
                if (!isShortAuth(a)) {
                    out.writeByte(a.reasonCode());
                    PropertiesCodec.write(out, a.properties());
                }
            }
        }
    }

    private static void writePublishHeader(ByteBuf out, Publish p, boolean v5) {
        writeUtf8(out, p.topic());
        if (p.qos() != QoS.AT_MOST_ONCE) {
            out.writeShort(checkUnsigned16(p.packetId(), "packet identifier"));
        }
        writeProperties(out, p.properties(), v5);
    }

    private static int firstByte(MqttPacket packet) {
        int type = packet.type().value() << 4;
        return switch (packet.type()) {
            case PUBLISH -> {
                Publish p = (Publish) packet;
                yield type | (p.dup() ? 0x08 : 0) | p.qos().value() << 1 | (p.retain() ? 0x01 : 0);
            }
            case PUBREL, SUBSCRIBE, UNSUBSCRIBE -> type | 0x02;
            default -> type;
        };
    }

    private static int remainingLength(MqttPacket packet, MqttVersion version) {
        boolean v5 = version.isV5();
        long length = switch (packet.type()) {
            case CONNECT -> connectLength((Connect) packet);
            case CONNACK -> 2 + propertiesLength(((Connack) packet).properties(), v5);
            case PUBLISH -> {
                Publish p = (Publish) packet;
                yield (long) utf8Size(p.topic()) + (p.qos() == QoS.AT_MOST_ONCE ? 0 : 2)
                        + propertiesLength(p.properties(), v5) + p.payload().length;
            }
            case PUBACK -> ackLength(((Puback) packet).reasonCode(), ((Puback) packet).properties(), v5);
            case PUBREC -> ackLength(((Pubrec) packet).reasonCode(), ((Pubrec) packet).properties(), v5);
            case PUBREL -> ackLength(((Pubrel) packet).reasonCode(), ((Pubrel) packet).properties(), v5);
            case PUBCOMP -> ackLength(((Pubcomp) packet).reasonCode(), ((Pubcomp) packet).properties(), v5);
            case SUBSCRIBE -> {
                Subscribe s = (Subscribe) packet;
                long l = 2 + propertiesLength(s.properties(), v5);
                for (TopicSubscription ts : s.subscriptions()) {
                    l += utf8Size(ts.filter()) + 1;
                }
                yield l;
            }
            case SUBACK -> {
                Suback s = (Suback) packet;
                yield 2 + propertiesLength(s.properties(), v5) + s.reasonCodes().size();
            }
            case UNSUBSCRIBE -> {
                Unsubscribe u = (Unsubscribe) packet;
                long l = 2 + propertiesLength(u.properties(), v5);
                for (String filter : u.filters()) {
                    l += utf8Size(filter);
                }
                yield l;
            }
            case UNSUBACK -> {
                Unsuback u = (Unsuback) packet;
                yield v5 ? 2 + PropertiesCodec.fieldLength(u.properties()) + u.reasonCodes().size() : 2;
            }
            case PINGREQ, PINGRESP -> 0;
            case DISCONNECT -> {
                Disconnect d = (Disconnect) packet;
                if (!v5 || isShortDisconnect(d)) {
                    yield 0;
                }
                yield d.properties().isEmpty() ? 1 : 1 + PropertiesCodec.fieldLength(d.properties());
            }
            case AUTH -> {
                if (!v5) {
                    throw new IllegalArgumentException("AUTH exists only in MQTT 5.0");
                }
                Auth a = (Auth) packet;
                yield isShortAuth(a) ? 0 : 1 + PropertiesCodec.fieldLength(a.properties());
            }
        };
        if (length > MqttPacketDecoder.MAX_REMAINING_LENGTH) {
            throw new IllegalArgumentException(packet.type() + " too large to encode: remaining length " + length);
        }
        return (int) length;
    }

    private static long connectLength(Connect c) {
        MqttVersion v = c.version();
        boolean v5 = v.isV5();
        long length = utf8Size(v.protocolName()) + 1 + 1 + 2 // name, level, flags, keep alive
                + propertiesLength(c.properties(), v5) + utf8Size(c.clientId());
        Will will = c.will();
        if (will != null) {
            length += propertiesLength(will.properties(), v5) + utf8Size(will.topic()) + binarySize(will.payload());
        }
        if (c.username() != null) {
            length += utf8Size(c.username());
        }
        if (c.password() != null) {
            length += binarySize(c.password());
        }
        return length;
    }

    private static void writeConnect(ByteBuf out, Connect c) {
        MqttVersion v = c.version();
        boolean v5 = v.isV5();
        writeUtf8(out, v.protocolName());
        out.writeByte(v.level() | (c.bridge() ? Connect.BRIDGE_LEVEL_BIT : 0));
        Will will = c.will();
        int flags = (c.cleanStart() ? 0x02 : 0) | (c.username() != null ? 0x80 : 0) | (c.password() != null ? 0x40 : 0);
        if (will != null) {
            flags |= 0x04 | will.qos().value() << 3 | (will.retain() ? 0x20 : 0);
        }
        out.writeByte(flags);
        out.writeShort(checkUnsigned16(c.keepAliveSeconds(), "keep alive"));
        writeProperties(out, c.properties(), v5);
        writeUtf8(out, c.clientId());
        if (will != null) {
            writeProperties(out, will.properties(), v5);
            writeUtf8(out, will.topic());
            writeBinary(out, will.payload());
        }
        if (c.username() != null) {
            writeUtf8(out, c.username());
        }
        if (c.password() != null) {
            writeBinary(out, c.password());
        }
    }

    /** PUBACK, PUBREC, PUBREL, PUBCOMP: packet id, then (5.0 only, when needed) reason code and properties. */
    private static long ackLength(int reasonCode, MqttProperties properties, boolean v5) {
        if (!v5 || reasonCode == ReasonCode.SUCCESS && properties.isEmpty()) {
            return 2;
        }
        return properties.isEmpty() ? 3 : 3 + PropertiesCodec.fieldLength(properties);
    }

    private static void writeAck(ByteBuf out, int packetId, int reasonCode, MqttProperties properties, boolean v5) {
        out.writeShort(checkUnsigned16(packetId, "packet identifier"));
        if (!v5 || reasonCode == ReasonCode.SUCCESS && properties.isEmpty()) {
            return;
        }
        out.writeByte(reasonCode);
        if (!properties.isEmpty()) {
            PropertiesCodec.write(out, properties);
        }
    }

    private static boolean isShortDisconnect(Disconnect d) {
        return d.reasonCode() == ReasonCode.NORMAL_DISCONNECTION && d.properties().isEmpty();
    }

    private static boolean isShortAuth(Auth a) {
        return a.reasonCode() == ReasonCode.SUCCESS && a.properties().isEmpty();
    }

    private static int options5(TopicSubscription ts) {
        return ts.qos().value() | (ts.noLocal() ? 0x04 : 0) | (ts.retainAsPublished() ? 0x08 : 0)
                | (ts.retainHandling() & 0x03) << 4;
    }

    /** The property length field plus properties in 5.0, nothing in 3.x. */
    private static int propertiesLength(MqttProperties properties, boolean v5) {
        return v5 ? PropertiesCodec.fieldLength(properties) : 0;
    }

    private static void writeProperties(ByteBuf out, MqttProperties properties, boolean v5) {
        if (v5) {
            PropertiesCodec.write(out, properties);
        }
    }

    private static int checkUnsigned16(int value, String field) {
        if (value < 0 || value > 0xFFFF) {
            throw new IllegalArgumentException(field + " out of range: " + value);
        }
        return value;
    }

    private static void writeCodes(ByteBuf out, List<Integer> codes) {
        for (int code : codes) {
            out.writeByte(code);
        }
    }
}
