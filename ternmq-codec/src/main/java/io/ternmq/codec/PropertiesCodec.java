package io.ternmq.codec;

import static io.ternmq.codec.WireReader.malformed;
import static io.ternmq.codec.WireReader.protocolError;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

/** MQTT 5.0 properties on the wire (section 2.2.2): a variable byte integer length, then identifier/value pairs. */
final class PropertiesCodec {
    private static final int MAX_VARIABLE_BYTE_INT = 268_435_455;

    private PropertiesCodec() {
    }

    /**
     * Reads a property length and the properties it covers, checking each is allowed in {@code where}, appears at
     * most once where the spec says so, and holds a value the spec allows.
     */
    static MqttProperties decode(ByteBuf buf, PropertyId.Where where) throws MalformedPacketException {
        int length = WireReader.readVariableByteInt(buf, "property length");
        if (length > buf.readableBytes()) {
            throw malformed(null, "property length " + length + " exceeds the rest of the packet");
        }
        if (length == 0) {
            return MqttProperties.EMPTY;
        }
        // Reading from a slice bounds every value by the property length, not just by the packet.
        ByteBuf props = buf.readSlice(length);
        MqttProperties.Builder builder = MqttProperties.builder();
        while (props.isReadable()) {
            int id = WireReader.readVariableByteInt(props, "property identifier");
            PropertyId property = PropertyId.of(id);
            if (property == null) {
                throw malformed(null, "unknown property identifier 0x" + Integer.toHexString(id));
            }
            if (!property.allowedIn(where)) {
                throw malformed(null, property + " is not allowed in " + where);
            }
            if (builder.contains(property) && !repeatable(property, where)) {
                throw protocolError(null, property + " is included more than once");
            }
            read(props, property, where, builder);
        }
        if (builder.contains(PropertyId.AUTHENTICATION_DATA) && !builder.contains(PropertyId.AUTHENTICATION_METHOD)) {
            throw protocolError(null, "Authentication Data without an Authentication Method");
        }
        return builder.build();
    }

    /** User Property may repeat anywhere; Subscription Identifier only in PUBLISH (one per matching subscription). */
    private static boolean repeatable(PropertyId property, PropertyId.Where where) {
        return property == PropertyId.USER_PROPERTY
                || property == PropertyId.SUBSCRIPTION_IDENTIFIER && where == PropertyId.Where.PUBLISH;
    }

    private static void read(ByteBuf buf, PropertyId property, PropertyId.Where where, MqttProperties.Builder builder)
            throws MalformedPacketException {
        String name = property.toString();
        switch (property.valueType()) {
            case BYTE -> builder.set(property, checkByte(property, WireReader.readByte(buf, name)));
            case TWO_BYTE_INT -> builder.set(property, checkTwoByteInt(property, WireReader.readTwoByteInt(buf, name)));
            case FOUR_BYTE_INT -> builder.set(property, checkFourByteInt(property, WireReader.readFourByteInt(buf, name)));
            case VARIABLE_BYTE_INT -> {
                // the only one is Subscription Identifier, which may not be 0 (section 3.3.2.3.8, 3.8.2.1.2)
                int value = WireReader.readVariableByteInt(buf, name);
                if (value == 0) {
                    throw protocolError(null, "Subscription Identifier is 0");
                }
                builder.subscriptionIdentifier(value);
            }
            case UTF8 -> builder.set(property, checkString(property, where,
                    WireReader.readUtf8(buf, MqttVersion.MQTT_5, name)));
            case BINARY -> builder.set(property, WireReader.readBinary(buf, name));
            case UTF8_PAIR -> builder.userProperty(WireReader.readUtf8(buf, MqttVersion.MQTT_5, "User Property name"),
                    WireReader.readUtf8(buf, MqttVersion.MQTT_5, "User Property value"));
        }
    }

    /** Every BYTE property is a 0/1 flag, Maximum QoS included (2 is expressed by leaving it out). */
    private static Integer checkByte(PropertyId property, int value) throws MalformedPacketException {
        if (value > 1) {
            throw protocolError(null, property + " must be 0 or 1, not " + value);
        }
        return value;
    }

    private static Integer checkTwoByteInt(PropertyId property, int value) throws MalformedPacketException {
        if (value == 0 && property == PropertyId.RECEIVE_MAXIMUM) {
            throw protocolError(null, "Receive Maximum is 0");
        }
        if (value == 0 && property == PropertyId.TOPIC_ALIAS) {
            throw new MalformedPacketException(ReasonCode.TOPIC_ALIAS_INVALID, "MQTT-3.3.2-8", "Topic Alias is 0");
        }
        return value;
    }

    private static Long checkFourByteInt(PropertyId property, long value) throws MalformedPacketException {
        if (value == 0 && property == PropertyId.MAXIMUM_PACKET_SIZE) {
            throw protocolError(null, "Maximum Packet Size is 0");
        }
        return value;
    }

    private static String checkString(PropertyId property, PropertyId.Where where, String value)
            throws MalformedPacketException {
        if (property == PropertyId.RESPONSE_TOPIC && TopicSyntax.hasWildcard(value)) {
            throw protocolError(where == PropertyId.Where.PUBLISH ? "MQTT-3.3.2-14" : null,
                    "Response Topic contains a wildcard");
        }
        return value;
    }

    // ----- encoding -----

    /** @return the bytes of the properties themselves, without the property length in front */
    static int length(MqttProperties properties) {
        if (properties.isEmpty()) {
            return 0;
        }
        int[] length = {0};
        properties.forEachSingle((id, value) -> length[0] += 1 + valueLength(id, value));
        for (int i = 0; i < properties.subscriptionIdentifierCount(); i++) {
            length[0] += 1 + variableByteIntSize(properties.subscriptionIdentifier(i));
        }
        for (UserProperty up : properties.userProperties()) {
            length[0] += 1 + utf8Size(up.name()) + utf8Size(up.value());
        }
        return length[0];
    }

    /** @return the property length field plus the properties */
    static int fieldLength(MqttProperties properties) {
        int length = length(properties);
        return variableByteIntSize(length) + length;
    }

    /**
     * Writes the property length and the properties: single-valued ones in identifier order, then subscription
     * identifiers, then user properties in their order (the order of different identifiers carries no meaning).
     */
    static void write(ByteBuf out, MqttProperties properties) {
        writeVariableByteInt(out, length(properties));
        if (properties.isEmpty()) {
            return;
        }
        properties.forEachSingle((id, value) -> {
            out.writeByte(id.id());
            writeValue(out, id, value);
        });
        for (int i = 0; i < properties.subscriptionIdentifierCount(); i++) {
            out.writeByte(PropertyId.SUBSCRIPTION_IDENTIFIER.id());
            writeVariableByteInt(out, properties.subscriptionIdentifier(i));
        }
        for (UserProperty up : properties.userProperties()) {
            out.writeByte(PropertyId.USER_PROPERTY.id());
            writeUtf8(out, up.name());
            writeUtf8(out, up.value());
        }
    }

    private static int valueLength(PropertyId id, Object value) {
        return switch (id.valueType()) {
            case BYTE -> 1;
            case TWO_BYTE_INT -> 2;
            case FOUR_BYTE_INT -> 4;
            case VARIABLE_BYTE_INT -> variableByteIntSize((Integer) value);
            case UTF8 -> utf8Size((String) value);
            case BINARY -> binarySize((byte[]) value);
            case UTF8_PAIR -> throw new IllegalStateException("user properties are not single-valued");
        };
    }

    private static void writeValue(ByteBuf out, PropertyId id, Object value) {
        switch (id.valueType()) {
            case BYTE -> out.writeByte(checkRange(id, (Integer) value, 0xFF));
            case TWO_BYTE_INT -> out.writeShort(checkRange(id, (Integer) value, 0xFFFF));
            case FOUR_BYTE_INT -> {
                long v = (Long) value;
                if (v < 0 || v > 0xFFFF_FFFFL) {
                    throw new IllegalArgumentException(id + " out of range: " + v);
                }
                out.writeInt((int) v);
            }
            case VARIABLE_BYTE_INT -> writeVariableByteInt(out, (Integer) value);
            case UTF8 -> writeUtf8(out, (String) value);
            case BINARY -> writeBinary(out, (byte[]) value);
            case UTF8_PAIR -> throw new IllegalStateException("user properties are not single-valued");
        }
    }

    private static int checkRange(PropertyId id, int value, int max) {
        if (value < 0 || value > max) {
            throw new IllegalArgumentException(id + " out of range: " + value);
        }
        return value;
    }

    // ----- primitive writers shared with the packet encoder -----

    static int variableByteIntSize(int value) {
        if (value < 0 || value > MAX_VARIABLE_BYTE_INT) {
            throw new IllegalArgumentException("variable byte integer out of range: " + value);
        }
        return value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4;
    }

    static void writeVariableByteInt(ByteBuf out, int value) {
        variableByteIntSize(value); // range check
        do {
            int b = value & 0x7F;
            value >>>= 7;
            out.writeByte(value > 0 ? b | 0x80 : b);
        } while (value > 0);
    }

    /** @return the two-byte length plus the UTF-8 bytes */
    static int utf8Size(String s) {
        int bytes = ByteBufUtil.utf8Bytes(s);
        if (bytes > 0xFFFF) {
            throw new IllegalArgumentException("string longer than 65535 UTF-8 bytes");
        }
        return 2 + bytes;
    }

    static void writeUtf8(ByteBuf out, String s) {
        int lengthIndex = out.writerIndex();
        out.writeShort(0);
        int written = ByteBufUtil.writeUtf8(out, s);
        if (written > 0xFFFF) {
            throw new IllegalArgumentException("string longer than 65535 UTF-8 bytes");
        }
        out.setShort(lengthIndex, written);
    }

    static int binarySize(byte[] bytes) {
        if (bytes.length > 0xFFFF) {
            throw new IllegalArgumentException("binary data longer than 65535 bytes");
        }
        return 2 + bytes.length;
    }

    static void writeBinary(ByteBuf out, byte[] bytes) {
        binarySize(bytes); // range check
        out.writeShort(bytes.length);
        out.writeBytes(bytes);
    }
}
