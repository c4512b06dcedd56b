package io.ternmq.codec;

import java.util.EnumSet;
import java.util.Set;

/**
 * MQTT 5.0 properties (section 2.2.2.2), their wire type and the packets that may carry them. {@link #WILL} stands
 * for the will properties inside CONNECT's payload, which have their own allowed set.
 */
public enum PropertyId {
    PAYLOAD_FORMAT_INDICATOR(0x01, Type.BYTE, Where.PUBLISH, Where.WILL),
    MESSAGE_EXPIRY_INTERVAL(0x02, Type.FOUR_BYTE_INT, Where.PUBLISH, Where.WILL),
    CONTENT_TYPE(0x03, Type.UTF8, Where.PUBLISH, Where.WILL),
    RESPONSE_TOPIC(0x08, Type.UTF8, Where.PUBLISH, Where.WILL),
    CORRELATION_DATA(0x09, Type.BINARY, Where.PUBLISH, Where.WILL),
    SUBSCRIPTION_IDENTIFIER(0x0B, Type.VARIABLE_BYTE_INT, Where.PUBLISH, Where.SUBSCRIBE),
    SESSION_EXPIRY_INTERVAL(0x11, Type.FOUR_BYTE_INT, Where.CONNECT, Where.CONNACK, Where.DISCONNECT),
    ASSIGNED_CLIENT_IDENTIFIER(0x12, Type.UTF8, Where.CONNACK),
    SERVER_KEEP_ALIVE(0x13, Type.TWO_BYTE_INT, Where.CONNACK),
    AUTHENTICATION_METHOD(0x15, Type.UTF8, Where.CONNECT, Where.CONNACK, Where.AUTH),
    AUTHENTICATION_DATA(0x16, Type.BINARY, Where.CONNECT, Where.CONNACK, Where.AUTH),
    REQUEST_PROBLEM_INFORMATION(0x17, Type.BYTE, Where.CONNECT),
    WILL_DELAY_INTERVAL(0x18, Type.FOUR_BYTE_INT, Where.WILL),
    REQUEST_RESPONSE_INFORMATION(0x19, Type.BYTE, Where.CONNECT),
    RESPONSE_INFORMATION(0x1A, Type.UTF8, Where.CONNACK),
    SERVER_REFERENCE(0x1C, Type.UTF8, Where.CONNACK, Where.DISCONNECT),
    REASON_STRING(0x1F, Type.UTF8, Where.CONNACK, Where.PUBACK, Where.PUBREC, Where.PUBREL, Where.PUBCOMP,
            Where.SUBACK, Where.UNSUBACK, Where.DISCONNECT, Where.AUTH),
    RECEIVE_MAXIMUM(0x21, Type.TWO_BYTE_INT, Where.CONNECT, Where.CONNACK),
    TOPIC_ALIAS_MAXIMUM(0x22, Type.TWO_BYTE_INT, Where.CONNECT, Where.CONNACK),
    TOPIC_ALIAS(0x23, Type.TWO_BYTE_INT, Where.PUBLISH),
    MAXIMUM_QOS(0x24, Type.BYTE, Where.CONNACK),
    RETAIN_AVAILABLE(0x25, Type.BYTE, Where.CONNACK),
    USER_PROPERTY(0x26, Type.UTF8_PAIR, Where.values()),
    MAXIMUM_PACKET_SIZE(0x27, Type.FOUR_BYTE_INT, Where.CONNECT, Where.CONNACK),
    WILDCARD_SUBSCRIPTION_AVAILABLE(0x28, Type.BYTE, Where.CONNACK),
    SUBSCRIPTION_IDENTIFIER_AVAILABLE(0x29, Type.BYTE, Where.CONNACK),
    SHARED_SUBSCRIPTION_AVAILABLE(0x2A, Type.BYTE, Where.CONNACK);

    /** Wire encodings of property values. */
    public enum Type {
        /** one byte, held as Integer */
        BYTE,
        /** big-endian 16 bits, held as Integer */
        TWO_BYTE_INT,
        /** big-endian unsigned 32 bits, held as Long */
        FOUR_BYTE_INT,
        /** variable byte integer, held as Integer */
        VARIABLE_BYTE_INT,
        /** UTF-8 string, held as String */
        UTF8,
        /** length-prefixed binary, held as byte[] */
        BINARY,
        /** UTF-8 string pair, held as {@link UserProperty} */
        UTF8_PAIR
    }

    /** Places a property may appear: the packet types that carry properties, plus the will in CONNECT. */
    public enum Where {
        CONNECT, CONNACK, PUBLISH, WILL, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK,
        DISCONNECT, AUTH;

        public static Where of(PacketType type) {
            return switch (type) {
                case CONNECT -> CONNECT;
                case CONNACK -> CONNACK;
                case PUBLISH -> PUBLISH;
                case PUBACK -> PUBACK;
                case PUBREC -> PUBREC;
                case PUBREL -> PUBREL;
                case PUBCOMP -> PUBCOMP;
                case SUBSCRIBE -> SUBSCRIBE;
                case SUBACK -> SUBACK;
                case UNSUBSCRIBE -> UNSUBSCRIBE;
                case UNSUBACK -> UNSUBACK;
                case DISCONNECT -> DISCONNECT;
                case AUTH -> AUTH;
                case PINGREQ, PINGRESP -> throw new IllegalArgumentException(type + " has no properties");
            };
        }
    }

    static final int MAX_ID = 0x2A;
    private static final PropertyId[] BY_ID = new PropertyId[MAX_ID + 1];

    static {
        for (PropertyId p : values()) {
            BY_ID[p.id] = p;
        }
    }

    private final int id;
    private final Type type;
    private final Set<Where> allowedIn;

    PropertyId(int id, Type type, Where... allowedIn) {
        this.id = id;
        this.type = type;
        this.allowedIn = EnumSet.noneOf(Where.class);
        for (Where w : allowedIn) {
            this.allowedIn.add(w);
        }
    }

    public int id() {
        return id;
    }

    public Type valueType() {
        return type;
    }

    public boolean allowedIn(Where where) {
        return allowedIn.contains(where);
    }

    /** @return the property with this identifier, or null if none has it */
    public static PropertyId of(int id) {
        return id >= 0 && id <= MAX_ID ? BY_ID[id] : null;
    }
}
