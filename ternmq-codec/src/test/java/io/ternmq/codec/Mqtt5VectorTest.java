package io.ternmq.codec;

import static io.ternmq.codec.QoS.AT_LEAST_ONCE;
import static io.ternmq.codec.QoS.AT_MOST_ONCE;
import static io.ternmq.codec.QoS.EXACTLY_ONCE;
import static io.ternmq.codec.Wire.ascii;
import static io.ternmq.codec.Wire.assertSamePacket;
import static io.ternmq.codec.Wire.assertVector;
import static io.ternmq.codec.Wire.decode;
import static io.ternmq.codec.Wire.encode;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;

/**
 * Hand-written vectors for every packet type in MQTT 5.0. Properties are encoded single-valued ones first in
 * identifier order, then subscription identifiers, then user properties.
 */
class Mqtt5VectorTest {
    private static final MqttVersion V5 = MqttVersion.MQTT_5;

    private static MqttProperties.Builder props() {
        return MqttProperties.builder();
    }

    // ----- CONNECT -----

    @Test
    @DisplayName("CONNECT: empty property length, client id")
    void connectMinimal() throws Exception {
        assertVector("10 10 0004 4d515454 05 02 003c 00 0003 616263",
                new Connect(V5, "abc", true, 60, null, null, null, MqttProperties.EMPTY), V5);
    }

    @Test
    @DisplayName("CONNECT: properties, will with will properties (QoS 2), user name, password")
    void connectFull() throws Exception {
        MqttProperties connectProps = props().set(PropertyId.SESSION_EXPIRY_INTERVAL, 3600L)
                .set(PropertyId.RECEIVE_MAXIMUM, 20).userProperty("k", "v").build();
        MqttProperties willProps = props().set(PropertyId.PAYLOAD_FORMAT_INDICATOR, 1)
                .set(PropertyId.CONTENT_TYPE, "t").set(PropertyId.WILL_DELAY_INTERVAL, 5L).build();
        Will will = new Will("w", ascii("z"), EXACTLY_ONCE, false, willProps);
        assertVector("""
                10 36
                0004 4d515454 05 d6 001e
                0f 11 00000e10  21 0014  26 0001 6b 0001 76
                0002 6331
                0b 01 01  03 0001 74  18 00000005
                0001 77
                0001 7a
                0001 75
                0001 09""",
                new Connect(V5, "c1", true, 30, "u", new byte[] {9}, will, connectProps), V5);
    }

    @Test
    @DisplayName("CONNECT: 5.0 allows a password without a user name")
    void connectPasswordOnly() throws Exception {
        assertVector("10 12 0004 4d515454 05 40 0000 00 0001 61 0002 0102",
                new Connect(V5, "a", false, 0, null, new byte[] {1, 2}, null, MqttProperties.EMPTY), V5);
    }

    @Test
    @DisplayName("CONNECT: enhanced authentication properties")
    void connectAuthentication() throws Exception {
        MqttProperties p = props().set(PropertyId.AUTHENTICATION_METHOD, "m")
                .set(PropertyId.AUTHENTICATION_DATA, new byte[] {(byte) 0xAA}).set(PropertyId.MAXIMUM_PACKET_SIZE, 1024L)
                .set(PropertyId.TOPIC_ALIAS_MAXIMUM, 0).set(PropertyId.REQUEST_PROBLEM_INFORMATION, 0)
                .set(PropertyId.REQUEST_RESPONSE_INFORMATION, 1).build();
        assertVector("""
                10 22
                0004 4d515454 05 02 0000
                14 15 0001 6d  16 0001 aa  17 00  19 01  22 0000  27 00000400
                0001 61""",
                new Connect(V5, "a", true, 0, null, null, null, p), V5);
    }

    // ----- CONNACK -----

    @Test
    @DisplayName("CONNACK: session present flag, reason code, empty properties")
    void connackMinimal() throws Exception {
        assertVector("20 03 00 00 00", new Connack(false, ReasonCode.SUCCESS), V5);
        assertVector("20 03 01 00 00", new Connack(true, ReasonCode.SUCCESS), V5);
        assertVector("20 03 00 87 00", new Connack(false, ReasonCode.NOT_AUTHORIZED), V5);
    }

    @Test
    @DisplayName("CONNACK: properties")
    void connackProperties() throws Exception {
        MqttProperties p = props().set(PropertyId.ASSIGNED_CLIENT_IDENTIFIER, "id")
                .set(PropertyId.TOPIC_ALIAS_MAXIMUM, 10).set(PropertyId.MAXIMUM_QOS, 1).build();
        assertVector("20 0d 01 00 0a 12 0002 6964  22 000a  24 01", new Connack(true, 0, p), V5);
    }

    @Test
    @DisplayName("CONNACK: every server capability property")
    void connackCapabilities() throws Exception {
        MqttProperties p = props().set(PropertyId.SESSION_EXPIRY_INTERVAL, 0xFFFFFFFFL)
                .set(PropertyId.SERVER_KEEP_ALIVE, 30).set(PropertyId.RESPONSE_INFORMATION, "r")
                .set(PropertyId.SERVER_REFERENCE, "s").set(PropertyId.REASON_STRING, "ok")
                .set(PropertyId.RECEIVE_MAXIMUM, 100).set(PropertyId.RETAIN_AVAILABLE, 0)
                .set(PropertyId.MAXIMUM_PACKET_SIZE, 0x10000L).set(PropertyId.WILDCARD_SUBSCRIPTION_AVAILABLE, 1)
                .set(PropertyId.SUBSCRIPTION_IDENTIFIER_AVAILABLE, 0).set(PropertyId.SHARED_SUBSCRIPTION_AVAILABLE, 1)
                .build();
        assertVector("""
                20 28 00 00
                25
                11 ffffffff  13 001e  1a 0001 72  1c 0001 73  1f 0002 6f6b  21 0064  25 00  27 00010000
                28 01  29 00  2a 01""",
                new Connack(false, 0, p), V5);
    }

    // ----- PUBLISH -----

    @Test
    @DisplayName("PUBLISH QoS 0: empty property length")
    void publishQos0() throws Exception {
        assertVector("30 08 0003 612f62 00 6869", new Publish("a/b", AT_MOST_ONCE, false, 0, ascii("hi")), V5);
    }

    @Test
    @DisplayName("PUBLISH QoS 1: every PUBLISH property, two subscription identifiers, a user property")
    void publishWithProperties() throws Exception {
        MqttProperties p = props().set(PropertyId.PAYLOAD_FORMAT_INDICATOR, 1)
                .set(PropertyId.MESSAGE_EXPIRY_INTERVAL, 60L).set(PropertyId.RESPONSE_TOPIC, "r")
                .set(PropertyId.CORRELATION_DATA, new byte[] {(byte) 0xAB}).set(PropertyId.TOPIC_ALIAS, 5)
                .set(PropertyId.CONTENT_TYPE, "c")
                .subscriptionIdentifier(1).subscriptionIdentifier(200).userProperty("a", "b").build();
        assertVector("""
                32 2c
                0003 612f62 0001
                22 01 01  02 0000003c  03 0001 63  08 0001 72  09 0001 ab  23 0005
                   0b 01  0b c801  26 0001 61 0001 62
                6869""",
                new Publish("a/b", AT_LEAST_ONCE, false, false, 1, ascii("hi"), p), V5);
    }

    @Test
    @DisplayName("PUBLISH: empty topic name with a Topic Alias")
    void publishAliasOnly() throws Exception {
        assertVector("30 07 0000 03 23 0007 78",
                new Publish("", AT_MOST_ONCE, false, false, 0, ascii("x"),
                        props().set(PropertyId.TOPIC_ALIAS, 7).build()), V5);
    }

    @Test
    @DisplayName("PUBLISH QoS 2 with DUP and RETAIN")
    void publishQos2() throws Exception {
        assertVector("3d 07 0001 74 fffe 00 7a",
                new Publish("t", EXACTLY_ONCE, true, true, 0xFFFE, ascii("z"), MqttProperties.EMPTY), V5);
    }

    // ----- PUBACK, PUBREC, PUBREL, PUBCOMP -----

    @Test
    @DisplayName("PUBACK: Success without properties uses the 2-byte short form")
    void pubackShort() throws Exception {
        assertVector("40 02 0001", new Puback(1), V5);
    }

    @Test
    @DisplayName("PUBACK: reason code without properties omits the property length")
    void pubackReasonOnly() throws Exception {
        assertVector("40 03 0001 10", new Puback(1, ReasonCode.NO_MATCHING_SUBSCRIBERS, MqttProperties.EMPTY), V5);
    }

    @Test
    @DisplayName("PUBACK: reason code and reason string")
    void pubackWithProperties() throws Exception {
        assertVector("40 09 0001 10 05 1f 0002 6e6f",
                new Puback(1, ReasonCode.NO_MATCHING_SUBSCRIBERS, props().set(PropertyId.REASON_STRING, "no").build()),
                V5);
    }

    @Test
    @DisplayName("PUBACK: longer encodings of Success are read too (and written short)")
    void pubackLongForms() throws Exception {
        assertSamePacket(decode("40 03 0001 00", V5), new Puback(1));
        assertSamePacket(decode("40 04 0001 00 00", V5), new Puback(1));
    }

    @Test
    @DisplayName("PUBREC, PUBREL, PUBCOMP: short and long forms")
    void otherAcks() throws Exception {
        assertVector("50 03 0002 80", new Pubrec(2, ReasonCode.UNSPECIFIED_ERROR, MqttProperties.EMPTY), V5);
        assertVector("50 02 0002", new Pubrec(2), V5);
        assertVector("62 03 0003 92", new Pubrel(3, ReasonCode.PACKET_IDENTIFIER_NOT_FOUND, MqttProperties.EMPTY), V5);
        assertVector("62 02 0003", new Pubrel(3), V5);
        assertVector("70 02 0004", new Pubcomp(4), V5);
        assertVector("70 0b 0004 00 07 26 0001 6b 0001 76",
                new Pubcomp(4, 0, props().userProperty("k", "v").build()), V5);
    }

    // ----- SUBSCRIBE / SUBACK -----

    @Test
    @DisplayName("SUBSCRIBE: subscription identifier, all options, shared subscription")
    void subscribe() throws Exception {
        assertVector("""
                82 18 0001
                02 0b 05
                0003 612f2b 2d
                000a 2473686172652f672f78 02""",
                new Subscribe(1, List.of(new TopicSubscription("a/+", AT_LEAST_ONCE, true, true, 2),
                        new TopicSubscription("$share/g/x", EXACTLY_ONCE)),
                        props().subscriptionIdentifier(5).build()), V5);
    }

    @Test
    @DisplayName("SUBSCRIBE: filter syntax is left to the broker in 5.0 (it answers 0x8F per filter)")
    void subscribeInvalidFilterPassesThrough() throws Exception {
        assertSamePacket(decode("82 0b 0001 00 0005 612f232f62 00", V5),
                new Subscribe(1, List.of(new TopicSubscription("a/#/b", AT_MOST_ONCE)), MqttProperties.EMPTY));
    }

    @Test
    @DisplayName("SUBACK: reason codes, with and without a reason string")
    void suback() throws Exception {
        assertVector("90 06 0001 00 01 02 8f", new Suback(1, List.of(1, 2, 0x8F), MqttProperties.EMPTY), V5);
        assertVector("90 08 0001 04 1f 0001 78 00",
                new Suback(1, List.of(0), props().set(PropertyId.REASON_STRING, "x").build()), V5);
    }

    // ----- UNSUBSCRIBE / UNSUBACK -----

    @Test
    @DisplayName("UNSUBSCRIBE: with and without a user property")
    void unsubscribe() throws Exception {
        assertVector("a2 08 0002 00 0003 612f62", new Unsubscribe(2, List.of("a/b"), MqttProperties.EMPTY), V5);
        assertVector("a2 0f 0002 07 26 0001 6b 0001 76 0003 612f62",
                new Unsubscribe(2, List.of("a/b"), props().userProperty("k", "v").build()), V5);
    }

    @Test
    @DisplayName("UNSUBACK: reason codes")
    void unsuback() throws Exception {
        assertVector("b0 05 0002 00 00 11",
                new Unsuback(2, List.of(ReasonCode.SUCCESS, ReasonCode.NO_SUBSCRIPTION_EXISTED), MqttProperties.EMPTY),
                V5);
    }

    // ----- PINGREQ, PINGRESP -----

    @Test
    @DisplayName("PINGREQ, PINGRESP")
    void ping() throws Exception {
        assertVector("c0 00", Pingreq.INSTANCE, V5);
        assertVector("d0 00", Pingresp.INSTANCE, V5);
    }

    // ----- DISCONNECT -----

    @Test
    @DisplayName("DISCONNECT: normal without properties is remaining length 0")
    void disconnectShort() throws Exception {
        assertVector("e0 00", Disconnect.NORMAL, V5);
        assertSamePacket(decode("e0 01 00", V5), Disconnect.NORMAL);
        assertSamePacket(decode("e0 02 00 00", V5), Disconnect.NORMAL);
    }

    @Test
    @DisplayName("DISCONNECT: reason code alone, and with properties")
    void disconnect() throws Exception {
        assertVector("e0 01 04", new Disconnect(ReasonCode.DISCONNECT_WITH_WILL_MESSAGE), V5);
        assertVector("e0 07 04 05 11 00000000", new Disconnect(ReasonCode.DISCONNECT_WITH_WILL_MESSAGE,
                props().set(PropertyId.SESSION_EXPIRY_INTERVAL, 0L).build()), V5);
        assertVector("e0 06 9c 04 1c 0001 68", new Disconnect(ReasonCode.USE_ANOTHER_SERVER,
                props().set(PropertyId.SERVER_REFERENCE, "h").build()), V5);
    }

    // ----- AUTH -----

    @Test
    @DisplayName("AUTH: Success without properties is remaining length 0")
    void authShort() throws Exception {
        assertVector("f0 00", new Auth(ReasonCode.SUCCESS, MqttProperties.EMPTY), V5);
    }

    @Test
    @DisplayName("AUTH: continue authentication with method and data")
    void auth() throws Exception {
        assertVector("f0 0a 18 08 15 0001 6d 16 0001 01", new Auth(ReasonCode.CONTINUE_AUTHENTICATION,
                props().set(PropertyId.AUTHENTICATION_METHOD, "m").set(PropertyId.AUTHENTICATION_DATA, new byte[] {1})
                        .build()), V5);
        // a reason code without properties is written with an empty property length
        assertVector("f0 02 19 00", new Auth(ReasonCode.RE_AUTHENTICATE, MqttProperties.EMPTY), V5);
        assertSamePacket(decode("f0 01 19", V5), new Auth(ReasonCode.RE_AUTHENTICATE, MqttProperties.EMPTY));
    }

    // ----- properties in general -----

    @Test
    @DisplayName("user properties keep their order and may repeat a name")
    void userPropertiesOrder() throws Exception {
        Publish p = (Publish) decode("""
                30 19 0001 74
                15 26 0001 62 0001 31  26 0001 61 0001 32  26 0001 62 0001 33""", V5);
        assertThat(p.properties().userProperties()).containsExactly(new UserProperty("b", "1"),
                new UserProperty("a", "2"), new UserProperty("b", "3"));
        assertThat(p.payload()).isEmpty();
    }

    @Test
    @DisplayName("a four-byte integer property is unsigned")
    void fourByteUnsigned() throws Exception {
        Publish p = (Publish) decode("30 09 0001 74 05 02 ffffffff", V5);
        assertThat(p.properties().getLong(PropertyId.MESSAGE_EXPIRY_INTERVAL)).isEqualTo(0xFFFFFFFFL);
    }

    @Test
    @DisplayName("a subscription identifier uses up to four bytes")
    void largeSubscriptionIdentifier() throws Exception {
        Subscribe s = (Subscribe) decode("82 0c 0001 05 0b ffffff7f 0001 61 00", V5);
        assertThat(s.properties().subscriptionIdentifiers()).containsExactly(268_435_455);
        assertThat(encode(s, V5)).isEqualTo(Wire.normalise("82 0c 0001 05 0b ffffff7f 0001 61 00"));
    }
}
