package io.ternmq.codec;

import static io.ternmq.codec.QoS.AT_LEAST_ONCE;
import static io.ternmq.codec.QoS.AT_MOST_ONCE;
import static io.ternmq.codec.QoS.EXACTLY_ONCE;
import static io.ternmq.codec.Wire.ascii;
import static io.ternmq.codec.Wire.assertSamePacket;
import static io.ternmq.codec.Wire.assertVector;
import static io.ternmq.codec.Wire.bytes;
import static io.ternmq.codec.Wire.decode;
import static io.ternmq.codec.Wire.encode;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;

/**
 * Hand-written vectors for every packet type in MQTT 3.1 and 3.1.1. The two share every layout except CONNECT's
 * protocol name/level and CONNACK's first byte, so the shared vectors run under both versions.
 */
class Mqtt3VectorTest {

    // ----- CONNECT -----

    @Test
    @DisplayName("3.1.1 CONNECT: client id, clean session, keep alive")
    void connect311Minimal() throws Exception {
        assertVector("""
                10 0f
                0004 4d515454 04 02 003c
                0003 616263""",
                new Connect(MqttVersion.MQTT_3_1_1, "abc", true, 60, null, null, null, MqttProperties.EMPTY),
                MqttVersion.MQTT_3_1_1);
    }

    @Test
    @DisplayName("3.1.1 CONNECT: will (QoS 1, retained), user name and password")
    void connect311Full() throws Exception {
        Will will = new Will("w/t", ascii("bye"), AT_LEAST_ONCE, true, MqttProperties.EMPTY);
        assertVector("""
                10 1f
                0004 4d515454 04 ee 000a
                0002 6331
                0003 772f74 0003 627965
                0001 75
                0002 0102""",
                new Connect(MqttVersion.MQTT_3_1_1, "c1", true, 10, "u", new byte[] {1, 2}, will,
                        MqttProperties.EMPTY),
                MqttVersion.MQTT_3_1_1);
    }

    @Test
    @DisplayName("3.1.1 CONNECT: empty client id is the broker's business, not the codec's")
    void connect311EmptyClientId() throws Exception {
        assertVector("10 0c 0004 4d515454 04 02 0000 0000",
                new Connect(MqttVersion.MQTT_3_1_1, "", true, 0, null, null, null, MqttProperties.EMPTY),
                MqttVersion.MQTT_3_1_1);
    }

    @Test
    @DisplayName("3.1 CONNECT: protocol name MQIsdp, level 3")
    void connect31Minimal() throws Exception {
        assertVector("""
                10 11
                0006 4d5149736470 03 02 003c
                0003 616263""",
                new Connect(MqttVersion.MQTT_3_1, "abc", true, 60, null, null, null, MqttProperties.EMPTY),
                MqttVersion.MQTT_3_1);
    }

    @Test
    @DisplayName("3.1 CONNECT: will with empty message, user name and password")
    void connect31Full() throws Exception {
        Will will = new Will("t", new byte[0], AT_MOST_ONCE, false, MqttProperties.EMPTY);
        assertVector("""
                10 1c
                0006 4d5149736470 03 c6 003c
                0002 6331
                0001 74 0000
                0001 75
                0002 7077""",
                new Connect(MqttVersion.MQTT_3_1, "c1", true, 60, "u", ascii("pw"), will, MqttProperties.EMPTY),
                MqttVersion.MQTT_3_1);
    }

    @Test
    @DisplayName("CONNECT is decoded in the version it names, whatever the connection's version")
    void connectNamesItsVersion() throws Exception {
        MqttPacket p = decode("10 11 0006 4d5149736470 03 02 003c 0003 616263", MqttVersion.MQTT_5);
        assertThat(((Connect) p).version()).isEqualTo(MqttVersion.MQTT_3_1);
        // and is encoded in its own version too
        assertThat(encode(p, MqttVersion.MQTT_5)).isEqualTo(Wire.normalise("10 11 0006 4d5149736470 03 02 003c 0003 616263"));
    }

    // ----- CONNACK -----

    @Test
    @DisplayName("3.1.1 CONNACK: session present, accepted")
    void connack311() throws Exception {
        assertVector("20 02 01 00", new Connack(true, ReasonCode.V3_ACCEPTED), MqttVersion.MQTT_3_1_1);
        assertVector("20 02 00 05", new Connack(false, ReasonCode.V3_NOT_AUTHORIZED), MqttVersion.MQTT_3_1_1);
    }

    @Test
    @DisplayName("3.1 CONNACK: no session present flag, the first byte is written as 0 and ignored on reading")
    void connack31() throws Exception {
        assertThat(encode(new Connack(true, ReasonCode.V3_ACCEPTED), MqttVersion.MQTT_3_1)).isEqualTo("20020000");
        assertSamePacket(decode("20 02 01 02", MqttVersion.MQTT_3_1), new Connack(false, 2));
        assertVector("20 02 00 01", new Connack(false, ReasonCode.V3_UNACCEPTABLE_PROTOCOL_VERSION),
                MqttVersion.MQTT_3_1);
    }

    @Test
    @DisplayName("3.x CONNACK: properties given to the model are not written")
    void connackPropertiesDropped() {
        MqttProperties props = MqttProperties.builder().set(PropertyId.RECEIVE_MAXIMUM, 10).build();
        assertThat(encode(new Connack(false, 0, props), MqttVersion.MQTT_3_1_1)).isEqualTo("20020000");
    }

    // ----- PUBLISH -----

    @ParameterizedTest
    @EnumSource(value = MqttVersion.class, names = {"MQTT_3_1", "MQTT_3_1_1"})
    @DisplayName("PUBLISH QoS 0: no packet identifier")
    void publishQos0(MqttVersion v) throws Exception {
        assertVector("30 07 0003 612f62 6869", new Publish("a/b", AT_MOST_ONCE, false, 0, ascii("hi")), v);
    }

    @ParameterizedTest
    @EnumSource(value = MqttVersion.class, names = {"MQTT_3_1", "MQTT_3_1_1"})
    @DisplayName("PUBLISH QoS 1 with DUP and RETAIN")
    void publishQos1DupRetain(MqttVersion v) throws Exception {
        assertVector("3b 08 0003 612f62 000a 78",
                new Publish("a/b", AT_LEAST_ONCE, true, true, 10, ascii("x"), MqttProperties.EMPTY), v);
    }

    @ParameterizedTest
    @EnumSource(value = MqttVersion.class, names = {"MQTT_3_1", "MQTT_3_1_1"})
    @DisplayName("PUBLISH QoS 2 with empty payload")
    void publishQos2Empty(MqttVersion v) throws Exception {
        assertVector("34 07 0003 612f62 1234", new Publish("a/b", EXACTLY_ONCE, false, 0x1234, new byte[0]), v);
    }

    @Test
    @DisplayName("3.x PUBLISH: properties given to the model are not written")
    void publishPropertiesDropped() {
        MqttProperties props = MqttProperties.builder().set(PropertyId.CONTENT_TYPE, "x").build();
        Publish p = new Publish("a/b", AT_MOST_ONCE, false, false, 0, ascii("hi"), props);
        assertThat(encode(p, MqttVersion.MQTT_3_1_1)).isEqualTo("30070003612f626869");
    }

    @Test
    @DisplayName("[MQTT-1.5.3-3] a BOM in a topic is kept, not stripped")
    void bomKept() throws Exception {
        Publish p = (Publish) decode("30 06 0004 efbbbf61", MqttVersion.MQTT_3_1_1);
        assertThat(p.topic()).isEqualTo("\uFEFFa");
        assertThat(encode(p, MqttVersion.MQTT_3_1_1)).isEqualTo("30060004efbbbf61");
    }

    @Test
    @DisplayName("multi-byte UTF-8 topics decode and encode")
    void multiByteTopic() throws Exception {
        // "é/€/𝄞" = c3a9 2f e282ac 2f f09d849e
        assertVector("30 0d 000b c3a92fe282ac2ff09d849e", new Publish("é/€/\uD834\uDD1E", AT_MOST_ONCE, false, 0,
                new byte[0]), MqttVersion.MQTT_3_1_1);
    }

    // ----- acknowledgements -----

    @ParameterizedTest
    @EnumSource(value = MqttVersion.class, names = {"MQTT_3_1", "MQTT_3_1_1"})
    @DisplayName("PUBACK, PUBREC, PUBREL (flags 0010), PUBCOMP: just the packet identifier")
    void acks(MqttVersion v) throws Exception {
        assertVector("40 02 000a", new Puback(10), v);
        assertVector("50 02 000b", new Pubrec(11), v);
        assertVector("62 02 000c", new Pubrel(12), v);
        assertVector("70 02 ffff", new Pubcomp(0xFFFF), v);
    }

    @Test
    @DisplayName("3.x acks: a reason code given to the model is not written")
    void ackReasonDropped() {
        assertThat(encode(new Puback(1, ReasonCode.NO_MATCHING_SUBSCRIBERS, MqttProperties.EMPTY),
                MqttVersion.MQTT_3_1_1)).isEqualTo("40020001");
    }

    // ----- SUBSCRIBE / SUBACK -----

    @ParameterizedTest
    @EnumSource(value = MqttVersion.class, names = {"MQTT_3_1", "MQTT_3_1_1"})
    @DisplayName("SUBSCRIBE with two filters")
    void subscribe(MqttVersion v) throws Exception {
        assertVector("""
                82 0e 0001
                0003 612f62 01
                0003 632f23 02""",
                new Subscribe(1, List.of(new TopicSubscription("a/b", AT_LEAST_ONCE),
                        new TopicSubscription("c/#", EXACTLY_ONCE)), MqttProperties.EMPTY), v);
    }

    @Test
    @DisplayName("3.x SUBSCRIBE: 5.0 options given to the model are not written")
    void subscribeOptionsDropped() {
        Subscribe s = new Subscribe(1, List.of(new TopicSubscription("a", AT_LEAST_ONCE, true, true, 2)),
                MqttProperties.EMPTY);
        assertThat(encode(s, MqttVersion.MQTT_3_1_1)).isEqualTo("820600010001" + "61" + "01");
    }

    @Test
    @DisplayName("3.1 SUBSCRIBE, UNSUBSCRIBE and PUBREL may carry DUP (retries in 3.1)")
    void dupTolerated31() throws Exception {
        assertSamePacket(decode("8a 06 0001 0001 61 00", MqttVersion.MQTT_3_1),
                new Subscribe(1, List.of(new TopicSubscription("a", AT_MOST_ONCE)), MqttProperties.EMPTY));
        assertSamePacket(decode("aa 05 0001 0001 61", MqttVersion.MQTT_3_1),
                new Unsubscribe(1, List.of("a"), MqttProperties.EMPTY));
        assertSamePacket(decode("6a 02 0001", MqttVersion.MQTT_3_1), new Pubrel(1));
    }

    @ParameterizedTest
    @EnumSource(value = MqttVersion.class, names = {"MQTT_3_1", "MQTT_3_1_1"})
    @DisplayName("SUBACK with granted QoS and failure codes")
    void suback(MqttVersion v) throws Exception {
        assertVector("90 05 0001 01 80 02", new Suback(1, List.of(1, 0x80, 2), MqttProperties.EMPTY), v);
    }

    @Test
    @DisplayName("3.1 SUBACK: whatever code the broker gives is encoded")
    void suback31AnyCode() {
        assertThat(encode(new Suback(7, List.of(0x80), MqttProperties.EMPTY), MqttVersion.MQTT_3_1))
                .isEqualTo("9003000780");
    }

    // ----- UNSUBSCRIBE / UNSUBACK -----

    @ParameterizedTest
    @EnumSource(value = MqttVersion.class, names = {"MQTT_3_1", "MQTT_3_1_1"})
    @DisplayName("UNSUBSCRIBE with two filters")
    void unsubscribe(MqttVersion v) throws Exception {
        assertVector("a2 0c 0002 0003 612f62 0003 632f23",
                new Unsubscribe(2, List.of("a/b", "c/#"), MqttProperties.EMPTY), v);
    }

    @ParameterizedTest
    @EnumSource(value = MqttVersion.class, names = {"MQTT_3_1", "MQTT_3_1_1"})
    @DisplayName("UNSUBACK has no payload")
    void unsuback(MqttVersion v) throws Exception {
        assertVector("b0 02 0002", new Unsuback(2), v);
        // 5.0 reason codes given to the model are not written
        assertThat(encode(new Unsuback(2, List.of(0x11), MqttProperties.EMPTY), v)).isEqualTo("b0020002");
    }

    // ----- PINGREQ, PINGRESP, DISCONNECT -----

    @ParameterizedTest
    @EnumSource(value = MqttVersion.class, names = {"MQTT_3_1", "MQTT_3_1_1"})
    @DisplayName("PINGREQ, PINGRESP, DISCONNECT: fixed header only")
    void emptyPackets(MqttVersion v) throws Exception {
        assertVector("c0 00", Pingreq.INSTANCE, v);
        assertVector("d0 00", Pingresp.INSTANCE, v);
        assertVector("e0 00", Disconnect.NORMAL, v);
        // a 5.0 reason code given to the model is not written
        assertThat(encode(new Disconnect(ReasonCode.DISCONNECT_WITH_WILL_MESSAGE), v)).isEqualTo("e000");
    }

    @Test
    @DisplayName("payloads decode into fresh arrays, not views of the input")
    void payloadIsCopy() throws Exception {
        byte[] raw = bytes("30 07 0003 612f62 6869");
        io.netty.buffer.ByteBuf buf = io.netty.buffer.Unpooled.wrappedBuffer(raw);
        Publish p = (Publish) MqttPacketDecoder.decode(buf, MqttVersion.MQTT_3_1_1);
        buf.release();
        raw[7] = 'X';
        assertThat(p.payload()).isEqualTo(ascii("hi"));
    }
}
