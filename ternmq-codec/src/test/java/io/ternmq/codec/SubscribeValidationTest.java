package io.ternmq.codec;

import static io.ternmq.codec.Wire.assertMalformed;
import static io.ternmq.codec.Wire.assertProtocolError;
import static io.ternmq.codec.Wire.assertSamePacket;
import static io.ternmq.codec.Wire.decode;
import static io.ternmq.codec.Wire.packet;
import static io.ternmq.codec.Wire.str;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

/** SUBSCRIBE and UNSUBSCRIBE rules (3.1.1 and 5.0 sections 3.8, 3.10). */
class SubscribeValidationTest {
    private static final MqttVersion V311 = MqttVersion.MQTT_3_1_1;
    private static final MqttVersion V5 = MqttVersion.MQTT_5;

    private static String subscribe311(String filter, String options) {
        return packet("82", "0001" + str(filter) + options);
    }

    private static String subscribe5(String properties, String filter, String options) {
        return packet("82", "0001" + ConnectValidationTest.propertyField(properties) + str(filter) + options);
    }

    // ----- SUBSCRIBE, 3.x -----

    @Test
    @DisplayName("[MQTT-3.8.3-3] 3.1.1: SUBSCRIBE must contain at least one topic filter")
    void noFilter311() {
        assertMalformed("82 02 0001", V311, "MQTT-3.8.3-3");
        assertMalformed("82 02 0001", MqttVersion.MQTT_3_1, "MQTT-3.8.3-3");
    }

    @ParameterizedTest
    @ValueSource(strings = {"03", "04", "08", "40", "80", "fc", "ff"})
    @DisplayName("[MQTT-3-8.3-4] 3.1.1: requested QoS above 2 or reserved bits set is malformed")
    void requestedQosByte(String options) {
        assertMalformed(subscribe311("a", options), V311, "MQTT-3-8.3-4");
    }

    @ParameterizedTest
    @CsvSource({
            "'', MQTT-4.7.3-1",
            "a/#/b, MQTT-4.7.1-2",
            "a#, MQTT-4.7.1-2",
            "#/a, MQTT-4.7.1-2",
            "a/b+, MQTT-4.7.1-3",
            "+a, MQTT-4.7.1-3",
            "$share//a, MQTT-4.8.2-1",
            "$share/g+/a, MQTT-4.8.2-2",
            "$share/g, MQTT-4.8.2-2"})
    @DisplayName("[MQTT-4.7.1-2] [MQTT-4.7.1-3] [MQTT-4.7.3-1] 3.x: an invalid topic filter is malformed")
    void invalidFilter311(String filter, String rule) {
        assertMalformed(subscribe311(filter, "00"), V311, rule);
        assertMalformed(packet("a2", "0001" + str(filter)), V311, rule);
    }

    @Test
    @DisplayName("3.x: every filter of the packet is checked, not just the first")
    void secondFilterChecked() {
        assertMalformed(packet("82", "0001" + str("a") + "00" + str("b#") + "00"), V311, "MQTT-4.7.1-2");
    }

    // ----- SUBSCRIBE, 5.0 -----

    @Test
    @DisplayName("[MQTT-3.8.3-2] 5.0: SUBSCRIBE must contain at least one topic filter")
    void noFilter5() {
        assertMalformed("82 03 0001 00", V5, "MQTT-3.8.3-2");
    }

    @ParameterizedTest
    @ValueSource(strings = {"40", "80", "c1"})
    @DisplayName("[MQTT-3.8.3-5] 5.0: subscription options bits 6-7 are reserved")
    void reservedOptionBits(String options) {
        assertMalformed(subscribe5("", "a", options), V5, "MQTT-3.8.3-5");
    }

    @Test
    @DisplayName("5.0: Retain Handling 3 is a protocol error")
    void retainHandling3() {
        assertProtocolError(subscribe5("", "a", "30"), V5, null);
    }

    @Test
    @DisplayName("5.0: Maximum QoS 3 is a protocol error")
    void maximumQos3() {
        assertProtocolError(subscribe5("", "a", "03"), V5, null);
    }

    @Test
    @DisplayName("[MQTT-3.8.3-4] 5.0: No Local on a shared subscription is a protocol error")
    void noLocalShared() throws Exception {
        assertProtocolError(subscribe5("", "$share/g/a", "04"), V5, "MQTT-3.8.3-4");
        // No Local on an ordinary filter is fine
        Subscribe s = (Subscribe) decode(subscribe5("", "a", "04"), V5);
        assertThat(s.subscriptions().get(0).noLocal()).isTrue();
    }

    @Test
    @DisplayName("5.0: Subscription Identifier 0 is a protocol error")
    void subscriptionIdentifierZero() {
        assertProtocolError(subscribe5("0b 00", "a", "00"), V5, null);
    }

    @Test
    @DisplayName("5.0: more than one Subscription Identifier in SUBSCRIBE is a protocol error")
    void twoSubscriptionIdentifiers() {
        assertProtocolError(subscribe5("0b 01 0b 02", "a", "00"), V5, null);
    }

    @Test
    @DisplayName("5.0: a property not allowed in SUBSCRIBE is malformed")
    void propertyNotAllowed() {
        assertMalformed(subscribe5("1f 0001 61", "a", "00"), V5, null);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a/#/b", "+a", "$share//a", "#/#"})
    @DisplayName("5.0: filter syntax is left to the broker (SUBACK 0x8F), the packet decodes")
    void invalidFilterPassesThrough5(String filter) throws Exception {
        Subscribe s = (Subscribe) decode(subscribe5("", filter, "01"), V5);
        assertThat(s.subscriptions()).extracting(TopicSubscription::filter).containsExactly(filter);
    }

    @Test
    @DisplayName("5.0: an empty filter decodes too (the broker answers 0x8F)")
    void emptyFilter5() throws Exception {
        assertSamePacket(decode(subscribe5("", "", "00"), V5),
                new Subscribe(1, List.of(new TopicSubscription("", QoS.AT_MOST_ONCE)), MqttProperties.EMPTY));
    }

    // ----- UNSUBSCRIBE -----

    @Test
    @DisplayName("[MQTT-3.10.3-2] UNSUBSCRIBE must contain at least one topic filter")
    void unsubscribeNoFilter() {
        assertMalformed("a2 02 0001", V311, "MQTT-3.10.3-2");
        assertMalformed("a2 03 0001 00", V5, "MQTT-3.10.3-2");
    }

    @Test
    @DisplayName("5.0: UNSUBSCRIBE filter syntax is left to the broker")
    void unsubscribeInvalidFilter5() throws Exception {
        Unsubscribe u = (Unsubscribe) decode(packet("a2", "0001 00" + str("a/#/b")), V5);
        assertThat(u.filters()).containsExactly("a/#/b");
    }

    @Test
    @DisplayName("5.0: UNSUBSCRIBE allows only User Property")
    void unsubscribeProperties() {
        assertMalformed(packet("a2", "0001 02 0b01" + str("a")), V5, null);
        assertMalformed(packet("a2", "0001 04 1f0001 61" + str("a")), V5, null);
    }
}
