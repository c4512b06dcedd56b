package io.ternmq.codec;

import static io.ternmq.codec.WireReader.malformed;
import static io.ternmq.codec.WireReader.readByte;
import static io.ternmq.codec.WireReader.readTwoByteInt;
import static io.ternmq.codec.WireReader.readUtf8;
import static io.ternmq.codec.WireReader.rule;

import io.netty.buffer.ByteBuf;

/** CONNECT (3.1.1 section 3.1, 5.0 section 3.1). The packet names its own protocol version. */
final class ConnectDecoder {
    private static final int RESERVED = 0x01;
    private static final int CLEAN_START = 0x02;
    private static final int WILL = 0x04;
    private static final int WILL_RETAIN = 0x20;
    private static final int PASSWORD = 0x40;
    private static final int USERNAME = 0x80;

    private ConnectDecoder() {
    }

    static Connect decode(ByteBuf body) throws MalformedPacketException {
        boolean[] bridge = new boolean[1];
        MqttVersion version = readProtocol(body, bridge);
        int flags = readByte(body, "connect flags");
        checkFlags(flags, version);
        int keepAlive = readTwoByteInt(body, "keep alive");
        MqttProperties properties = version.isV5() ? PropertiesCodec.decode(body, PropertyId.Where.CONNECT)
                : MqttProperties.EMPTY;
        // The client id's rules (length, characters, empty with clean start) are the broker's.
        String clientId = readUtf8(body, version, "client identifier");
        Will will = (flags & WILL) != 0 ? readWill(body, flags, version) : null;
        String username = (flags & USERNAME) != 0 ? readUtf8(body, version, "user name") : null;
        // 3.1 sent the password as a UTF-8 string, 3.1.1 and 5.0 as binary data: both are length-prefixed bytes.
        byte[] password = (flags & PASSWORD) != 0 ? WireReader.readBinary(body, "password") : null;
        return new Connect(version, clientId, (flags & CLEAN_START) != 0, keepAlive, username, password, will,
                properties, bridge[0]);
    }

    /**
     * Protocol name and level. A name we know with a level we do not is answered with a CONNACK [MQTT-3.1.2-2]; an
     * unknown name may just be closed [MQTT-3.1.2-1].
     */
    private static MqttVersion readProtocol(ByteBuf body, boolean[] bridge) throws MalformedPacketException {
        // Before the level is known, string rules are those of 3.1.1; the wording is the same in 5.0.
        String name = readUtf8(body, MqttVersion.MQTT_3_1_1, "protocol name");
        int level = readByte(body, "protocol level");
        // Mosquitto's try_private: 0x83/0x84 are MQTT 3.1/3.1.1 from a bridge
        if (level == (Connect.BRIDGE_LEVEL_BIT | 3) || level == (Connect.BRIDGE_LEVEL_BIT | 4)) {
            bridge[0] = true;
            level &= ~Connect.BRIDGE_LEVEL_BIT;
        }
        MqttVersion version = MqttVersion.of(name, level);
        if (version != null) {
            return version;
        }
        for (MqttVersion v : MqttVersion.values()) {
            if (v.protocolName().equals(name)) {
                throw new UnsupportedProtocolVersionException(name, level);
            }
        }
        throw malformed("MQTT-3.1.2-1", "unknown protocol name \"" + name + "\"");
    }

    private static void checkFlags(int flags, MqttVersion version) throws MalformedPacketException {
        if ((flags & RESERVED) != 0) {
            throw malformed("MQTT-3.1.2-3", "CONNECT reserved flag is set");
        }
        int willQos = (flags >>> 3) & 0x03;
        if ((flags & WILL) == 0) {
            if (willQos != 0) {
                throw malformed(rule(version, "MQTT-3.1.2-13", "MQTT-3.1.2-11"), "Will QoS is set without a will");
            }
            if ((flags & WILL_RETAIN) != 0) {
                throw malformed(rule(version, "MQTT-3.1.2-15", "MQTT-3.1.2-13"), "Will Retain is set without a will");
            }
        } else if (willQos == 3) {
            throw malformed(rule(version, "MQTT-3.1.2-14", "MQTT-3.1.2-12"), "Will QoS 3");
        }
        // MQTT 5.0 allows a password without a user name.
        if (!version.isV5() && (flags & USERNAME) == 0 && (flags & PASSWORD) != 0) {
            throw malformed("MQTT-3.1.2-22", "password flag set without user name flag");
        }
    }

    private static Will readWill(ByteBuf body, int flags, MqttVersion version) throws MalformedPacketException {
        MqttProperties properties = version.isV5() ? PropertiesCodec.decode(body, PropertyId.Where.WILL)
                : MqttProperties.EMPTY;
        String topic = readUtf8(body, version, "will topic");
        if (!TopicSyntax.isValidTopicName(topic)) {
            // A will topic is a topic name: no wildcards [MQTT-4.7.1-1], at least one character [MQTT-4.7.3-1].
            String rule = topic.isEmpty() ? "MQTT-4.7.3-1" : "MQTT-4.7.1-1";
            throw new MalformedPacketException(version.isV5() ? ReasonCode.TOPIC_NAME_INVALID
                    : ReasonCode.MALFORMED_PACKET, rule, "invalid will topic \"" + topic + "\"");
        }
        byte[] payload = WireReader.readBinary(body, "will payload");
        QoS qos = QoS.of((flags >>> 3) & 0x03);
        return new Will(topic, payload, qos, (flags & WILL_RETAIN) != 0, properties);
    }
}
