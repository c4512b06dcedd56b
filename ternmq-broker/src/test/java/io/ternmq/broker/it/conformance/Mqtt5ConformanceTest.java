package io.ternmq.broker.it.conformance;

import io.ternmq.broker.security.AnonymousAuthenticator;
import io.ternmq.broker.security.AuthExchange;
import io.ternmq.broker.security.AuthResult;
import io.ternmq.broker.security.AuthStep;
import io.ternmq.broker.security.EnhancedAuthenticator;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Auth;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttPacketEncoder;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.Pingreq;
import io.ternmq.codec.Pingresp;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Pubcomp;
import io.ternmq.codec.Publish;
import io.ternmq.codec.Pubrec;
import io.ternmq.codec.Pubrel;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import io.ternmq.codec.Unsuback;
import io.ternmq.codec.Unsubscribe;
import io.ternmq.codec.Will;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

import static io.ternmq.broker.it.conformance.Clients.V5;
import static io.ternmq.broker.it.conformance.Clients.bytes;
import static io.ternmq.broker.it.conformance.Clients.text;
import static io.ternmq.broker.testing.RawV5.awaitDisconnect;
import static io.ternmq.broker.testing.RawV5.connack;
import static io.ternmq.broker.testing.RawV5.connect;
import static io.ternmq.broker.testing.RawV5.connected;
import static io.ternmq.broker.testing.RawV5.disconnectReason;
import static io.ternmq.broker.testing.RawV5.open;
import static io.ternmq.broker.testing.RawV5.props;
import static io.ternmq.broker.testing.RawV5.publish;
import static io.ternmq.broker.testing.RawV5.subscribe;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * MQTT 5.0 normative statements (5.0 numbering) that bind a server and had no test of their own, and the server
 * rules the 5.0 text states without a number (their display names give the section and the reason code). Real
 * broker, real sockets; see docs/conformance.md.
 */
class Mqtt5ConformanceTest {
    /** Table 3-1, Connect Reason Code values. */
    private static final Set<Integer> CONNACK_CODES = Set.of(0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
            0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F);
    /** DISCONNECT Reason Code values (section 3.14.2.1). */
    private static final Set<Integer> DISCONNECT_CODES = Set.of(0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89,
            0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E,
            0x9F, 0xA0, 0xA1, 0xA2);
    private static final Set<Integer> PUBACK_CODES = Set.of(0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99);
    private static final Set<Integer> SUBACK_CODES = Set.of(0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97,
            0x9E, 0xA1, 0xA2);

    private TestBroker broker;

    @BeforeEach
    void start() {
        broker = TestBroker.start();
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    private static Connect persistentConnect(String id, boolean cleanStart) {
        return connect(id, cleanStart, 60, props(PropertyId.SESSION_EXPIRY_INTERVAL, 600L));
    }

    private RawClient persistent(String id) {
        return connected(broker, persistentConnect(id, false));
    }

    private void awaitOffline(String id) {
        await().until(() -> broker.broker().sessions().get(id) != null
                && !broker.broker().sessions().get(id).isConnected());
    }

    private void awaitGone(String id) {
        await().until(() -> broker.broker().sessions().get(id) == null);
    }

    private static TestBroker broker(Consumer<io.ternmq.broker.config.BrokerConfig.Builder> config) {
        return TestBroker.start(config);
    }

    private static Subscribe sub(int packetId, String filter, QoS qos, boolean noLocal, boolean rap, int rh) {
        return new Subscribe(packetId, List.of(new TopicSubscription(filter, qos, noLocal, rap, rh)),
                MqttProperties.EMPTY);
    }

    private static Publish retained(String topic, QoS qos, int id, String payload) {
        return new Publish(topic, qos, true, false, id, bytes(payload), MqttProperties.EMPTY);
    }

    /** Publishes at QoS 1 from a fresh client and waits for its PUBACK. */
    private void publishAcked(TestBroker b, Publish p) {
        try (RawClient c = connected(b, "acked-pub-" + System.nanoTime())) {
            c.send(p);
            if (p.qos() == QoS.AT_LEAST_ONCE) {
                c.read(Puback.class);
            } else {
                c.send(Pingreq.INSTANCE);
                c.read(Pingresp.class);
            }
        }
    }

    private static int size(MqttPacket p) {
        return MqttPacketEncoder.encodedSize(p, V5);
    }

    // ------------------------------------------------------------------ malformed packets and protocol errors

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            PUBREL with flags 0000        | 60 02 0001
            SUBSCRIBE with flags 0000     | 80 07 0001 00 0001 61 00
            UNSUBSCRIBE with flags 0000   | a0 06 0001 00 0001 61
            DISCONNECT with flags 0001    | e1 00
            AUTH with flags 0001          | f1 00
            PINGREQ with flags 1000       | c8 00
            PUBLISH with both QoS bits    | 36 06 0001 61 0001 00
            """)
    @DisplayName("[MQTT-2.1.3-1][MQTT-3.6.1-1][MQTT-3.8.1-1][MQTT-3.10.1-1][MQTT-3.14.1-1][MQTT-3.15.1-1][MQTT-3.3.1-4]"
            + "[MQTT-4.13.1-1] reserved fixed header flags with another value: DISCONNECT 0x81, then the close")
    void reservedFlags(String what, String hex) {
        try (RawClient c = connected(broker, "flags")) {
            c.sendHex(hex);
            assertThat(disconnectReason(c)).isEqualTo(ReasonCode.MALFORMED_PACKET);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            topic with ill-formed UTF-8             | 30 05 0002 c328 00
            topic containing U+0000                 | 30 05 0002 6100 00
            user property name ill-formed           | 30 0b 0001 74 07 26 0001 ff 0001 61
            user property value containing U+0000   | 30 0b 0001 74 07 26 0001 61 0001 00
            response topic ill-formed               | 30 08 0001 74 04 08 0001 ff
            content type ill-formed                 | 30 08 0001 74 04 03 0001 ff
            subscription filter ill-formed          | 82 07 0001 00 0001 ff 00
            """)
    @DisplayName("[MQTT-1.5.4-1][MQTT-1.5.4-2][MQTT-1.5.7-1][MQTT-3.3.2-1][MQTT-3.3.2-13][MQTT-3.3.2-19][MQTT-3.8.3-1]"
            + "[MQTT-4.7.3-2] "
            + "ill-formed UTF-8 or U+0000 in any string: DISCONNECT 0x81, then the close")
    void badStrings(String what, String hex) {
        try (RawClient c = connected(broker, "strings")) {
            c.sendHex(hex);
            assertThat(disconnectReason(c)).isEqualTo(ReasonCode.MALFORMED_PACKET);
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.2-2][MQTT-4.7.0-1] a PUBLISH topic name with a wildcard: DISCONNECT 0x90 Topic Name invalid")
    void wildcardTopicName() {
        for (String hex : List.of("30 06 0003 612f2b 00", "30 04 0001 23 00")) {
            try (RawClient c = connected(broker, "wild")) {
                c.sendHex(hex);
                assertThat(disconnectReason(c)).isEqualTo(ReasonCode.TOPIC_NAME_INVALID);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            Response Topic with a wildcard              | 30 08 0001 74 04 08 0001 23
            PUBLISH with an empty topic and no alias    | 30 03 0000 00
            No Local on a shared subscription           | 82 10 0001 00 000a 2473686172652f672f61 04
            """)
    @DisplayName("[MQTT-3.3.2-14][MQTT-4.7.3-1][MQTT-3.8.3-4] a protocol error after CONNACK: DISCONNECT 0x82, then "
            + "the close")
    void protocolErrors(String what, String hex) {
        try (RawClient c = connected(broker, "errors")) {
            c.sendHex(hex);
            assertThat(disconnectReason(c)).isEqualTo(ReasonCode.PROTOCOL_ERROR);
        }
    }

    @Test
    @DisplayName("[MQTT-3.8.3-5] SUBSCRIBE options with reserved bits set: DISCONNECT 0x81")
    void reservedSubscriptionOptions() {
        try (RawClient c = connected(broker, "options")) {
            c.sendHex("82 07 0001 00 0001 61 c0");
            assertThat(disconnectReason(c)).isEqualTo(ReasonCode.MALFORMED_PACKET);
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.0-2][MQTT-3.2.0-2] a second CONNECT gets DISCONNECT 0x82, never a second CONNACK")
    void secondConnect() {
        try (RawClient c = connected(broker, "twice")) {
            c.send(connect("twice"));
            assertThat(disconnectReason(c)).isEqualTo(ReasonCode.PROTOCOL_ERROR);
        }
    }

    @Test
    @DisplayName("[MQTT-3.14.2-2][MQTT-3.14.4-1][MQTT-3.14.4-2][MQTT-4.13.1-1][MQTT-4.13.2-1] a server DISCONNECT "
            + "carries no Session Expiry Interval, nothing follows it, and the connection is closed")
    void serverDisconnect() {
        try (RawClient c = connected(broker, persistentConnect("sd", true))) {
            c.send(connect("sd"));
            Disconnect d = awaitDisconnect(c);
            assertThat(d.reasonCode()).isGreaterThanOrEqualTo(0x80);
            assertThat(d.properties().contains(PropertyId.SESSION_EXPIRY_INTERVAL)).isFalse();
        }
    }

    @Test
    @DisplayName("[MQTT-3.14.2-3][MQTT-3.14.2-4] a DISCONNECT whose Reason String would exceed the client's Maximum "
            + "Packet Size goes without it")
    void disconnectWithinMaximumPacketSize() {
        try (RawClient c = connected(broker, connect("small-d", true, 60,
                props(PropertyId.MAXIMUM_PACKET_SIZE, 16L)))) {
            c.send(connect("small-d"));
            MqttPacket p = c.read();
            assertThat(p).isInstanceOf(Disconnect.class);
            assertThat(size(p)).isLessThanOrEqualTo(16);
            assertThat(((Disconnect) p).properties().contains(PropertyId.REASON_STRING)).isFalse();
            assertThat(((Disconnect) p).properties().userProperties()).isEmpty();
            c.assertClosedByServer();
        }
    }

    // ------------------------------------------------------------------ CONNECT / CONNACK

    @Test
    @DisplayName("[MQTT-3.1.2-1] a CONNECT naming another protocol is not answered as MQTT: the connection closes")
    void otherProtocolName() {
        try (RawClient c = open(broker)) {
            c.sendHex("10 0f 0004 4d515458 05 02 003c 00 0002 6331");
            c.assertClosedByServer();
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-3][MQTT-3.1.4-1][MQTT-3.2.2-7] a CONNECT with the reserved flag set is refused "
            + "(CONNACK 0x81) and the connection closed")
    void reservedConnectFlag() {
        try (RawClient c = open(broker)) {
            c.sendHex("10 0f 0004 4d515454 05 03 003c 00 0002 6331");
            Connack ack = c.read(Connack.class);
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.MALFORMED_PACKET);
            assertThat(ack.sessionPresent()).isFalse();
            c.assertClosedByServer();
        }
    }

    @Test
    @DisplayName("[MQTT-3.14.0-1] §3.1.2.11.3 a CONNECT with Receive Maximum 0 is a protocol error: CONNACK 0x82 "
            + "(never a DISCONNECT before a successful CONNACK), then the close")
    void receiveMaximumZero() {
        try (RawClient c = open(broker)) {
            // CONNECT, properties: Receive Maximum (0x21) = 0
            c.sendHex("10 12 0004 4d515454 05 02 003c 03 210000 0002 6331");
            MqttPacket p = c.read();
            assertThat(p).isInstanceOf(Connack.class);
            assertThat(((Connack) p).reasonCode()).isEqualTo(ReasonCode.PROTOCOL_ERROR);
            c.assertClosedByServer();
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-5][MQTT-3.1.4-4][MQTT-4.5.0-1] Clean Start 0 with a stored session resumes it: its "
            + "subscriptions hold, and messages that matched them while away are delivered")
    void resumeStoredSession() {
        try (RawClient c = persistent("resume")) {
            subscribe(c, "resume/t", QoS.AT_LEAST_ONCE);
        }
        awaitOffline("resume");
        publishAcked(broker, publish("resume/t", QoS.AT_LEAST_ONCE, 1, "while away"));
        try (RawClient c = open(broker)) {
            Connack ack = connack(c, persistentConnect("resume", false));
            assertThat(ack.sessionPresent()).isTrue();
            assertThat(text(c.read(Publish.class))).isEqualTo("while away");
            publishAcked(broker, publish("resume/t", QoS.AT_LEAST_ONCE, 1, "live"));
            Publish live = c.read(Publish.class);
            assertThat(text(live)).isEqualTo("live");
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-6][MQTT-3.1.4-5][MQTT-3.2.2-3] Clean Start 0 without a session: CONNACK 0x00, Session "
            + "Present 0, and a new session that outlives the connection")
    void newSessionWithoutCleanStart() {
        try (RawClient c = open(broker)) {
            Connack ack = connack(c, persistentConnect("fresh", false));
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.SUCCESS);
            assertThat(ack.sessionPresent()).isFalse();
        }
        awaitOffline("fresh");
        try (RawClient c = open(broker)) {
            assertThat(connack(c, persistentConnect("fresh", false)).sessionPresent()).isTrue();
        }
    }

    @Test
    @DisplayName("[MQTT-3.2.2-2] Clean Start 1 gets Session Present 0 even when a session was stored")
    void cleanStartSessionPresentZero() {
        try (RawClient c = persistent("cs5")) {
            subscribe(c, "cs5/t", QoS.AT_LEAST_ONCE);
        }
        awaitOffline("cs5");
        try (RawClient c = open(broker)) {
            Connack ack = connack(c, persistentConnect("cs5", true));
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.SUCCESS);
            assertThat(ack.sessionPresent()).isFalse();
        }
    }

    @Test
    @DisplayName("[MQTT-3.2.0-1] the first packet the server sends is CONNACK, even when a resumed session has "
            + "messages waiting")
    void connackFirst() {
        try (RawClient c = persistent("first5")) {
            subscribe(c, "first5/t", QoS.AT_LEAST_ONCE);
        }
        awaitOffline("first5");
        publishAcked(broker, publish("first5/t", QoS.AT_LEAST_ONCE, 1, "waiting"));
        try (RawClient c = open(broker)) {
            c.send(persistentConnect("first5", false));
            assertThat(c.read(Connack.class).sessionPresent()).isTrue();
            assertThat(text(c.read(Publish.class))).isEqualTo("waiting");
        }
    }

    @Test
    @DisplayName("[MQTT-3.2.2-1][MQTT-2.2.2-1] CONNACK's acknowledge flags have bits 7-1 clear, and packets without "
            + "properties carry a Property Length of 0 (SUBACK, UNSUBACK)")
    void rawFlagsAndEmptyProperties() {
        try (Clients.Frames f = new Clients.Frames(broker.port())) {
            f.sendHex("10 0f 0004 4d515454 05 00 003c 00 0002 6631");
            byte[] connack = f.frame();
            assertThat(connack[0]).isEqualTo((byte) 0x20);
            assertThat(connack[2] & 0xFE).isZero();
            f.sendHex("82 07 0005 00 0001 61 01");
            byte[] suback = f.frame();
            assertThat(suback).containsExactly(0x90, 0x04, 0x00, 0x05, 0x00, 0x01);
            f.sendHex("a2 06 0006 00 0001 61");
            byte[] unsuback = f.frame();
            assertThat(unsuback).containsExactly(0xb0, 0x04, 0x00, 0x06, 0x00, 0x00);
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-7][MQTT-3.1.2-14] the will is stored with the session and published when the connection "
            + "drops, as a non-retained message when Will Retain is 0")
    void nonRetainedWill() {
        try (RawClient sub = connected(broker, "w-sub")) {
            subscribe(sub, "w5/plain", QoS.AT_LEAST_ONCE);
            RawClient c = connected(broker, connect("w5", true, 60, MqttProperties.EMPTY,
                    new Will("w5/plain", bytes("gone"), QoS.AT_LEAST_ONCE, false, MqttProperties.EMPTY)));
            c.close();
            Publish w = sub.read(Publish.class);
            assertThat(text(w)).isEqualTo("gone");
            assertThat(w.retain()).isFalse();
            assertThat(broker.broker().router().retained().get("w5/plain")).isNull();
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-10] a will is removed once published: the session resumed without a will publishes none "
            + "when it drops again")
    void willPublishedOnce() {
        try (RawClient sub = connected(broker, "once-sub")) {
            subscribe(sub, "once/#", QoS.AT_MOST_ONCE);
            RawClient c = connected(broker, connect("once", false, 60,
                    props(PropertyId.SESSION_EXPIRY_INTERVAL, 600L),
                    new Will("once/will", bytes("will"), QoS.AT_MOST_ONCE, false, MqttProperties.EMPTY)));
            c.close();
            assertThat(text(sub.read(Publish.class))).isEqualTo("will");
            awaitOffline("once");
            RawClient again = persistent("once");
            again.close();
            awaitOffline("once");
            try (RawClient p = connected(broker, "once-pub")) {
                p.send(publish("once/sentinel", QoS.AT_MOST_ONCE, 0, "sentinel"));
                assertThat(text(sub.read(Publish.class))).isEqualTo("sentinel");
            }
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.3-6] each client connecting with an empty identifier is assigned its own unique one")
    void uniqueAssignedIdentifiers() {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 3; i++) {
            try (RawClient c = open(broker)) {
                Connack ack = connack(c, connect(""));
                assertThat(ack.reasonCode()).isEqualTo(ReasonCode.SUCCESS);
                String id = ack.properties().getString(PropertyId.ASSIGNED_CLIENT_IDENTIFIER);
                assertThat(id).isNotEmpty();
                assertThat(ids.add(id)).isTrue();
                assertThat(broker.broker().sessions().get(id)).isNotNull();
            }
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.3-8] a client identifier the server rejects: CONNACK 0x85, then the close")
    void rejectedClientIdentifier() {
        try (TestBroker strict = broker(b -> b.allowZeroLengthClientId(false)); RawClient c = open(strict)) {
            Connack ack = connack(c, connect(""));
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.CLIENT_IDENTIFIER_NOT_VALID);
            c.assertClosedByServer();
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.4-2][MQTT-3.2.2-6][MQTT-3.2.2-7] failed authentication: CONNACK 0x86 with Session Present "
            + "0 even for a stored session, then the close")
    void failedAuthentication() {
        try (TestBroker b = TestBroker.start(c -> { }, r -> CompletableFuture.completedFuture(
                r.password() != null && new String(r.password()).equals("secret") ? AuthResult.ACCEPTED
                        : AuthResult.BAD_USER_NAME_OR_PASSWORD))) {
            Connect good = new Connect(V5, "auth5", false, 60, "u", bytes("secret"), null,
                    props(PropertyId.SESSION_EXPIRY_INTERVAL, 600L));
            try (RawClient c = connected(b, good)) {
                subscribe(c, "auth5/t", QoS.AT_MOST_ONCE);
            }
            await().until(() -> b.broker().sessions().get("auth5") != null
                    && !b.broker().sessions().get("auth5").isConnected());
            try (RawClient c = open(b)) {
                Connack ack = connack(c, new Connect(V5, "auth5", false, 60, "u", bytes("wrong"), null,
                        props(PropertyId.SESSION_EXPIRY_INTERVAL, 600L)));
                assertThat(ack.reasonCode()).isEqualTo(ReasonCode.BAD_USER_NAME_OR_PASSWORD);
                assertThat(ack.sessionPresent()).isFalse();
                c.assertClosedByServer();
            }
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.4-6] after a refused CONNECT nothing the client sent behind it is processed")
    void refusedConnectProcessesNothing() {
        try (TestBroker b = TestBroker.start(c -> { },
                r -> CompletableFuture.completedFuture(AuthResult.NOT_AUTHORIZED)); RawClient c = open(b)) {
            c.send(connect("refused5"));
            c.send(retained("refused5/r", QoS.AT_MOST_ONCE, 0, "must not be stored"));
            Connack ack = c.read(Connack.class);
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.NOT_AUTHORIZED);
            c.assertClosedByServer();
            assertThat(b.broker().router().retained().get("refused5/r")).isNull();
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.4-3] a new connection with the same client identifier: the existing one gets DISCONNECT "
            + "0x8E and is closed")
    void takeover() {
        try (RawClient first = connected(broker, "same5"); RawClient second = open(broker)) {
            assertThat(connack(second, connect("same5")).reasonCode()).isEqualTo(ReasonCode.SUCCESS);
            assertThat(disconnectReason(first)).isEqualTo(ReasonCode.SESSION_TAKEN_OVER);
        }
    }

    @Test
    @DisplayName("[MQTT-3.2.2-12] a will QoS above the server's Maximum QoS: CONNACK 0x9B, then the close")
    void willQosNotSupported() {
        try (TestBroker b = broker(c -> c.maxQos(1)); RawClient c = open(b)) {
            Connack ack = connack(c, connect("wq", true, 60, MqttProperties.EMPTY,
                    new Will("wq/w", bytes("w"), QoS.EXACTLY_ONCE, false, MqttProperties.EMPTY)));
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.QOS_NOT_SUPPORTED);
            c.assertClosedByServer();
        }
    }

    @Test
    @DisplayName("[MQTT-3.2.2-13] a retained will without retain support: CONNACK 0x9A, then the close")
    void willRetainNotSupported() {
        try (TestBroker b = broker(c -> c.retainAvailable(false)); RawClient c = open(b)) {
            Connack ack = connack(c, connect("wr", true, 60, MqttProperties.EMPTY,
                    new Will("wr/w", bytes("w"), QoS.AT_MOST_ONCE, true, MqttProperties.EMPTY)));
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.RETAIN_NOT_SUPPORTED);
            c.assertClosedByServer();
        }
    }

    @Test
    @DisplayName("[MQTT-3.2.2-8][MQTT-3.14.2-1] every CONNACK and DISCONNECT reason code the server sends comes from "
            + "the tables of the standard")
    void reasonCodesFromTables() {
        List<Integer> connacks = new ArrayList<>();
        List<Integer> disconnects = new ArrayList<>();
        try (TestBroker b = TestBroker.start(c -> c.maxQos(1).retainAvailable(false).allowZeroLengthClientId(false)
                .wildcardSubscriptionAvailable(false).subscriptionIdentifierAvailable(false)
                .sharedSubscriptionAvailable(false).maxPacketSize(256).maxTopicAlias(2),
                r -> CompletableFuture.completedFuture("nobody".equals(r.username()) ? AuthResult.NOT_AUTHORIZED
                        : AuthResult.ACCEPTED))) {
            List<Connect> refused = List.of(connect(""),
                    new Connect(V5, "na", true, 60, "nobody", null, null, MqttProperties.EMPTY),
                    connect("wq", true, 60, MqttProperties.EMPTY,
                            new Will("w", bytes("w"), QoS.EXACTLY_ONCE, false, MqttProperties.EMPTY)),
                    connect("wr", true, 60, MqttProperties.EMPTY,
                            new Will("w", bytes("w"), QoS.AT_MOST_ONCE, true, MqttProperties.EMPTY)),
                    connect("am", true, 60, props(PropertyId.AUTHENTICATION_METHOD, "NONE")));
            for (Connect connect : refused) {
                try (RawClient c = open(b)) {
                    connacks.add(connack(c, connect).reasonCode());
                    c.assertClosedByServer();
                }
            }
            try (RawClient c = open(b)) {
                connacks.add(connack(c, connect("ok")).reasonCode());
            }
            List<Consumer<RawClient>> offences = List.of(
                    c -> c.send(publish("t", QoS.EXACTLY_ONCE, 1, "qos")),
                    c -> c.send(retained("t", QoS.AT_MOST_ONCE, 0, "retain")),
                    c -> c.send(subscribe(1, "a/+", QoS.AT_MOST_ONCE)),
                    c -> c.send(subscribe(1, "$share/g/a", QoS.AT_MOST_ONCE)),
                    c -> c.send(new Subscribe(1, List.of(new TopicSubscription("a", QoS.AT_MOST_ONCE)),
                            MqttProperties.builder().subscriptionIdentifier(5).build())),
                    c -> c.send(publish("t", QoS.AT_MOST_ONCE, 0, "x".repeat(300))),
                    c -> c.send(publish("t", QoS.AT_MOST_ONCE, 0, "alias", props(PropertyId.TOPIC_ALIAS, 3))),
                    c -> c.send(connect("again")),
                    c -> c.sendHex("e1 00"));
            for (Consumer<RawClient> offence : offences) {
                try (RawClient c = connected(b, "offender")) {
                    offence.accept(c);
                    disconnects.add(disconnectReason(c));
                }
            }
        }
        assertThat(connacks).hasSize(6).allMatch(CONNACK_CODES::contains);
        assertThat(disconnects).hasSize(9).allMatch(DISCONNECT_CODES::contains);
    }

    // ------------------------------------------------------------------ Maximum Packet Size, Topic Alias, problems

    @Test
    @DisplayName("[MQTT-3.1.2-24][MQTT-3.1.2-25] nothing larger than the client's Maximum Packet Size is sent: a "
            + "too-large message is dropped as if delivered, and the ones after it still flow")
    void maximumPacketSizeRespected() {
        try (RawClient sub = connected(broker, connect("mps", true, 60,
                props(PropertyId.MAXIMUM_PACKET_SIZE, 64L, PropertyId.RECEIVE_MAXIMUM, 1)));
             RawClient pub = connected(broker, "mps-pub")) {
            subscribe(sub, "mps", QoS.AT_LEAST_ONCE);
            pub.send(publish("mps", QoS.AT_LEAST_ONCE, 1, "x".repeat(200)));
            pub.read(Puback.class);
            pub.send(publish("mps", QoS.AT_LEAST_ONCE, 2, "small"));
            pub.read(Puback.class);
            Publish p = sub.read(Publish.class);
            assertThat(text(p)).isEqualTo("small");
            assertThat(size(p)).isLessThanOrEqualTo(64);
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-26][MQTT-3.1.2-27][MQTT-3.3.2-8][MQTT-3.3.2-11] the server's Topic Aliases stay within "
            + "1 and the client's Topic Alias Maximum, and it sends none to a client that set none")
    void outboundTopicAliases() {
        try (RawClient aliased = connected(broker, connect("ta", true, 60, props(PropertyId.TOPIC_ALIAS_MAXIMUM, 2)));
             RawClient plain = connected(broker, "ta-plain"); RawClient pub = connected(broker, "ta-pub")) {
            subscribe(aliased, "ta/#", QoS.AT_MOST_ONCE);
            subscribe(plain, "ta/#", QoS.AT_MOST_ONCE);
            List<String> topics = List.of("ta/a", "ta/b", "ta/c", "ta/a", "ta/b", "ta/c", "ta/c", "ta/d");
            for (String t : topics) {
                pub.send(publish(t, QoS.AT_MOST_ONCE, 0, t));
            }
            Map<Integer, String> aliases = new HashMap<>();
            for (String t : topics) {
                Publish p = aliased.read(Publish.class);
                Integer alias = p.properties().getInt(PropertyId.TOPIC_ALIAS);
                String topic = p.topic();
                if (alias != null) {
                    assertThat(alias).isBetween(1, 2);
                    if (topic.isEmpty()) {
                        topic = aliases.get(alias);
                    } else {
                        aliases.put(alias, topic);
                    }
                }
                assertThat(topic).isEqualTo(t);
                Publish q = plain.read(Publish.class);
                assertThat(q.topic()).isEqualTo(t);
                assertThat(q.properties().contains(PropertyId.TOPIC_ALIAS)).isFalse();
            }
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.2-12] the server accepts every Topic Alias from 1 to the Topic Alias Maximum it announced")
    void inboundTopicAliases() {
        try (RawClient sub = connected(broker, "ia-sub"); RawClient pub = open(broker)) {
            int max = connack(pub, connect("ia-pub")).properties().getInt(PropertyId.TOPIC_ALIAS_MAXIMUM);
            subscribe(sub, "ia/#", QoS.AT_MOST_ONCE);
            for (int alias = 1; alias <= max; alias++) {
                pub.send(publish("ia/" + alias, QoS.AT_MOST_ONCE, 0, "set", props(PropertyId.TOPIC_ALIAS, alias)));
                pub.send(publish("", QoS.AT_MOST_ONCE, 0, "used", props(PropertyId.TOPIC_ALIAS, alias)));
            }
            for (int alias = 1; alias <= max; alias++) {
                assertThat(sub.read(Publish.class).topic()).isEqualTo("ia/" + alias);
                Publish used = sub.read(Publish.class);
                assertThat(used.topic()).isEqualTo("ia/" + alias);
                assertThat(text(used)).isEqualTo("used");
            }
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.2-7] §3.3.2.3.4 Topic Alias mappings end with the connection: an alias set before a "
            + "reconnect is unknown after it, a protocol error (DISCONNECT 0x82)")
    void aliasesDoNotOutliveConnection() {
        try (RawClient c = connected(broker, "alias-life")) {
            c.send(publish("al/t", QoS.AT_MOST_ONCE, 0, "set", props(PropertyId.TOPIC_ALIAS, 1)));
            RawV5Ping.alive(c);
        }
        try (RawClient c = connected(broker, "alias-life")) {
            c.send(publish("", QoS.AT_MOST_ONCE, 0, "use", props(PropertyId.TOPIC_ALIAS, 1)));
            assertThat(disconnectReason(c)).isEqualTo(ReasonCode.PROTOCOL_ERROR);
        }
    }

    @Test
    @DisplayName("§3.3.2.3.4 a Topic Alias of 0 or above the announced Topic Alias Maximum: DISCONNECT 0x94")
    void topicAliasInvalid() {
        for (int alias : List.of(0, 11)) {
            try (RawClient c = connected(broker, "alias-bad")) {
                if (alias == 0) {
                    c.sendHex("30 07 0001 74 03 230000");
                } else {
                    c.send(publish("t", QoS.AT_MOST_ONCE, 0, "x", props(PropertyId.TOPIC_ALIAS, alias)));
                }
                assertThat(disconnectReason(c)).as("alias " + alias).isEqualTo(ReasonCode.TOPIC_ALIAS_INVALID);
            }
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-29] with Request Problem Information 0 no Reason String or User Property is sent on a "
            + "PUBACK or PUBREC (with 1 they may be)")
    void requestProblemInformationZero() {
        MqttProperties badUtf8 = props(PropertyId.PAYLOAD_FORMAT_INDICATOR, 1);
        Publish q1 = new Publish("rpi", QoS.AT_LEAST_ONCE, false, false, 1, new byte[] {(byte) 0xff}, badUtf8);
        Publish q2 = new Publish("rpi", QoS.EXACTLY_ONCE, false, false, 2, new byte[] {(byte) 0xff}, badUtf8);
        try (RawClient quiet = connected(broker, connect("rpi0", true, 60,
                props(PropertyId.REQUEST_PROBLEM_INFORMATION, 0)));
             RawClient chatty = connected(broker, "rpi1")) {
            quiet.send(q1);
            Puback ack = quiet.read(Puback.class);
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.PAYLOAD_FORMAT_INVALID);
            assertThat(ack.properties().isEmpty()).isTrue();
            quiet.send(q2);
            Pubrec rec = quiet.read(Pubrec.class);
            assertThat(rec.reasonCode()).isEqualTo(ReasonCode.PAYLOAD_FORMAT_INVALID);
            assertThat(rec.properties().isEmpty()).isTrue();
            chatty.send(q1);
            assertThat(chatty.read(Puback.class).properties().contains(PropertyId.REASON_STRING)).isTrue();
        }
    }

    @Test
    @DisplayName("[MQTT-3.4.2-2][MQTT-3.4.2-3][MQTT-3.5.2-2][MQTT-3.5.2-3] a PUBACK or PUBREC whose Reason String "
            + "would exceed the client's Maximum Packet Size goes without it")
    void acksWithinMaximumPacketSize() {
        MqttProperties badUtf8 = props(PropertyId.PAYLOAD_FORMAT_INDICATOR, 1);
        try (RawClient c = connected(broker, connect("small-ack", true, 60,
                props(PropertyId.MAXIMUM_PACKET_SIZE, 16L)))) {
            c.send(new Publish("s", QoS.AT_LEAST_ONCE, false, false, 1, new byte[] {(byte) 0xff}, badUtf8));
            Puback ack = c.read(Puback.class);
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.PAYLOAD_FORMAT_INVALID);
            assertThat(size(ack)).isLessThanOrEqualTo(16);
            assertThat(ack.properties().contains(PropertyId.REASON_STRING)).isFalse();
            c.send(new Publish("s", QoS.EXACTLY_ONCE, false, false, 2, new byte[] {(byte) 0xff}, badUtf8));
            Pubrec rec = c.read(Pubrec.class);
            assertThat(size(rec)).isLessThanOrEqualTo(16);
            assertThat(rec.properties().contains(PropertyId.REASON_STRING)).isFalse();
        }
    }

    @Test
    @DisplayName("[MQTT-3.6.2-2][MQTT-3.6.2-3][MQTT-3.7.2-2][MQTT-3.7.2-3][MQTT-3.9.2-1][MQTT-3.9.2-2][MQTT-3.11.2-1]"
            + "[MQTT-3.11.2-2] PUBREL, PUBCOMP, SUBACK and UNSUBACK from the server carry no Reason String or User "
            + "Property, so they never grow past the client's Maximum Packet Size")
    void acksWithoutDiagnostics() {
        try (RawClient c = connected(broker, connect("plain-acks", true, 60,
                props(PropertyId.MAXIMUM_PACKET_SIZE, 32L)));
             RawClient pub = connected(broker, connect("plain-acks-pub", true, 60,
                     props(PropertyId.MAXIMUM_PACKET_SIZE, 32L)))) {
            Suback suback = sendAndRead(c, subscribe(1, "pa", QoS.EXACTLY_ONCE), Suback.class);
            assertThat(suback.properties().isEmpty()).isTrue();
            pub.send(publish("pa", QoS.EXACTLY_ONCE, 7, "x"));
            pub.read(Pubrec.class);
            pub.send(new Pubrel(7));
            assertThat(pub.read(Pubcomp.class).properties().isEmpty()).isTrue();
            Publish delivered = c.read(Publish.class);
            c.send(new Pubrec(delivered.packetId(), ReasonCode.SUCCESS, MqttProperties.EMPTY));
            assertThat(c.read(Pubrel.class).properties().isEmpty()).isTrue();
            c.send(new Pubcomp(delivered.packetId(), ReasonCode.SUCCESS, MqttProperties.EMPTY));
            Unsuback unsuback = sendAndRead(c, new Unsubscribe(3, List.of("pa", "none"), MqttProperties.EMPTY),
                    Unsuback.class);
            assertThat(unsuback.properties().isEmpty()).isTrue();
        }
    }

    private static <T extends MqttPacket> T sendAndRead(RawClient c, MqttPacket p, Class<T> type) {
        c.send(p);
        return c.read(type);
    }

    // ------------------------------------------------------------------ PUBLISH, sender side

    @Test
    @DisplayName("[MQTT-3.3.1-1][MQTT-2.2.1-4][MQTT-4.3.2-1][MQTT-4.3.2-2][MQTT-4.3.2-3][MQTT-4.4.0-1] QoS 1 sender: "
            + "DUP 0 and an unused non-zero identifier; unacknowledged messages are resent only on resume, with DUP 1 "
            + "and their identifiers")
    void qos1Sender() {
        List<Integer> ids = new ArrayList<>();
        try (RawClient sub = persistent("s1")) {
            subscribe(sub, "s1", QoS.AT_LEAST_ONCE);
            for (int i = 0; i < 3; i++) {
                publishAcked(broker, publish("s1", QoS.AT_LEAST_ONCE, 1, "m" + i));
            }
            for (int i = 0; i < 3; i++) {
                Publish p = sub.read(Publish.class);
                assertThat(p.dup()).isFalse();
                assertThat(p.packetId()).isNotZero().isNotIn(ids);
                ids.add(p.packetId());
            }
            // not resent while the connection lasts
            sub.assertSilentFor(Duration.ofMillis(300));
        }
        awaitOffline("s1");
        try (RawClient sub = open(broker)) {
            assertThat(connack(sub, persistentConnect("s1", false)).sessionPresent()).isTrue();
            for (int i = 0; i < 3; i++) {
                Publish p = sub.read(Publish.class);
                assertThat(text(p)).isEqualTo("m" + i);
                assertThat(p.dup()).isTrue();
                assertThat(p.packetId()).isEqualTo(ids.get(i));
                sub.send(new Puback(p.packetId()));
            }
        }
        awaitOffline("s1");
        try (RawClient sub = open(broker)) {
            connack(sub, persistentConnect("s1", false));
            RawV5Ping.alive(sub);
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.1-2][MQTT-4.3.1-1][MQTT-2.2.1-2] QoS 0 messages go out with QoS 0, DUP 0 and no packet "
            + "identifier")
    void qos0Sender() {
        try (RawClient sub = connected(broker, "s0"); RawClient pub = connected(broker, "s0-pub")) {
            subscribe(sub, "s0", QoS.EXACTLY_ONCE);
            pub.send(publish("s0", QoS.AT_MOST_ONCE, 0, "abc"));
            Publish p = sub.read(Publish.class);
            assertThat(p.qos()).isEqualTo(QoS.AT_MOST_ONCE);
            assertThat(p.dup()).isFalse();
            assertThat(p.packetId()).isZero();
            assertThat(text(p)).isEqualTo("abc");
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.1-3] the DUP flag of an incoming PUBLISH is not passed on to subscribers")
    void dupNotPropagated() {
        try (RawClient sub = connected(broker, "d5"); RawClient pub = connected(broker, "d5-pub")) {
            subscribe(sub, "d5", QoS.AT_LEAST_ONCE);
            pub.send(new Publish("d5", QoS.AT_LEAST_ONCE, false, true, 3, bytes("x"), MqttProperties.EMPTY));
            pub.read(Puback.class);
            assertThat(sub.read(Publish.class).dup()).isFalse();
        }
    }

    @Test
    @DisplayName("[MQTT-4.3.3-1][MQTT-4.3.3-2][MQTT-4.3.3-3][MQTT-4.3.3-4][MQTT-4.3.3-5][MQTT-4.3.3-6][MQTT-3.6.2-1] "
            + "QoS 2 sender: PUBLISH with DUP 0 until PUBREC, then PUBREL (0x00) with its identifier until PUBCOMP; "
            + "after PUBREC only the PUBREL is resent; a PUBREC for an unknown identifier gets PUBREL 0x92")
    void qos2Sender() {
        int id;
        try (RawClient sub = persistent("s2")) {
            subscribe(sub, "s2", QoS.EXACTLY_ONCE);
            try (RawClient pub = connected(broker, "s2-pub")) {
                pub.send(publish("s2", QoS.EXACTLY_ONCE, 1, "two"));
                pub.read(Pubrec.class);
                pub.send(new Pubrel(1));
                pub.read(Pubcomp.class);
            }
            Publish p = sub.read(Publish.class);
            assertThat(p.qos()).isEqualTo(QoS.EXACTLY_ONCE);
            assertThat(p.dup()).isFalse();
            id = p.packetId();
        }
        awaitOffline("s2");
        try (RawClient sub = open(broker)) {
            connack(sub, persistentConnect("s2", false));
            Publish again = sub.read(Publish.class);
            assertThat(again.dup()).isTrue();
            assertThat(again.packetId()).isEqualTo(id);
            sub.send(new Pubrec(id, ReasonCode.SUCCESS, MqttProperties.EMPTY));
            Pubrel rel = sub.read(Pubrel.class);
            assertThat(rel.packetId()).isEqualTo(id);
            assertThat(rel.reasonCode()).isEqualTo(ReasonCode.SUCCESS);
        }
        awaitOffline("s2");
        try (RawClient sub = open(broker)) {
            connack(sub, persistentConnect("s2", false));
            assertThat(sub.read(Pubrel.class).packetId()).isEqualTo(id);
            sub.send(new Pubcomp(id, ReasonCode.SUCCESS, MqttProperties.EMPTY));
            sub.send(new Pubrec(4321, ReasonCode.SUCCESS, MqttProperties.EMPTY));
            Pubrel unknown = sub.read(Pubrel.class);
            assertThat(unknown.packetId()).isEqualTo(4321);
            assertThat(unknown.reasonCode()).isEqualTo(ReasonCode.PACKET_IDENTIFIER_NOT_FOUND);
        }
    }

    @Test
    @DisplayName("[MQTT-4.4.0-2] a PUBACK or PUBREC with a Reason Code of 0x80 or more acknowledges the message: it is "
            + "not sent again")
    void errorAckEndsDelivery() {
        try (RawClient sub = persistent("neg")) {
            subscribe(sub, "neg/#", QoS.EXACTLY_ONCE);
            publishAcked(broker, publish("neg/1", QoS.AT_LEAST_ONCE, 1, "one"));
            Publish one = sub.read(Publish.class);
            sub.send(new Puback(one.packetId(), ReasonCode.UNSPECIFIED_ERROR, MqttProperties.EMPTY));
            try (RawClient pub = connected(broker, "neg-pub")) {
                pub.send(publish("neg/2", QoS.EXACTLY_ONCE, 1, "two"));
                pub.read(Pubrec.class);
                pub.send(new Pubrel(1));
                pub.read(Pubcomp.class);
            }
            Publish two = sub.read(Publish.class);
            sub.send(new Pubrec(two.packetId(), ReasonCode.UNSPECIFIED_ERROR, MqttProperties.EMPTY));
            RawV5Ping.alive(sub);
        }
        awaitOffline("neg");
        try (RawClient sub = open(broker)) {
            connack(sub, persistentConnect("neg", false));
            RawV5Ping.alive(sub);
        }
    }

    @Test
    @DisplayName("[MQTT-4.3.3-7][MQTT-4.3.3-13] expiry is not applied once sent: a QoS 2 message sent before its "
            + "Message Expiry Interval passed is resent after it; an inbound QoS 2 flow completes after its expiry")
    void noExpiryAfterSending() {
        try (RawClient sub = persistent("exp2")) {
            subscribe(sub, "exp2", QoS.EXACTLY_ONCE);
            try (RawClient pub = connected(broker, "exp2-pub")) {
                pub.send(publish("exp2", QoS.EXACTLY_ONCE, 1, "short-lived",
                        props(PropertyId.MESSAGE_EXPIRY_INTERVAL, 1L)));
                assertThat(pub.read(Pubrec.class).reasonCode()).isEqualTo(ReasonCode.SUCCESS);
                sub.read(Publish.class);
                // let the message expire, then finish the inbound flow
                await().pollDelay(Duration.ofMillis(1200)).until(() -> true);
                pub.send(new Pubrel(1));
                Pubcomp comp = pub.read(Pubcomp.class);
                assertThat(comp.reasonCode()).isEqualTo(ReasonCode.SUCCESS);
            }
        }
        awaitOffline("exp2");
        try (RawClient sub = open(broker)) {
            connack(sub, persistentConnect("exp2", false));
            Publish again = sub.read(Publish.class);
            assertThat(text(again)).isEqualTo("short-lived");
            assertThat(again.dup()).isTrue();
        }
    }

    // ------------------------------------------------------------------ PUBLISH, receiver side

    @Test
    @DisplayName("[MQTT-3.3.4-1][MQTT-2.2.1-5][MQTT-4.3.2-4][MQTT-4.3.2-5][MQTT-4.3.3-8][MQTT-4.3.3-9][MQTT-4.3.3-10]"
            + "[MQTT-4.3.3-11][MQTT-4.3.3-12][MQTT-3.4.2-1][MQTT-3.5.2-1][MQTT-3.7.2-1] receiver: no answer to QoS 0, "
            + "PUBACK to QoS 1, PUBREC/PUBCOMP to QoS 2, with the packet's identifier and a listed reason code")
    void receiver() {
        try (RawClient sub = connected(broker, "rx-sub"); RawClient pub = connected(broker, "rx-pub")) {
            subscribe(sub, "rx", QoS.AT_MOST_ONCE);
            pub.send(publish("rx", QoS.AT_MOST_ONCE, 0, "q0"));
            RawV5Ping.alive(pub);
            pub.send(publish("rx", QoS.AT_LEAST_ONCE, 5, "q1 a"));
            Puback a = pub.read(Puback.class);
            assertThat(a.packetId()).isEqualTo(5);
            assertThat(a.reasonCode()).isIn(PUBACK_CODES);
            pub.send(publish("rx", QoS.AT_LEAST_ONCE, 5, "q1 b"));
            assertThat(pub.read(Puback.class).packetId()).isEqualTo(5);
            pub.send(publish("nobody/here", QoS.AT_LEAST_ONCE, 6, "unmatched"));
            Puback none = pub.read(Puback.class);
            assertThat(none.reasonCode()).isEqualTo(ReasonCode.NO_MATCHING_SUBSCRIBERS).isIn(PUBACK_CODES);
            // QoS 2 refused (payload says UTF-8 but is not): PUBREC 0x99; the identifier is then free again
            pub.send(new Publish("rx", QoS.EXACTLY_ONCE, false, false, 7, new byte[] {(byte) 0xff},
                    props(PropertyId.PAYLOAD_FORMAT_INDICATOR, 1)));
            Pubrec refused = pub.read(Pubrec.class);
            assertThat(refused.reasonCode()).isEqualTo(ReasonCode.PAYLOAD_FORMAT_INVALID).isIn(PUBACK_CODES);
            pub.send(publish("rx", QoS.EXACTLY_ONCE, 7, "q2"));
            Pubrec rec = pub.read(Pubrec.class);
            assertThat(rec.packetId()).isEqualTo(7);
            assertThat(rec.reasonCode()).isIn(PUBACK_CODES);
            pub.send(new Publish("rx", QoS.EXACTLY_ONCE, false, true, 7, bytes("q2"), MqttProperties.EMPTY));
            assertThat(pub.read(Pubrec.class).packetId()).isEqualTo(7);
            pub.send(new Pubrel(7));
            Pubcomp comp = pub.read(Pubcomp.class);
            assertThat(comp.packetId()).isEqualTo(7);
            assertThat(comp.reasonCode()).isEqualTo(ReasonCode.SUCCESS);
            pub.send(publish("rx", QoS.EXACTLY_ONCE, 7, "q2 again"));
            pub.read(Pubrec.class);
            pub.send(new Pubrel(7));
            pub.read(Pubcomp.class);
            pub.send(new Pubrel(999));
            Pubcomp unknown = pub.read(Pubcomp.class);
            assertThat(unknown.packetId()).isEqualTo(999);
            assertThat(unknown.reasonCode()).isEqualTo(ReasonCode.PACKET_IDENTIFIER_NOT_FOUND);
            for (String expected : List.of("q0", "q1 a", "q1 b", "q2", "q2 again")) {
                assertThat(text(sub.read(Publish.class))).isEqualTo(expected);
            }
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.4-9][MQTT-3.3.4-10][MQTT-4.9.0-1][MQTT-4.9.0-2][MQTT-4.9.0-3] no more unacknowledged QoS 1 "
            + "PUBLISHes than the client's Receive Maximum; other packets are not held back meanwhile")
    void clientReceiveMaximum() {
        try (RawClient sub = connected(broker, connect("rm", true, 60, props(PropertyId.RECEIVE_MAXIMUM, 2)));
             RawClient pub = connected(broker, "rm-pub")) {
            subscribe(sub, "rm", QoS.AT_LEAST_ONCE);
            for (int i = 0; i < 5; i++) {
                pub.send(publish("rm", QoS.AT_LEAST_ONCE, i + 1, "m" + i));
                pub.read(Puback.class);
            }
            Publish first = sub.read(Publish.class);
            Publish second = sub.read(Publish.class);
            sub.send(Pingreq.INSTANCE);
            assertThat(sub.read()).isEqualTo(Pingresp.INSTANCE);
            Suback ack = sendAndRead(sub, subscribe(2, "rm/other", QoS.AT_MOST_ONCE), Suback.class);
            assertThat(ack.packetId()).isEqualTo(2);
            sub.send(new Puback(first.packetId()));
            assertThat(text(sub.read(Publish.class))).isEqualTo("m2");
            sub.send(Pingreq.INSTANCE);
            assertThat(sub.read()).isEqualTo(Pingresp.INSTANCE);
            assertThat(text(second)).isEqualTo("m1");
        }
    }

    @Test
    @DisplayName("§3.3.4 more unacknowledged QoS 2 PUBLISHes than the server's Receive Maximum: DISCONNECT 0x93")
    void serverReceiveMaximumExceeded() {
        try (TestBroker b = broker(c -> c.receiveMaximum(2)); RawClient c = connected(b, "flood")) {
            for (int id = 1; id <= 2; id++) {
                c.send(publish("flood", QoS.EXACTLY_ONCE, id, "m"));
                c.read(Pubrec.class);
            }
            c.send(publish("flood", QoS.EXACTLY_ONCE, 3, "one too many"));
            assertThat(disconnectReason(c)).isEqualTo(ReasonCode.RECEIVE_MAXIMUM_EXCEEDED);
        }
    }

    // ------------------------------------------------------------------ retained messages

    @Test
    @DisplayName("[MQTT-3.3.1-5][MQTT-3.3.1-6][MQTT-3.3.1-7][MQTT-3.3.1-8] RETAIN 1 replaces and stores the message "
            + "with its QoS; an empty one removes it (and is still forwarded) and is not stored; RETAIN 0 changes "
            + "nothing")
    void retainedStore() {
        try (RawClient live = connected(broker, "rs-live"); RawClient pub = connected(broker, "rs-pub")) {
            subscribe(live, "rs/#", QoS.AT_LEAST_ONCE);
            pub.send(retained("rs/a", QoS.AT_LEAST_ONCE, 1, "one"));
            pub.read(Puback.class);
            pub.send(retained("rs/a", QoS.AT_MOST_ONCE, 0, "two"));
            pub.send(publish("rs/a", QoS.AT_LEAST_ONCE, 2, "not retained"));
            pub.read(Puback.class);
            pub.send(retained("rs/b", QoS.AT_LEAST_ONCE, 3, "b"));
            pub.read(Puback.class);
            pub.send(retained("rs/b", QoS.AT_LEAST_ONCE, 4, ""));
            pub.read(Puback.class);
            for (String expected : List.of("one", "two", "not retained", "b", "")) {
                Publish p = live.read(Publish.class);
                assertThat(text(p)).isEqualTo(expected);
                if (p.qos() != QoS.AT_MOST_ONCE) {
                    live.send(new Puback(p.packetId()));
                }
            }
        }
        assertThat(broker.broker().router().retained().get("rs/b")).isNull();
        try (RawClient later = connected(broker, "rs-later")) {
            subscribe(later, "rs/#", QoS.EXACTLY_ONCE);
            Publish p = later.read(Publish.class);
            assertThat(p.topic()).isEqualTo("rs/a");
            assertThat(text(p)).isEqualTo("two");
            assertThat(p.qos()).isEqualTo(QoS.AT_MOST_ONCE);
            assertThat(p.retain()).isTrue();
            RawV5Ping.alive(later);
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.1-9][MQTT-3.3.1-10][MQTT-3.3.1-11][MQTT-3.8.4-4] Retain Handling 0 sends the retained "
            + "messages on every SUBSCRIBE, 1 only when the subscription is new, 2 never")
    void retainHandling() {
        publishAcked(broker, retained("rh/t", QoS.AT_LEAST_ONCE, 1, "stored"));
        try (RawClient c = connected(broker, "rh")) {
            for (int rh = 0; rh <= 2; rh++) {
                String filter = "rh/" + (rh == 0 ? "t" : rh == 1 ? "+" : "#");
                for (int round = 0; round < 2; round++) {
                    assertThat(Clients.subscribe(c, sub(10 + rh * 2 + round, filter, QoS.AT_MOST_ONCE, false,
                            false, rh))).containsExactly(0);
                    boolean expected = rh == 0 || (rh == 1 && round == 0);
                    if (expected) {
                        Publish p = c.read(Publish.class);
                        assertThat(p.retain()).as("rh " + rh + " round " + round).isTrue();
                    }
                    RawV5Ping.alive(c);
                }
            }
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.1-12][MQTT-3.3.1-13] Retain As Published 0 forwards with RETAIN 0, 1 with the RETAIN "
            + "flag the message was published with")
    void retainAsPublished() {
        try (RawClient rap0 = connected(broker, "rap0"); RawClient rap1 = connected(broker, "rap1");
             RawClient pub = connected(broker, "rap-pub")) {
            Clients.subscribe(rap0, sub(1, "rap", QoS.AT_MOST_ONCE, false, false, 2));
            Clients.subscribe(rap1, sub(1, "rap", QoS.AT_MOST_ONCE, false, true, 2));
            pub.send(retained("rap", QoS.AT_MOST_ONCE, 0, "retained"));
            pub.send(publish("rap", QoS.AT_MOST_ONCE, 0, "plain"));
            assertThat(rap0.read(Publish.class).retain()).isFalse();
            assertThat(rap0.read(Publish.class).retain()).isFalse();
            assertThat(rap1.read(Publish.class).retain()).isTrue();
            assertThat(rap1.read(Publish.class).retain()).isFalse();
        }
    }

    // ------------------------------------------------------------------ SUBSCRIBE / UNSUBSCRIBE

    @Test
    @DisplayName("[MQTT-3.8.3-3] No Local: the publishing connection gets nothing on its No Local subscription, "
            + "others still do")
    void noLocal() {
        try (RawClient self = connected(broker, "nl"); RawClient other = connected(broker, "nl-other")) {
            Clients.subscribe(self, sub(1, "nl/#", QoS.AT_MOST_ONCE, true, false, 0));
            subscribe(other, "nl/#", QoS.AT_MOST_ONCE);
            self.send(publish("nl/own", QoS.AT_MOST_ONCE, 0, "own"));
            assertThat(text(other.read(Publish.class))).isEqualTo("own");
            other.send(publish("nl/theirs", QoS.AT_MOST_ONCE, 0, "theirs"));
            assertThat(text(self.read(Publish.class))).isEqualTo("theirs");
        }
    }

    @Test
    @DisplayName("[MQTT-3.8.4-1][MQTT-3.8.4-2][MQTT-3.8.4-5][MQTT-3.8.4-6][MQTT-3.8.4-7][MQTT-3.9.3-1][MQTT-3.9.3-2]"
            + "[MQTT-2.2.1-6][MQTT-4.7.1-1][MQTT-4.7.1-2][MQTT-4.7.3-1] one SUBACK for a SUBSCRIBE of several filters, "
            + "with its identifier and a listed code per filter, in order: the granted QoS or why it failed")
    void multiFilterSubscribe() {
        try (TestBroker b = broker(c -> c.maxSubscriptionsPerClient(3)); RawClient c = connected(b, "mf");
             RawClient pub = connected(b, "mf-pub")) {
            List<Integer> codes = Clients.subscribe(c, new Subscribe(77, List.of(
                    new TopicSubscription("mf/a", QoS.AT_MOST_ONCE),
                    new TopicSubscription("mf/+", QoS.EXACTLY_ONCE),
                    new TopicSubscription("mf/#/x", QoS.AT_LEAST_ONCE),
                    new TopicSubscription("mf+", QoS.AT_LEAST_ONCE),
                    new TopicSubscription("mf#", QoS.AT_LEAST_ONCE),
                    new TopicSubscription("", QoS.AT_LEAST_ONCE),
                    new TopicSubscription("mf/c", QoS.AT_LEAST_ONCE),
                    new TopicSubscription("mf/d", QoS.AT_LEAST_ONCE)), MqttProperties.EMPTY));
            assertThat(codes).containsExactly(0, 2, 0x8F, 0x8F, 0x8F, 0x8F, 1, ReasonCode.QUOTA_EXCEEDED);
            assertThat(codes).allMatch(SUBACK_CODES::contains);
            pub.send(publish("mf/c", QoS.AT_LEAST_ONCE, 1, "c"));
            pub.read(Puback.class);
            assertThat(text(c.read(Publish.class))).isEqualTo("c");
        }
    }

    @Test
    @DisplayName("[MQTT-3.8.4-3][MQTT-3.8.4-8] a SUBSCRIBE to an existing filter replaces the subscription: one copy "
            + "per message, at the minimum of the published and the new granted QoS")
    void subscriptionReplaced() {
        try (RawClient c = connected(broker, "repl"); RawClient pub = connected(broker, "repl-pub")) {
            subscribe(c, "repl", QoS.EXACTLY_ONCE);
            subscribe(c, "repl", QoS.AT_LEAST_ONCE);
            pub.send(publish("repl", QoS.EXACTLY_ONCE, 1, "two"));
            pub.read(Pubrec.class);
            pub.send(new Pubrel(1));
            pub.read(Pubcomp.class);
            pub.send(publish("repl", QoS.AT_MOST_ONCE, 0, "zero"));
            Publish p = c.read(Publish.class);
            assertThat(text(p)).isEqualTo("two");
            assertThat(p.qos()).isEqualTo(QoS.AT_LEAST_ONCE);
            Publish z = c.read(Publish.class);
            assertThat(text(z)).isEqualTo("zero");
            assertThat(z.qos()).isEqualTo(QoS.AT_MOST_ONCE);
        }
    }

    @Test
    @DisplayName("[MQTT-3.10.4-1][MQTT-3.10.4-2][MQTT-3.10.4-4][MQTT-3.10.4-5][MQTT-3.10.4-6][MQTT-3.11.3-1]"
            + "[MQTT-3.11.3-2][MQTT-2.2.1-6] UNSUBSCRIBE deletes exactly equal filters, stops their messages, and gets "
            + "one UNSUBACK with its identifier and a code per filter, in order (0x11 where none existed)")
    void unsubscribe() {
        try (RawClient c = connected(broker, "un5"); RawClient pub = connected(broker, "un5-pub")) {
            subscribe(c, "un/+", QoS.AT_MOST_ONCE);
            subscribe(c, "un/b", QoS.AT_MOST_ONCE);
            Unsuback ack = sendAndRead(c, new Unsubscribe(31, List.of("un/#", "un/b", "un/x"), MqttProperties.EMPTY),
                    Unsuback.class);
            assertThat(ack.packetId()).isEqualTo(31);
            assertThat(ack.reasonCodes()).containsExactly(ReasonCode.NO_SUBSCRIPTION_EXISTED, ReasonCode.SUCCESS,
                    ReasonCode.NO_SUBSCRIPTION_EXISTED);
            pub.send(publish("un/b", QoS.AT_MOST_ONCE, 0, "via un/+"));
            assertThat(text(c.read(Publish.class))).isEqualTo("via un/+");
            sendAndRead(c, new Unsubscribe(32, List.of("un/+"), MqttProperties.EMPTY), Unsuback.class);
            pub.send(publish("un/b", QoS.AT_MOST_ONCE, 0, "nobody"));
            RawV5Ping.alive(pub);
            RawV5Ping.alive(c);
        }
    }

    @Test
    @DisplayName("[MQTT-3.10.4-3] a QoS 1 message in flight when its subscription is deleted is still delivered")
    void unsubscribeCompletesInflight() {
        try (RawClient c = persistent("uf5")) {
            subscribe(c, "uf5", QoS.AT_LEAST_ONCE);
            publishAcked(broker, publish("uf5", QoS.AT_LEAST_ONCE, 1, "in flight"));
            c.read(Publish.class);
            sendAndRead(c, new Unsubscribe(2, List.of("uf5"), MqttProperties.EMPTY), Unsuback.class);
        }
        awaitOffline("uf5");
        try (RawClient c = open(broker)) {
            connack(c, persistentConnect("uf5", false));
            Publish again = c.read(Publish.class);
            assertThat(text(again)).isEqualTo("in flight");
            assertThat(again.dup()).isTrue();
        }
    }

    // ------------------------------------------------------------------ sessions, topics, shared subscriptions

    @Test
    @DisplayName("[MQTT-4.1.0-1] the session is kept while the connection is open, even past its Session Expiry "
            + "Interval")
    void sessionKeptWhileConnected() {
        try (RawClient c = connected(broker, connect("kept", true, 60,
                props(PropertyId.SESSION_EXPIRY_INTERVAL, 1L)))) {
            subscribe(c, "kept", QoS.AT_LEAST_ONCE);
            await().pollDelay(Duration.ofMillis(1500)).until(() -> true);
            publishAcked(broker, publish("kept", QoS.AT_LEAST_ONCE, 1, "still subscribed"));
            assertThat(text(c.read(Publish.class))).isEqualTo("still subscribed");
        }
    }

    @Test
    @DisplayName("[MQTT-4.7.2-1] filters starting with a wildcard do not match topics starting with $ (3.1.1 and 5.0)")
    void dollarTopics() {
        for (var v : List.of(Clients.V311, V5)) {
            try (RawClient c = Clients.connected(broker, v, "dollar"); RawClient pub = Clients.connected(broker, v,
                    "dollar-pub")) {
                Clients.subscribe(c, 1, "#", QoS.AT_MOST_ONCE);
                Clients.subscribe(c, 2, "+/x", QoS.AT_MOST_ONCE);
                Clients.subscribe(c, 3, "$d/+", QoS.AT_MOST_ONCE);
                // not $SYS: clients may not publish there (SysTreeTest)
                pub.send(publish("$e/x", QoS.AT_MOST_ONCE, 0, "hidden"));
                pub.send(publish("$d/x", QoS.AT_MOST_ONCE, 0, "named"));
                Publish p = c.read(Publish.class);
                assertThat(p.topic()).as(v.toString()).isEqualTo("$d/x");
            }
        }
    }

    @Test
    @DisplayName("[MQTT-4.8.2-1][MQTT-4.8.2-2] a shared subscription filter needs $share/, a non-empty ShareName "
            + "without / + #, then / and a filter: others get SUBACK 0x8F")
    void invalidShareNames() {
        try (RawClient c = connected(broker, "share-names")) {
            List<Integer> codes = Clients.subscribe(c, new Subscribe(1, List.of(
                    new TopicSubscription("$share//a", QoS.AT_MOST_ONCE),
                    new TopicSubscription("$share/g+/a", QoS.AT_MOST_ONCE),
                    new TopicSubscription("$share/g#/a", QoS.AT_MOST_ONCE),
                    new TopicSubscription("$share/g", QoS.AT_MOST_ONCE),
                    new TopicSubscription("$share/g/", QoS.AT_MOST_ONCE),
                    new TopicSubscription("$share/g/a/#", QoS.AT_MOST_ONCE)), MqttProperties.EMPTY));
            assertThat(codes).containsExactly(0x8F, 0x8F, 0x8F, 0x8F, 0x8F, 0);
        }
    }

    @Test
    @DisplayName("[MQTT-4.8.2-3] a shared subscription member gets messages at no more than its granted QoS")
    void sharedGrantedQos() {
        try (RawClient m = connected(broker, "sq"); RawClient pub = connected(broker, "sq-pub")) {
            subscribe(m, "$share/g/sq", QoS.AT_MOST_ONCE);
            pub.send(publish("sq", QoS.EXACTLY_ONCE, 1, "q2"));
            pub.read(Pubrec.class);
            pub.send(new Pubrel(1));
            pub.read(Pubcomp.class);
            assertThat(m.read(Publish.class).qos()).isEqualTo(QoS.AT_MOST_ONCE);
        }
    }

    @Test
    @DisplayName("[MQTT-4.8.2-4][MQTT-4.8.2-5] a QoS 2 message in flight to a shared subscription member stays with "
            + "it: completed when it reconnects, and given to no other member when its session ends")
    void sharedQos2StaysWithMember() {
        try (RawClient other = connected(broker, "sh-other")) {
            subscribe(other, "$share/g/sh", QoS.EXACTLY_ONCE);
            try (RawClient a = persistent("sh-a")) {
                subscribe(a, "$share/g/sh", QoS.EXACTLY_ONCE);
                // round robin: the first message goes to "other", the second to "a"
                try (RawClient pub = connected(broker, "sh-pub")) {
                    for (int i = 1; i <= 2; i++) {
                        pub.send(publish("sh", QoS.EXACTLY_ONCE, i, "m" + i));
                        pub.read(Pubrec.class);
                        pub.send(new Pubrel(i));
                        pub.read(Pubcomp.class);
                    }
                }
                Publish toOther = other.read(Publish.class);
                other.send(new Pubrec(toOther.packetId(), ReasonCode.SUCCESS, MqttProperties.EMPTY));
                other.read(Pubrel.class);
                other.send(new Pubcomp(toOther.packetId(), ReasonCode.SUCCESS, MqttProperties.EMPTY));
                assertThat(text(a.read(Publish.class))).isNotEqualTo(text(toOther));
            }
            awaitOffline("sh-a");
            try (RawClient a = open(broker)) {
                connack(a, persistentConnect("sh-a", false));
                Publish again = a.read(Publish.class);
                assertThat(again.dup()).isTrue();
                // now end its session with the message in flight
                a.send(new Disconnect(ReasonCode.NORMAL_DISCONNECTION,
                        props(PropertyId.SESSION_EXPIRY_INTERVAL, 0L)));
                a.assertClosedByServer();
            }
            awaitGone("sh-a");
            try (RawClient pub = connected(broker, "sh-pub2")) {
                pub.send(publish("sh", QoS.AT_MOST_ONCE, 0, "sentinel"));
                assertThat(text(other.read(Publish.class))).isEqualTo("sentinel");
            }
        }
    }

    @Test
    @DisplayName("[MQTT-4.8.2-6] a member's PUBACK with an error code discards the message: no other member gets it")
    void sharedNegativeAck() {
        try (RawClient a = connected(broker, "na-a"); RawClient pub = connected(broker, "na-pub")) {
            subscribe(a, "$share/g/na", QoS.AT_LEAST_ONCE);
            pub.send(publish("na", QoS.AT_LEAST_ONCE, 1, "refused"));
            pub.read(Puback.class);
            Publish p = a.read(Publish.class);
            a.send(new Puback(p.packetId(), ReasonCode.UNSPECIFIED_ERROR, MqttProperties.EMPTY));
            RawV5Ping.alive(a);
            try (RawClient b = connected(broker, "na-b")) {
                subscribe(b, "$share/g/na", QoS.AT_LEAST_ONCE);
                a.close();
                awaitGone("na-a");
                pub.send(publish("na", QoS.AT_MOST_ONCE, 0, "sentinel"));
                assertThat(text(b.read(Publish.class))).isEqualTo("sentinel");
            }
        }
    }

    // ------------------------------------------------------------------ enhanced authentication

    /** One challenge, then success if the client answers "pass", failure 0x87 otherwise. */
    private static final class OneChallenge implements EnhancedAuthenticator {
        @Override
        public String method() {
            return "ONE-CHALLENGE";
        }

        @Override
        public AuthExchange start(io.ternmq.broker.security.AuthRequest request) {
            return new AuthExchange() {
                private boolean challenged;

                @Override
                public java.util.concurrent.CompletionStage<AuthStep> respond(byte[] data) {
                    if (!challenged) {
                        challenged = true;
                        return CompletableFuture.completedFuture(AuthStep.challenge(bytes("prove it")));
                    }
                    boolean ok = data != null && "pass".equals(new String(data));
                    return CompletableFuture.completedFuture(ok ? AuthStep.success(null)
                            : AuthStep.failure(ReasonCode.NOT_AUTHORIZED));
                }
            };
        }
    }

    private static MqttProperties authProps(String data) {
        MqttProperties.Builder b = MqttProperties.builder().set(PropertyId.AUTHENTICATION_METHOD, "ONE-CHALLENGE");
        if (data != null) {
            b.set(PropertyId.AUTHENTICATION_DATA, bytes(data));
        }
        return b.build();
    }

    @Test
    @DisplayName("[MQTT-3.15.2-1][MQTT-3.15.2-2][MQTT-3.15.2-3][MQTT-4.12.0-4] AUTH from the server uses a listed "
            + "reason code and carries only method and data; a rejected exchange gets CONNACK 0x87, then the close")
    void enhancedAuthentication() {
        try (TestBroker b = TestBroker.start(c -> { }, new AnonymousAuthenticator(), List.of(new OneChallenge()))) {
            try (RawClient c = open(b)) {
                c.send(connect("ea", true, 60, authProps(null)));
                Auth challenge = c.read(Auth.class);
                assertThat(challenge.reasonCode()).isEqualTo(ReasonCode.CONTINUE_AUTHENTICATION);
                assertThat(challenge.properties().contains(PropertyId.REASON_STRING)).isFalse();
                assertThat(challenge.properties().userProperties()).isEmpty();
                c.send(new Auth(ReasonCode.CONTINUE_AUTHENTICATION, authProps("pass")));
                assertThat(c.read(Connack.class).reasonCode()).isEqualTo(ReasonCode.SUCCESS);
                c.send(new Auth(ReasonCode.RE_AUTHENTICATE, authProps(null)));
                assertThat(c.read(Auth.class).reasonCode()).isEqualTo(ReasonCode.CONTINUE_AUTHENTICATION);
                c.send(new Auth(ReasonCode.CONTINUE_AUTHENTICATION, authProps("pass")));
                Auth done = c.read(Auth.class);
                assertThat(done.reasonCode()).isEqualTo(ReasonCode.SUCCESS);
                assertThat(done.properties().contains(PropertyId.REASON_STRING)).isFalse();
            }
            try (RawClient c = open(b)) {
                c.send(connect("ea-bad", true, 60, authProps(null)));
                c.read(Auth.class);
                c.send(new Auth(ReasonCode.CONTINUE_AUTHENTICATION, authProps("fail")));
                Connack ack = c.read(Connack.class);
                assertThat(ack.reasonCode()).isEqualTo(ReasonCode.NOT_AUTHORIZED);
                c.assertClosedByServer();
            }
        }
    }

    @Test
    @DisplayName("[MQTT-4.12.0-6] a client that named no Authentication Method gets no AUTH and no Authentication "
            + "Method in CONNACK")
    void noAuthWithoutMethod() {
        try (TestBroker b = TestBroker.start(c -> { }, new AnonymousAuthenticator(), List.of(new OneChallenge()));
             RawClient c = open(b)) {
            c.send(connect("plain-auth"));
            Connack ack = c.read(Connack.class);
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.SUCCESS);
            assertThat(ack.properties().contains(PropertyId.AUTHENTICATION_METHOD)).isFalse();
            RawV5Ping.alive(c);
        }
    }

    // ------------------------------------------------------------------ rules without a number

    @Test
    @DisplayName("§3.3.1.2 (and 3.2.2.3.4) a PUBLISH above the announced Maximum QoS: DISCONNECT 0x9B")
    void qosNotSupported() {
        try (TestBroker b = broker(c -> c.maxQos(1)); RawClient c = connected(b, "q2")) {
            c.send(publish("q2", QoS.EXACTLY_ONCE, 1, "too high"));
            assertThat(disconnectReason(c)).isEqualTo(ReasonCode.QOS_NOT_SUPPORTED);
        }
    }

    @Test
    @DisplayName("§3.3.1.3 (and 3.2.2.3.5) a retained PUBLISH when Retain Available is 0: DISCONNECT 0x9A")
    void retainNotSupported() {
        try (TestBroker b = broker(c -> c.retainAvailable(false)); RawClient c = connected(b, "r")) {
            c.send(retained("r", QoS.AT_MOST_ONCE, 0, "kept?"));
            assertThat(disconnectReason(c)).isEqualTo(ReasonCode.RETAIN_NOT_SUPPORTED);
        }
    }

    @Test
    @DisplayName("§3.2.2.3.6 a packet larger than the server's Maximum Packet Size: DISCONNECT 0x95")
    void packetTooLarge() {
        try (TestBroker b = broker(c -> c.maxPacketSize(128)); RawClient c = connected(b, "big")) {
            c.send(publish("big", QoS.AT_MOST_ONCE, 0, "x".repeat(200)));
            assertThat(disconnectReason(c)).isEqualTo(ReasonCode.PACKET_TOO_LARGE);
        }
    }

    @Test
    @DisplayName("§3.2.2.3.11 a wildcard subscription when Wildcard Subscription Available is 0: DISCONNECT 0xA2")
    void wildcardNotSupported() {
        try (TestBroker b = broker(c -> c.wildcardSubscriptionAvailable(false)); RawClient c = connected(b, "w")) {
            c.send(subscribe(1, "w/#", QoS.AT_MOST_ONCE));
            assertThat(disconnectReason(c)).isEqualTo(ReasonCode.WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED);
        }
    }

    @Test
    @DisplayName("§3.2.2.3.12 a Subscription Identifier when Subscription Identifier Available is 0: DISCONNECT 0xA1")
    void subscriptionIdentifierNotSupported() {
        try (TestBroker b = broker(c -> c.subscriptionIdentifierAvailable(false)); RawClient c = connected(b, "s")) {
            c.send(new Subscribe(1, List.of(new TopicSubscription("s", QoS.AT_MOST_ONCE)),
                    MqttProperties.builder().subscriptionIdentifier(3).build()));
            assertThat(disconnectReason(c)).isEqualTo(ReasonCode.SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED);
        }
    }

    @Test
    @DisplayName("§3.2.2.3.13 a shared subscription when Shared Subscription Available is 0: DISCONNECT 0x9E")
    void sharedNotSupported() {
        try (TestBroker b = broker(c -> c.sharedSubscriptionAvailable(false)); RawClient c = connected(b, "sh")) {
            c.send(subscribe(1, "$share/g/t", QoS.AT_MOST_ONCE));
            assertThat(disconnectReason(c)).isEqualTo(ReasonCode.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED);
        }
    }

    @Test
    @DisplayName("§3.14.2.1 DISCONNECT 0x04 (Disconnect with Will Message): the server publishes the will")
    void disconnectWithWill() {
        try (RawClient sub = connected(broker, "dww-sub")) {
            subscribe(sub, "dww", QoS.AT_MOST_ONCE);
            RawClient c = connected(broker, connect("dww", true, 60, MqttProperties.EMPTY,
                    new Will("dww", bytes("will"), QoS.AT_MOST_ONCE, false, MqttProperties.EMPTY)));
            c.send(new Disconnect(ReasonCode.DISCONNECT_WITH_WILL_MESSAGE));
            c.assertClosedByServer();
            c.close();
            assertThat(text(sub.read(Publish.class))).isEqualTo("will");
        }
    }

    /** PINGREQ/PINGRESP as a barrier: everything the server had to send before it has arrived. */
    private static final class RawV5Ping {
        static void alive(RawClient c) {
            c.send(Pingreq.INSTANCE);
            MqttPacket p = c.read();
            if (!(p instanceof Pingresp)) {
                throw new AssertionError("expected PINGRESP but got " + p);
            }
        }
    }
}
