package io.ternmq.broker.it.v5;

import io.ternmq.broker.session.Session;
import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.ternmq.broker.testing.RawV5.props;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** MQTT 5.0 Session Expiry Interval: in CONNECT, when the connection ends, and changed at DISCONNECT. */
class SessionExpiryTest {
    private static final long NEVER = 0xFFFF_FFFFL;
    private TestBroker broker;

    @BeforeEach
    void start() {
        broker = TestBroker.start();
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    private Session session(String clientId) {
        return broker.broker().sessions().get(clientId);
    }

    /** Connects with Clean Start 0 and the given Session Expiry Interval (null: none) and returns the CONNACK. */
    private Connack reconnect(RawClient c, String clientId, Long expiry) {
        MqttProperties p = expiry == null ? MqttProperties.EMPTY : props(PropertyId.SESSION_EXPIRY_INTERVAL, expiry);
        Connack ack = RawV5.connack(c, RawV5.connect(clientId, false, 60, p));
        assertThat(ack.reasonCode()).isEqualTo(ReasonCode.SUCCESS);
        return ack;
    }

    private void connectAndLeave(String clientId, Long expiry, Disconnect disconnect) {
        try (RawClient c = RawV5.open(broker)) {
            reconnect(c, clientId, expiry);
            if (disconnect != null) {
                c.send(disconnect);
                c.assertClosedByServer();
            }
        }
    }

    private boolean sessionPresentOnReconnect(String clientId) {
        try (RawClient c = RawV5.open(broker)) {
            boolean present = reconnect(c, clientId, 60L).sessionPresent();
            c.send(new Disconnect(ReasonCode.NORMAL_DISCONNECTION, props(PropertyId.SESSION_EXPIRY_INTERVAL, 0L)));
            c.assertClosedByServer();
            return present;
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-23] without a Session Expiry Interval (0) the session ends with the connection: "
            + "Session Present 0 on reconnect")
    void zeroEndsWithConnection() {
        connectAndLeave("zero", null, Disconnect.NORMAL);
        await().atMost(Duration.ofSeconds(2)).until(() -> session("zero") == null);
        assertThat(sessionPresentOnReconnect("zero")).isFalse();
    }

    @Test
    @DisplayName("[MQTT-3.2.2-3] within its Session Expiry Interval the session is resumed: Session Present 1")
    void resumedWithinInterval() {
        connectAndLeave("within", 30L, Disconnect.NORMAL);
        assertThat(sessionPresentOnReconnect("within")).isTrue();
    }

    @Test
    @DisplayName("[MQTT-3.1.2-23] the session also outlives a connection that drops without DISCONNECT")
    void resumedAfterNetworkDrop() {
        connectAndLeave("dropped", 30L, null);
        await().atMost(Duration.ofSeconds(2)).until(() -> session("dropped") != null && !session("dropped")
                .isConnected());
        assertThat(sessionPresentOnReconnect("dropped")).isTrue();
    }

    @Test
    @DisplayName("[MQTT-4.1.0-2] once the Session Expiry Interval (1 s) has passed the session is gone: Session "
            + "Present 0")
    void goneAfterInterval() {
        connectAndLeave("expiring", 1L, Disconnect.NORMAL);
        assertThat(session("expiring")).isNotNull();
        await().atLeast(Duration.ofMillis(700)).atMost(Duration.ofSeconds(4))
                .until(() -> session("expiring") == null);
        assertThat(sessionPresentOnReconnect("expiring")).isFalse();
    }

    @Test
    @DisplayName("a persistent session keeps subscriptions and the QoS 1 messages published while offline (Paho v5)")
    void persistentSessionQueuesWhileOffline() {
        MqttConnectionOptions o = Paho5Client.options(false);
        o.setSessionExpiryInterval(30L);
        try (Paho5Client sub = Paho5Client.connect(broker, "offline-sub", o)) {
            sub.subscribe("offline/#", 1);
            sub.disconnect();
        }
        try (Paho5Client pub = Paho5Client.connect(broker, "offline-pub")) {
            pub.publish("offline/1", "kept", 1, false);
        }
        try (Paho5Client sub = Paho5Client.connect(broker, "offline-sub", o)) {
            assertThat(sub.connectToken().getSessionPresent()).isTrue();
            assertThat(sub.next().payload()).isEqualTo("kept");
        }
    }

    @Test
    @DisplayName("Session Expiry Interval 0xFFFFFFFF: the session does not expire")
    void neverExpires() {
        connectAndLeave("forever", NEVER, Disconnect.NORMAL);
        assertThat(session("forever").expiryInterval()).isEqualTo(Session.NEVER_EXPIRES);
        // nothing about it is timed: it is still there after more than a short interval would allow
        await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3)).until(() -> session("forever") != null);
        assertThat(sessionPresentOnReconnect("forever")).isTrue();
    }

    @Test
    @DisplayName("[MQTT-3.1.2-4] Clean Start 1 discards an existing session: Session Present 0")
    void cleanStartDiscards() {
        connectAndLeave("discard", 30L, Disconnect.NORMAL);
        try (RawClient c = RawV5.open(broker)) {
            Connack ack = RawV5.connack(c, RawV5.connect("discard", true, 60,
                    props(PropertyId.SESSION_EXPIRY_INTERVAL, 30L)));
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.SUCCESS);
            assertThat(ack.sessionPresent()).isFalse();
        }
    }

    @Test
    @DisplayName("DISCONNECT can raise the Session Expiry Interval: the session outlives the 1 s set in CONNECT")
    void disconnectRaisesExpiry() {
        MqttConnectionOptions o = Paho5Client.options(false);
        o.setSessionExpiryInterval(1L);
        try (Paho5Client c = Paho5Client.connect(broker, "raise", o)) {
            org.eclipse.paho.mqttv5.common.packet.MqttProperties p =
                    new org.eclipse.paho.mqttv5.common.packet.MqttProperties();
            p.setSessionExpiryInterval(60L);
            c.disconnect(ReasonCode.NORMAL_DISCONNECTION, p);
        }
        await().atMost(Duration.ofSeconds(2)).until(() -> session("raise") != null && !session("raise").isConnected());
        await().during(Duration.ofMillis(2000)).atMost(Duration.ofSeconds(4)).until(() -> session("raise") != null);
        assertThat(sessionPresentOnReconnect("raise")).isTrue();
    }

    @Test
    @DisplayName("DISCONNECT can lower the Session Expiry Interval to 0: the session ends at once")
    void disconnectLowersExpiryToZero() {
        connectAndLeave("lower", 60L,
                new Disconnect(ReasonCode.NORMAL_DISCONNECTION, props(PropertyId.SESSION_EXPIRY_INTERVAL, 0L)));
        await().atMost(Duration.ofSeconds(2)).until(() -> session("lower") == null);
        assertThat(sessionPresentOnReconnect("lower")).isFalse();
    }

    @Test
    @DisplayName("(3.14.2.2.2) CONNECT without Session Expiry, then DISCONNECT with a non-zero one: server DISCONNECT "
            + "0x82, and the session still ends")
    void disconnectFromZeroToNonZeroIsProtocolError() {
        try (RawClient c = RawV5.open(broker); RawClient bystander = RawV5.connected(broker, "bystander")) {
            reconnect(c, "zero-then-more", null);
            c.send(new Disconnect(ReasonCode.NORMAL_DISCONNECTION, props(PropertyId.SESSION_EXPIRY_INTERVAL, 30L)));
            assertThat(RawV5.disconnectReason(c)).isEqualTo(ReasonCode.PROTOCOL_ERROR);
            RawV5.assertAlive(bystander);
        }
        await().atMost(Duration.ofSeconds(2)).until(() -> session("zero-then-more") == null);
        assertThat(sessionPresentOnReconnect("zero-then-more")).isFalse();
    }

    @Test
    @DisplayName("a session resumed with a smaller interval uses the new one (1 s): it expires after the next "
            + "disconnection")
    void resumeChangesInterval() {
        connectAndLeave("changing", 60L, Disconnect.NORMAL);
        try (RawClient c = RawV5.open(broker)) {
            assertThat(reconnect(c, "changing", 1L).sessionPresent()).isTrue();
            c.send(Disconnect.NORMAL);
            c.assertClosedByServer();
        }
        await().atMost(Duration.ofSeconds(4)).until(() -> session("changing") == null);
    }

    @Test
    @DisplayName("messages for a persistent session wait in its queue while offline (raw client, QoS 1)")
    void rawQueueWhileOffline() {
        try (RawClient c = RawV5.open(broker)) {
            reconnect(c, "queued", 30L);
            RawV5.subscribe(c, "q/#", QoS.AT_LEAST_ONCE);
            c.send(Disconnect.NORMAL);
            c.assertClosedByServer();
        }
        try (RawClient p = RawV5.connected(broker, "queue-pub")) {
            p.send(RawV5.publish("q/1", QoS.AT_LEAST_ONCE, 1, "while-away"));
            p.read(Puback.class);
        }
        try (RawClient c = RawV5.open(broker)) {
            assertThat(reconnect(c, "queued", 30L).sessionPresent()).isTrue();
            Publish got = c.read(Publish.class);
            assertThat(RawV5.payload(got)).isEqualTo("while-away");
        }
    }
}
