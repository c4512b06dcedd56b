package io.ternmq.broker.it.conformance;

import io.ternmq.broker.security.AuthResult;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Pingreq;
import io.ternmq.codec.Pingresp;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Pubcomp;
import io.ternmq.codec.Publish;
import io.ternmq.codec.Pubrec;
import io.ternmq.codec.Pubrel;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
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
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static io.ternmq.broker.it.conformance.Clients.V311;
import static io.ternmq.broker.it.conformance.Clients.V5;
import static io.ternmq.broker.it.conformance.Clients.bytes;
import static io.ternmq.broker.it.conformance.Clients.connack;
import static io.ternmq.broker.it.conformance.Clients.connect;
import static io.ternmq.broker.it.conformance.Clients.connected;
import static io.ternmq.broker.it.conformance.Clients.open;
import static io.ternmq.broker.it.conformance.Clients.publish;
import static io.ternmq.broker.it.conformance.Clients.subscribe;
import static io.ternmq.broker.it.conformance.Clients.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * MQTT 3.1.1 normative statements that bind a server and had no test of their own: each test drives the real broker
 * over real sockets and names, in its display name, the statements it checks (3.1.1 numbering; see
 * docs/conformance.md). A few tests check a statement whose number and meaning are the same in 5.0, for both
 * versions.
 */
class Mqtt311ConformanceTest {
    private TestBroker broker;

    @BeforeEach
    void start() {
        broker = TestBroker.start();
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    private RawClient client(String id) {
        return connected(broker, V311, id);
    }

    private RawClient persistent(String id) {
        return connected(broker, V311, id, false);
    }

    /** CONNECT that keeps the session: Clean Session 0 (3.1.1), or Clean Start 0 with a Session Expiry Interval. */
    private static Connect keep(MqttVersion v, String id) {
        return connect(v, id, false, v.isV5() ? MqttProperties.builder()
                .set(io.ternmq.codec.PropertyId.SESSION_EXPIRY_INTERVAL, 600L).build() : MqttProperties.EMPTY, null);
    }

    /** Waits until the broker has forgotten a clean session, so that everything its close caused was routed. */
    private void awaitSessionGone(String id) {
        await().until(() -> broker.broker().sessions().get(id) == null);
    }

    /** Publishes a sentinel from another client and expects it to be the next message the subscriber gets. */
    private void expectOnlySentinel(RawClient subscriber, String topic) {
        try (RawClient p = client("sentinel-publisher")) {
            p.send(publish(topic, QoS.AT_MOST_ONCE, 0, "sentinel"));
            assertThat(text(subscriber.read(Publish.class))).isEqualTo("sentinel");
        }
    }

    // ------------------------------------------------------------------ CONNECT

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            protocol name MQTX                               | 10 0e 0004 4d515458 04 02 003c 0002 6331
            reserved connect flag set                        | 10 0e 0004 4d515454 04 03 003c 0002 6331
            Will QoS 1 without the will flag                 | 10 0e 0004 4d515454 04 0a 003c 0002 6331
            Will Retain without the will flag                | 10 0e 0004 4d515454 04 22 003c 0002 6331
            Will QoS 3                                       | 10 14 0004 4d515454 04 1e 003c 0002 6331 0001 77 0001 78
            password flag without user name flag             | 10 11 0004 4d515454 04 42 003c 0002 6331 0001 70
            user name flag but no user name                  | 10 0e 0004 4d515454 04 82 003c 0002 6331
            client identifier with ill-formed UTF-8          | 10 0e 0004 4d515454 04 02 003c 0002 c328
            will topic with a wildcard                       | 10 14 0004 4d515454 04 06 003c 0002 6331 0001 23 0001 78
            """)
    @DisplayName("[MQTT-3.1.4-1][MQTT-3.2.2-6][MQTT-3.1.2-1][MQTT-3.1.2-3][MQTT-3.1.2-13][MQTT-3.1.2-14][MQTT-3.1.2-15]"
            + "[MQTT-3.1.2-22] a CONNECT that does not conform is answered by closing the connection, without CONNACK")
    void nonConformingConnectClosesWithoutConnack(String what, String hex) {
        try (RawClient c = open(broker, V311)) {
            c.sendHex(hex);
            c.assertClosedByServer();
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.4-3][MQTT-3.1.4-4][MQTT-3.2.2-1][MQTT-3.1.2-6] a valid CONNECT gets return code 0; with "
            + "Clean Session 1 the stored session is discarded, its subscriptions gone, and Session Present is 0")
    void cleanSessionDiscardsStoredSession() {
        try (RawClient c = persistent("cs")) {
            subscribe(c, 1, "cs/t", QoS.AT_LEAST_ONCE);
        }
        await().until(() -> broker.broker().sessions().get("cs") != null
                && !broker.broker().sessions().get("cs").isConnected());
        try (RawClient c = open(broker, V311)) {
            Connack ack = connack(c, connect(V311, "cs", true));
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.V3_ACCEPTED);
            assertThat(ack.sessionPresent()).isFalse();
            try (RawClient p = client("cs-pub")) {
                p.send(publish("cs/t", QoS.AT_MOST_ONCE, 0, "old subscription"));
                p.send(Pingreq.INSTANCE);
                p.read(Pingresp.class);
            }
            c.assertSilentFor(Duration.ofMillis(300));
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.3-5] client identifiers of 1 to 23 letters and digits are accepted (3.1.1 and 5.0)")
    void shortAlphanumericClientIds() {
        for (MqttVersion v : List.of(V311, V5)) {
            for (String id : List.of("a", "Z9", "0123456789abcdefghijklm", "ABCDEFGHIJKLMNOPQRSTUVW")) {
                try (RawClient c = open(broker, v)) {
                    assertThat(connack(c, keep(v, id)).reasonCode()).as(v + " " + id).isZero();
                }
            }
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.3-9] a client identifier the server rejects gets CONNACK 0x02 and the connection closes")
    void rejectedClientIdentifier() {
        try (TestBroker strict = TestBroker.start(b -> b.allowZeroLengthClientId(false));
             RawClient c = open(strict, V311)) {
            Connack ack = connack(c, connect(V311, "", true));
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.V3_IDENTIFIER_REJECTED);
            c.assertClosedByServer();
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.3-2] the client identifier names the session: state held for one identifier is not "
            + "seen by another (3.1.1 and 5.0)")
    void clientIdIdentifiesSession() {
        for (MqttVersion v : List.of(V311, V5)) {
            String x = "id-x-" + v.level();
            try (RawClient c = connected(broker, keep(v, x))) {
                subscribe(c, 1, "id/t", QoS.AT_LEAST_ONCE);
            }
            await().until(() -> !broker.broker().sessions().get(x).isConnected());
            try (RawClient p = client("id-pub")) {
                p.send(publish("id/t", QoS.AT_LEAST_ONCE, 1, "for x"));
                p.read(Puback.class);
            }
            try (RawClient y = open(broker, v)) {
                assertThat(connack(y, keep(v, "id-y-" + v.level())).sessionPresent()).isFalse();
                y.send(Pingreq.INSTANCE);
                assertThat(y.read()).isEqualTo(Pingresp.INSTANCE);
            }
            try (RawClient c = open(broker, v)) {
                assertThat(connack(c, keep(v, x)).sessionPresent()).as(v.toString()).isTrue();
                Publish p = c.read(Publish.class);
                assertThat(text(p)).isEqualTo("for x");
                c.send(new Puback(p.packetId()));
            }
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.4-5] after a refused CONNECT nothing the client sent behind it is processed")
    void refusedConnectProcessesNothingMore() {
        try (TestBroker refusing = TestBroker.start(b -> { },
                r -> CompletableFuture.completedFuture(AuthResult.NOT_AUTHORIZED));
             RawClient c = open(refusing, V311)) {
            c.send(connect(V311, "refused", true));
            c.send(new Publish("refused/retained", QoS.AT_MOST_ONCE, true, 0, bytes("must not be stored")));
            c.send(new Subscribe(1, List.of(new TopicSubscription("refused/#", QoS.AT_MOST_ONCE)),
                    MqttProperties.EMPTY));
            assertThat(c.read(Connack.class).reasonCode()).isEqualTo(ReasonCode.V3_NOT_AUTHORIZED);
            c.assertClosedByServer();
            assertThat(refusing.broker().router().retained().get("refused/retained")).isNull();
            assertThat(refusing.broker().sessions().get("refused")).isNull();
        }
    }

    @Test
    @DisplayName("[MQTT-3.2.0-1] the first packet the server sends is CONNACK, even when a resumed session has "
            + "messages waiting")
    void connackComesFirst() {
        try (RawClient c = persistent("first")) {
            subscribe(c, 1, "first/t", QoS.AT_LEAST_ONCE);
        }
        await().until(() -> !broker.broker().sessions().get("first").isConnected());
        try (RawClient p = client("first-pub")) {
            for (int i = 0; i < 3; i++) {
                p.send(publish("first/t", QoS.AT_LEAST_ONCE, i + 1, "m" + i));
                p.read(Puback.class);
            }
        }
        try (RawClient c = open(broker, V311)) {
            c.send(connect(V311, "first", false));
            Connack ack = c.read(Connack.class);
            assertThat(ack.sessionPresent()).isTrue();
            assertThat(text(c.read(Publish.class))).isEqualTo("m0");
        }
    }

    @Test
    @DisplayName("[MQTT-3.2.2-4][MQTT-3.2.2-5] a CONNACK with a non-zero return code has Session Present 0, even when "
            + "a session is stored, and the connection then closes")
    void refusedConnackHasNoSessionPresent() {
        try (TestBroker limited = TestBroker.start(b -> b.maxKeepAlive(30))) {
            try (RawClient c = connected(limited, new Connect(V311, "stored", false, 10, null, null, null,
                    MqttProperties.EMPTY))) {
                subscribe(c, 1, "stored/t", QoS.AT_LEAST_ONCE);
            }
            await().until(() -> !limited.broker().sessions().get("stored").isConnected());
            try (RawClient c = open(limited, V311)) {
                // keep alive 60 is above max_keepalive: refused with 0x02 although the session exists
                Connack ack = connack(c, new Connect(V311, "stored", false, 60, null, null, null,
                        MqttProperties.EMPTY));
                assertThat(ack.reasonCode()).isEqualTo(ReasonCode.V3_IDENTIFIER_REJECTED);
                assertThat(ack.sessionPresent()).isFalse();
                c.assertClosedByServer();
            }
        }
    }

    // ------------------------------------------------------------------ fixed header and malformed packets

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            PUBREL with flags 0000           | 60 02 0001
            SUBSCRIBE with flags 0000        | 80 06 0001 0001 61 00
            UNSUBSCRIBE with flags 0000      | a0 05 0001 0001 61
            DISCONNECT with flags 0001       | e1 00
            PINGREQ with flags 1000          | c8 00
            PUBACK with flags 0010           | 42 02 0001
            PUBLISH with both QoS bits set   | 36 05 0001 61 0001
            """)
    @DisplayName("[MQTT-2.2.2-1][MQTT-2.2.2-2][MQTT-3.6.1-1][MQTT-3.8.1-1][MQTT-3.10.1-1][MQTT-3.14.1-1][MQTT-3.3.1-4] "
            + "fixed header flags other than the listed ones close the connection")
    void reservedFlagsClose(String what, String hex) {
        try (RawClient c = client("flags")) {
            c.sendHex(hex);
            c.assertClosedByServer();
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            topic with ill-formed UTF-8            | 30 04 0002 c328
            topic with an encoded surrogate        | 30 05 0003 eda080
            topic containing U+0000                | 30 04 0002 6100
            SUBSCRIBE filter with ill-formed UTF-8 | 82 06 0001 0001 ff 00
            SUBSCRIBE filter containing U+0000     | 82 07 0001 0002 6100 00
            UNSUBSCRIBE filter with ill-formed UTF-8 | a2 05 0001 0001 ff
            """)
    @DisplayName("[MQTT-1.5.3-1][MQTT-1.5.3-2][MQTT-3.3.2-1][MQTT-3.8.3-1][MQTT-3.10.3-1][MQTT-4.7.3-2] ill-formed "
            + "UTF-8 or U+0000 in a topic name or topic filter closes the connection")
    void badStringsClose(String what, String hex) {
        try (RawClient c = client("strings")) {
            c.sendHex(hex);
            c.assertClosedByServer();
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            PUBLISH to a/+                | 30 05 0003 612f2b
            PUBLISH to #                  | 30 03 0001 23
            PUBLISH to an empty topic     | 30 02 0000
            """)
    @DisplayName("[MQTT-3.3.2-2][MQTT-4.7.1-1][MQTT-4.7.3-1] a PUBLISH topic name with a wildcard, or empty, closes "
            + "the connection")
    void badTopicNamesClose(String what, String hex) {
        try (RawClient c = client("names")) {
            c.sendHex(hex);
            c.assertClosedByServer();
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            SUBSCRIBE without a filter             | 82 02 0001
            SUBSCRIBE asking for QoS 3             | 82 06 0001 0001 61 03
            SUBSCRIBE with reserved bits set       | 82 06 0001 0001 61 10
            SUBSCRIBE to a/#/b                     | 82 0a 0001 0005 612f232f62 00
            SUBSCRIBE to a+                        | 82 07 0001 0002 612b 00
            SUBSCRIBE to an empty filter           | 82 05 0001 0000 00
            UNSUBSCRIBE without a filter           | a2 02 0001
            """)
    @DisplayName("[MQTT-3.8.3-3][MQTT-3-8.3-4][MQTT-3.10.3-2][MQTT-4.7.1-2][MQTT-4.7.1-3][MQTT-4.7.3-1] a malformed "
            + "SUBSCRIBE or UNSUBSCRIBE closes the connection")
    void malformedSubscribeCloses(String what, String hex) {
        try (RawClient c = client("subs")) {
            c.sendHex(hex);
            c.assertClosedByServer();
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            CONNACK sent by a client              | 20 02 0000
            SUBACK sent by a client               | 90 03 0001 00
            PINGRESP sent by a client             | d0 00
            QoS 1 PUBLISH with packet id 0        | 32 05 0001 61 0000
            SUBSCRIBE with packet id 0            | 82 06 0000 0001 61 00
            UNSUBSCRIBE with packet id 0          | a2 05 0000 0001 61
            """)
    @DisplayName("[MQTT-4.8.0-1][MQTT-2.3.1-1] a protocol violation closes the connection it came on")
    void protocolViolationCloses(String what, String hex) {
        try (RawClient c = client("violator"); RawClient bystander = client("bystander")) {
            c.sendHex(hex);
            c.assertClosedByServer();
            bystander.send(Pingreq.INSTANCE);
            assertThat(bystander.read()).isEqualTo(Pingresp.INSTANCE);
        }
    }

    // ------------------------------------------------------------------ will

    @Test
    @DisplayName("[MQTT-3.1.2.7] retained messages are not part of the session: they stay when the session ends")
    void retainedOutlivesSession() {
        try (RawClient c = client("retainer")) {
            c.send(new Publish("keep/me", QoS.AT_LEAST_ONCE, true, 1, bytes("kept")));
            c.read(Puback.class);
        }
        awaitSessionGone("retainer");
        try (RawClient s = client("later")) {
            subscribe(s, 1, "keep/me", QoS.AT_LEAST_ONCE);
            Publish p = s.read(Publish.class);
            assertThat(text(p)).isEqualTo("kept");
            assertThat(p.retain()).isTrue();
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-12] without the will flag no will message is published when the connection drops")
    void noWillWithoutWillFlag() {
        try (RawClient sub = client("watcher")) {
            subscribe(sub, 1, "#", QoS.AT_MOST_ONCE);
            RawClient c = client("no-will");
            c.close();
            awaitSessionGone("no-will");
            expectOnlySentinel(sub, "sentinel/nowill");
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-16] a will with Will Retain 0 is published as a non-retained message")
    void nonRetainedWill() {
        try (RawClient sub = client("will-sub")) {
            subscribe(sub, 1, "will/plain", QoS.AT_LEAST_ONCE);
            RawClient c = connected(broker, connect(V311, "will-plain", true, MqttProperties.EMPTY,
                    new Will("will/plain", bytes("gone"), QoS.AT_LEAST_ONCE, false, MqttProperties.EMPTY)));
            c.close();
            Publish w = sub.read(Publish.class);
            assertThat(text(w)).isEqualTo("gone");
            assertThat(w.retain()).isFalse();
            assertThat(broker.broker().router().retained().get("will/plain")).isNull();
        }
    }

    @Test
    @DisplayName("[MQTT-3.14.4-3] on DISCONNECT the will is discarded without being published")
    void disconnectDiscardsWill() {
        try (RawClient sub = client("dw-sub")) {
            subscribe(sub, 1, "dw/#", QoS.AT_MOST_ONCE);
            RawClient c = connected(broker, connect(V311, "dw", true, MqttProperties.EMPTY,
                    new Will("dw/will", bytes("will"), QoS.AT_MOST_ONCE, false, MqttProperties.EMPTY)));
            c.send(Disconnect.NORMAL);
            c.assertClosedByServer();
            c.close();
            awaitSessionGone("dw");
            expectOnlySentinel(sub, "dw/sentinel");
        }
    }

    // ------------------------------------------------------------------ PUBLISH

    @Test
    @DisplayName("[MQTT-3.3.1-2][MQTT-4.3.1-1][MQTT-2.3.1-5] QoS 0 messages go out with QoS 0, DUP 0 and no packet "
            + "identifier")
    void qos0Delivery() {
        try (RawClient sub = client("q0-sub"); RawClient pub = client("q0-pub")) {
            subscribe(sub, 1, "q0", QoS.EXACTLY_ONCE);
            pub.send(publish("q0", QoS.AT_MOST_ONCE, 0, "abc"));
            Publish p = sub.read(Publish.class);
            assertThat(p.qos()).isEqualTo(QoS.AT_MOST_ONCE);
            assertThat(p.dup()).isFalse();
            assertThat(p.packetId()).isZero();
            // a packet identifier would have been read as the first two payload bytes
            assertThat(text(p)).isEqualTo("abc");
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.1-1][MQTT-2.3.1-4][MQTT-4.3.2-1][MQTT-4.6.0-1] QoS 1 messages go out with DUP 0 and unused "
            + "non-zero identifiers; unacknowledged ones are resent on resume with DUP 1, their identifiers, in order")
    void qos1SenderAndResend() {
        List<Integer> ids = new ArrayList<>();
        try (RawClient sub = persistent("q1-sub")) {
            subscribe(sub, 1, "q1", QoS.AT_LEAST_ONCE);
            try (RawClient pub = client("q1-pub")) {
                for (int i = 0; i < 3; i++) {
                    pub.send(publish("q1", QoS.AT_LEAST_ONCE, 10 + i, "m" + i));
                    pub.read(Puback.class);
                }
            }
            for (int i = 0; i < 3; i++) {
                Publish p = sub.read(Publish.class);
                assertThat(text(p)).isEqualTo("m" + i);
                assertThat(p.qos()).isEqualTo(QoS.AT_LEAST_ONCE);
                assertThat(p.dup()).isFalse();
                assertThat(p.packetId()).isNotZero().isNotIn(ids);
                ids.add(p.packetId());
            }
        }
        await().until(() -> !broker.broker().sessions().get("q1-sub").isConnected());
        try (RawClient sub = open(broker, V311)) {
            assertThat(connack(sub, connect(V311, "q1-sub", false)).sessionPresent()).isTrue();
            for (int i = 0; i < 3; i++) {
                Publish p = sub.read(Publish.class);
                assertThat(text(p)).isEqualTo("m" + i);
                assertThat(p.dup()).isTrue();
                assertThat(p.packetId()).isEqualTo(ids.get(i));
                sub.send(new Puback(p.packetId()));
            }
            sub.send(Pingreq.INSTANCE);
            assertThat(sub.read()).isEqualTo(Pingresp.INSTANCE);
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.1-3] the DUP flag of an incoming PUBLISH is not passed on to subscribers")
    void dupNotPropagated() {
        try (RawClient sub = client("dup-sub"); RawClient pub = client("dup-pub")) {
            subscribe(sub, 1, "dup", QoS.AT_LEAST_ONCE);
            pub.send(new Publish("dup", QoS.AT_LEAST_ONCE, false, true, 7, bytes("resent by publisher"),
                    MqttProperties.EMPTY));
            assertThat(pub.read(Puback.class).packetId()).isEqualTo(7);
            Publish p = sub.read(Publish.class);
            assertThat(p.dup()).isFalse();
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.1-7] a retained QoS 0 message replaces the retained message of its topic")
    void qos0RetainedReplaces() {
        try (RawClient pub = client("r0-pub")) {
            pub.send(new Publish("r0", QoS.AT_LEAST_ONCE, true, 1, bytes("old")));
            pub.read(Puback.class);
            pub.send(new Publish("r0", QoS.AT_MOST_ONCE, true, 0, bytes("new")));
            pub.send(Pingreq.INSTANCE);
            pub.read(Pingresp.class);
        }
        try (RawClient sub = client("r0-sub")) {
            subscribe(sub, 1, "r0", QoS.AT_LEAST_ONCE);
            Publish p = sub.read(Publish.class);
            assertThat(text(p)).isEqualTo("new");
            assertThat(p.qos()).isEqualTo(QoS.AT_MOST_ONCE);
            sub.assertSilentFor(Duration.ofMillis(300));
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.1-8][MQTT-3.3.1-9] RETAIN is 1 on a message sent because of a new subscription and 0 on "
            + "one matching an established subscription")
    void retainFlagOnDelivery() {
        try (RawClient pub = client("rf-pub"); RawClient sub = client("rf-sub")) {
            pub.send(new Publish("rf", QoS.AT_LEAST_ONCE, true, 1, bytes("stored")));
            pub.read(Puback.class);
            subscribe(sub, 1, "rf", QoS.AT_LEAST_ONCE);
            Publish stored = sub.read(Publish.class);
            assertThat(stored.retain()).isTrue();
            sub.send(new Puback(stored.packetId()));
            pub.send(new Publish("rf", QoS.AT_LEAST_ONCE, true, 2, bytes("live")));
            pub.read(Puback.class);
            Publish live = sub.read(Publish.class);
            assertThat(text(live)).isEqualTo("live");
            assertThat(live.retain()).isFalse();
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.1-12] a PUBLISH with RETAIN 0 neither stores a message nor removes the retained one")
    void nonRetainedLeavesRetainedAlone() {
        try (RawClient pub = client("nr-pub")) {
            pub.send(new Publish("nr", QoS.AT_LEAST_ONCE, true, 1, bytes("kept")));
            pub.read(Puback.class);
            pub.send(new Publish("nr", QoS.AT_LEAST_ONCE, false, 2, bytes("live")));
            pub.read(Puback.class);
            pub.send(new Publish("nr", QoS.AT_LEAST_ONCE, false, 3, new byte[0]));
            pub.read(Puback.class);
        }
        try (RawClient sub = client("nr-sub")) {
            subscribe(sub, 1, "nr", QoS.AT_LEAST_ONCE);
            assertThat(text(sub.read(Publish.class))).isEqualTo("kept");
            sub.assertSilentFor(Duration.ofMillis(300));
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.2-3] the topic name sent to a subscriber is the published one, which matches its filter "
            + "(3.1.1 and 5.0)")
    void deliveredTopicMatchesFilter() {
        for (MqttVersion v : List.of(V311, V5)) {
            try (RawClient sub = connected(broker, v, "tn-sub"); RawClient pub = connected(broker, v, "tn-pub")) {
                subscribe(sub, 1, "tn/+/x", QoS.AT_MOST_ONCE);
                subscribe(sub, 2, "tn/b/#", QoS.AT_MOST_ONCE);
                pub.send(publish("tn/a/x", QoS.AT_MOST_ONCE, 0, "one"));
                pub.send(publish("tn/a/y", QoS.AT_MOST_ONCE, 0, "no match"));
                pub.send(publish("tn/b/x", QoS.AT_MOST_ONCE, 0, "two"));
                pub.send(publish("tn/b/y/z", QoS.AT_MOST_ONCE, 0, "three"));
                assertThat(sub.read(Publish.class).topic()).as(v.toString()).isEqualTo("tn/a/x");
                assertThat(sub.read(Publish.class).topic()).isEqualTo("tn/b/x");
                assertThat(sub.read(Publish.class).topic()).isEqualTo("tn/b/y/z");
            }
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.4-1][MQTT-4.3.2-2][MQTT-2.3.1-6] QoS 0 gets no answer, QoS 1 a PUBACK with its packet "
            + "identifier, QoS 2 a PUBREC; a QoS 1 identifier used again after its PUBACK is a new message")
    void publishAnswers() {
        try (RawClient sub = client("ans-sub"); RawClient pub = client("ans-pub")) {
            subscribe(sub, 1, "ans", QoS.AT_MOST_ONCE);
            pub.send(publish("ans", QoS.AT_MOST_ONCE, 0, "q0"));
            pub.send(Pingreq.INSTANCE);
            assertThat(pub.read()).isEqualTo(Pingresp.INSTANCE);
            pub.send(publish("ans", QoS.AT_LEAST_ONCE, 5, "q1 first"));
            assertThat(pub.read(Puback.class).packetId()).isEqualTo(5);
            pub.send(publish("ans", QoS.AT_LEAST_ONCE, 5, "q1 second"));
            assertThat(pub.read(Puback.class).packetId()).isEqualTo(5);
            pub.send(publish("ans", QoS.EXACTLY_ONCE, 6, "q2"));
            assertThat(pub.read(Pubrec.class).packetId()).isEqualTo(6);
            pub.send(new Pubrel(6));
            assertThat(pub.read(Pubcomp.class).packetId()).isEqualTo(6);
            assertThat(text(sub.read(Publish.class))).isEqualTo("q0");
            assertThat(text(sub.read(Publish.class))).isEqualTo("q1 first");
            assertThat(text(sub.read(Publish.class))).isEqualTo("q1 second");
            assertThat(text(sub.read(Publish.class))).isEqualTo("q2");
        }
    }

    @Test
    @DisplayName("[MQTT-4.3.3-2] QoS 2 receiver: PUBREC; a resend before PUBREL is acknowledged again but not "
            + "delivered twice; PUBREL gets PUBCOMP; after that the identifier is a new message")
    void qos2Receiver() {
        try (RawClient sub = client("r2-sub"); RawClient pub = client("r2-pub")) {
            subscribe(sub, 1, "r2", QoS.AT_MOST_ONCE);
            pub.send(publish("r2", QoS.EXACTLY_ONCE, 9, "once"));
            assertThat(pub.read(Pubrec.class).packetId()).isEqualTo(9);
            pub.send(new Publish("r2", QoS.EXACTLY_ONCE, false, true, 9, bytes("once"), MqttProperties.EMPTY));
            assertThat(pub.read(Pubrec.class).packetId()).isEqualTo(9);
            pub.send(new Pubrel(9));
            assertThat(pub.read(Pubcomp.class).packetId()).isEqualTo(9);
            pub.send(publish("r2", QoS.EXACTLY_ONCE, 9, "again"));
            assertThat(pub.read(Pubrec.class).packetId()).isEqualTo(9);
            pub.send(new Pubrel(9));
            pub.read(Pubcomp.class);
            assertThat(text(sub.read(Publish.class))).isEqualTo("once");
            assertThat(text(sub.read(Publish.class))).isEqualTo("again");
        }
    }

    @Test
    @DisplayName("[MQTT-4.3.3-1] QoS 2 sender: PUBLISH with DUP 0, PUBREL with the same identifier on PUBREC; after "
            + "the PUBREL only the PUBREL is resent, never the PUBLISH")
    void qos2Sender() {
        int id;
        try (RawClient sub = persistent("s2-sub")) {
            subscribe(sub, 1, "s2", QoS.EXACTLY_ONCE);
            try (RawClient pub = client("s2-pub")) {
                pub.send(publish("s2", QoS.EXACTLY_ONCE, 1, "exactly once"));
                pub.read(Pubrec.class);
                pub.send(new Pubrel(1));
                pub.read(Pubcomp.class);
            }
            Publish p = sub.read(Publish.class);
            assertThat(p.qos()).isEqualTo(QoS.EXACTLY_ONCE);
            assertThat(p.dup()).isFalse();
            id = p.packetId();
            assertThat(id).isNotZero();
            sub.send(new Pubrec(id, ReasonCode.SUCCESS, MqttProperties.EMPTY));
            assertThat(sub.read(Pubrel.class).packetId()).isEqualTo(id);
        }
        await().until(() -> !broker.broker().sessions().get("s2-sub").isConnected());
        try (RawClient sub = open(broker, V311)) {
            connack(sub, connect(V311, "s2-sub", false));
            assertThat(sub.read(Pubrel.class).packetId()).isEqualTo(id);
            sub.send(new Pubcomp(id, ReasonCode.SUCCESS, MqttProperties.EMPTY));
            sub.send(Pingreq.INSTANCE);
            assertThat(sub.read()).isEqualTo(Pingresp.INSTANCE);
        }
    }

    @Test
    @DisplayName("[MQTT-4.6.0-5][MQTT-4.6.0-6] topics are ordered: one publisher's messages on a topic reach a "
            + "subscriber in the order sent, at each QoS (3.1.1 and 5.0)")
    void orderedTopics() {
        for (MqttVersion v : List.of(V311, V5)) {
            try (RawClient sub = connected(broker, v, "ord-sub"); RawClient pub = connected(broker, v, "ord-pub")) {
                subscribe(sub, 1, "ord/#", QoS.EXACTLY_ONCE);
                for (QoS qos : QoS.values()) {
                    for (int i = 0; i < 20; i++) {
                        int id = qos == QoS.AT_MOST_ONCE ? 0 : i + 1;
                        pub.send(publish("ord/" + qos.value(), qos, id, qos.value() + "-" + i));
                        if (qos == QoS.AT_LEAST_ONCE) {
                            pub.read(Puback.class);
                        } else if (qos == QoS.EXACTLY_ONCE) {
                            pub.read(Pubrec.class);
                            pub.send(new Pubrel(id));
                            pub.read(Pubcomp.class);
                        }
                    }
                    List<Publish> got = new ArrayList<>();
                    for (int i = 0; i < 20; i++) {
                        Publish p = sub.read(Publish.class);
                        assertThat(text(p)).isEqualTo(qos.value() + "-" + i);
                        got.add(p);
                    }
                    for (Publish p : got) {
                        if (p.qos() == QoS.AT_LEAST_ONCE) {
                            sub.send(new Puback(p.packetId()));
                        } else if (p.qos() == QoS.EXACTLY_ONCE) {
                            sub.send(new Pubrec(p.packetId(), ReasonCode.SUCCESS, MqttProperties.EMPTY));
                            sub.read(Pubrel.class);
                            sub.send(new Pubcomp(p.packetId(), ReasonCode.SUCCESS, MqttProperties.EMPTY));
                        }
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ SUBSCRIBE / UNSUBSCRIBE

    @Test
    @DisplayName("[MQTT-2.3.1-7][MQTT-3.8.4-1][MQTT-3.8.4-2][MQTT-3.8.4-4][MQTT-3.8.4-5][MQTT-3.9.3-1] a SUBSCRIBE with "
            + "several filters gets one SUBACK with its packet identifier and one code per filter, in order")
    void multiFilterSubscribe() {
        try (TestBroker limited = TestBroker.start(b -> b.maxSubscriptionsPerClient(2));
             RawClient c = connected(limited, V311, "multi");
             RawClient pub = connected(limited, V311, "multi-pub")) {
            List<Integer> codes = subscribe(c, new Subscribe(42, List.of(
                    new TopicSubscription("m/a", QoS.AT_MOST_ONCE),
                    new TopicSubscription("m/+", QoS.EXACTLY_ONCE),
                    new TopicSubscription("m/c", QoS.AT_LEAST_ONCE)), MqttProperties.EMPTY));
            assertThat(codes).containsExactly(0, 2, ReasonCode.V3_SUBACK_FAILURE);
            pub.send(publish("m/a", QoS.AT_MOST_ONCE, 0, "to a"));
            assertThat(text(c.read(Publish.class))).isEqualTo("to a");
        }
    }

    @Test
    @DisplayName("[MQTT-3.8.3-2] with wildcard subscriptions switched off a filter with a wildcard is refused "
            + "(the connection is closed)")
    void wildcardSubscriptionsRefused() {
        try (TestBroker noWild = TestBroker.start(b -> b.wildcardSubscriptionAvailable(false));
             RawClient c = connected(noWild, V311, "nowild")) {
            assertThat(subscribe(c, 1, "plain/topic", QoS.AT_MOST_ONCE)).containsExactly(0);
            c.send(new Subscribe(2, List.of(new TopicSubscription("plain/+", QoS.AT_MOST_ONCE)),
                    MqttProperties.EMPTY));
            c.assertClosedByServer();
        }
    }

    @Test
    @DisplayName("[MQTT-3.10.4-1][MQTT-3.10.4-2][MQTT-3.10.4-4][MQTT-3.10.4-6] UNSUBSCRIBE deletes only filters equal "
            + "character by character, stops new messages for them, and gets one UNSUBACK with its identifier")
    void unsubscribeExactFilters() {
        try (RawClient c = client("unsub"); RawClient pub = client("unsub-pub")) {
            subscribe(c, 1, "u/+", QoS.AT_MOST_ONCE);
            subscribe(c, 2, "u/b", QoS.AT_MOST_ONCE);
            c.send(new Unsubscribe(9, List.of("u/#", "u/b", "u/x"), MqttProperties.EMPTY));
            assertThat(c.read(Unsuback.class).packetId()).isEqualTo(9);
            pub.send(publish("u/b", QoS.AT_MOST_ONCE, 0, "still via u/+"));
            assertThat(text(c.read(Publish.class))).isEqualTo("still via u/+");
            c.send(new Unsubscribe(10, List.of("u/+"), MqttProperties.EMPTY));
            assertThat(c.read(Unsuback.class).packetId()).isEqualTo(10);
            pub.send(publish("u/b", QoS.AT_MOST_ONCE, 0, "nobody"));
            pub.send(Pingreq.INSTANCE);
            pub.read(Pingresp.class);
            c.send(Pingreq.INSTANCE);
            assertThat(c.read()).isEqualTo(Pingresp.INSTANCE);
        }
    }

    @Test
    @DisplayName("[MQTT-3.10.4-3] a QoS 1 message in flight when its subscription is deleted is still delivered")
    void unsubscribeCompletesInflight() {
        try (RawClient c = persistent("uf")) {
            subscribe(c, 1, "uf", QoS.AT_LEAST_ONCE);
            try (RawClient pub = client("uf-pub")) {
                pub.send(publish("uf", QoS.AT_LEAST_ONCE, 1, "in flight"));
                pub.read(Puback.class);
            }
            Publish p = c.read(Publish.class);
            c.send(new Unsubscribe(2, List.of("uf"), MqttProperties.EMPTY));
            c.read(Unsuback.class);
            assertThat(p.packetId()).isNotZero();
        }
        await().until(() -> !broker.broker().sessions().get("uf").isConnected());
        try (RawClient c = open(broker, V311)) {
            connack(c, connect(V311, "uf", false));
            Publish again = c.read(Publish.class);
            assertThat(text(again)).isEqualTo("in flight");
            assertThat(again.dup()).isTrue();
        }
    }

    @Test
    @DisplayName("[MQTT-3.12.4-1] PINGREQ gets PINGRESP (3.1.1 and 5.0)")
    void pingresp() {
        for (MqttVersion v : List.of(V311, V5)) {
            try (RawClient c = connected(broker, v, "ping-" + v.level())) {
                c.send(Pingreq.INSTANCE);
                assertThat(c.read()).isEqualTo(Pingresp.INSTANCE);
            }
        }
    }

    // ------------------------------------------------------------------ sessions and topics

    @Test
    @DisplayName("[MQTT-4.1.0-1][MQTT-4.5.0-1][MQTT-3.1.2-5] a stored session keeps its subscriptions, and the QoS 1 "
            + "and 2 messages that match them are added to it while the client is away")
    void sessionStateKeptWhileAway() {
        try (RawClient c = persistent("away")) {
            subscribe(c, 1, "away/1", QoS.AT_LEAST_ONCE);
            subscribe(c, 2, "away/2", QoS.EXACTLY_ONCE);
        }
        await().until(() -> !broker.broker().sessions().get("away").isConnected());
        try (RawClient pub = client("away-pub")) {
            pub.send(publish("away/1", QoS.AT_LEAST_ONCE, 1, "one"));
            pub.read(Puback.class);
            pub.send(publish("away/2", QoS.EXACTLY_ONCE, 2, "two"));
            pub.read(Pubrec.class);
            pub.send(new Pubrel(2));
            pub.read(Pubcomp.class);
        }
        try (RawClient c = open(broker, V311)) {
            assertThat(connack(c, connect(V311, "away", false)).sessionPresent()).isTrue();
            assertThat(text(c.read(Publish.class))).isEqualTo("one");
            Publish two = c.read(Publish.class);
            assertThat(text(two)).isEqualTo("two");
            assertThat(two.qos()).isEqualTo(QoS.EXACTLY_ONCE);
        }
    }

    @Test
    @DisplayName("[MQTT-4.1.0-2] a clean session lasts as long as its network connection, and ends with it")
    void cleanSessionLastsWithConnection() {
        RawClient c = client("lasting");
        subscribe(c, 1, "lasting", QoS.AT_MOST_ONCE);
        try (RawClient other = client("other")) {
            other.send(publish("lasting", QoS.AT_MOST_ONCE, 0, "still there"));
            assertThat(text(c.read(Publish.class))).isEqualTo("still there");
            assertThat(broker.broker().sessions().get("lasting")).isNotNull();
        }
        c.close();
        awaitSessionGone("lasting");
    }

    @Test
    @DisplayName("[MQTT-4.7.3-4] topics and filters are matched byte for byte, without normalization (3.1.1 and 5.0)")
    void noNormalization() {
        String nfc = "caf\u00e9";
        String nfd = "cafe\u0301";
        for (MqttVersion v : List.of(V311, V5)) {
            try (RawClient sub = connected(broker, v, "norm-sub"); RawClient pub = connected(broker, v, "norm-pub")) {
                subscribe(sub, 1, "n/" + nfc, QoS.AT_MOST_ONCE);
                subscribe(sub, 2, "n/Case", QoS.AT_MOST_ONCE);
                for (String topic : List.of("n/" + nfd, "n/case", "n/CASE", "n/Case/", "n//Case", "n/ Case")) {
                    pub.send(publish(topic, QoS.AT_MOST_ONCE, 0, topic));
                }
                pub.send(publish("n/" + nfc, QoS.AT_MOST_ONCE, 0, "exact"));
                Publish p = sub.read(Publish.class);
                assertThat(text(p)).as(v.toString()).isEqualTo("exact");
                assertThat(p.topic()).isEqualTo("n/" + nfc);
            }
        }
    }

    @Test
    @DisplayName("[MQTT-1.5.3-3][MQTT-1.5.4-3] a BOM (EF BB BF) in a topic is kept: it matches only a filter that has "
            + "it too, and is delivered unchanged (3.1.1 and 5.0)")
    void bomKept() {
        String withBom = "bom/\uFEFFx";
        for (MqttVersion v : List.of(V311, V5)) {
            try (RawClient plain = connected(broker, v, "bom-plain"); RawClient bom = connected(broker, v, "bom-sub");
                 RawClient pub = connected(broker, v, "bom-pub")) {
                subscribe(plain, 1, "bom/x", QoS.AT_MOST_ONCE);
                subscribe(bom, 1, withBom, QoS.AT_MOST_ONCE);
                pub.send(publish(withBom, QoS.AT_MOST_ONCE, 0, "with BOM"));
                pub.send(publish("bom/x", QoS.AT_MOST_ONCE, 0, "without BOM"));
                Publish p = bom.read(Publish.class);
                assertThat(p.topic()).as(v.toString()).isEqualTo(withBom);
                assertThat(text(p)).isEqualTo("with BOM");
                assertThat(text(plain.read(Publish.class))).as(v.toString()).isEqualTo("without BOM");
            }
        }
    }
}
