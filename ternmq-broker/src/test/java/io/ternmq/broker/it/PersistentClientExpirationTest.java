package io.ternmq.broker.it;

import io.ternmq.broker.session.Session;
import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.ReasonCode;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static io.ternmq.broker.testing.RawV5.props;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * persistent_client_expiration, Mosquitto's setting: every session, MQTT 3.x persistent ones (which have no expiry of
 * their own) and MQTT 5 ones, is removed once its client has been away this long.
 */
class PersistentClientExpirationTest {
    /** The cap the tests set, seconds. */
    private static final long CAP = 2;
    private TestBroker broker;

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private Session session(String clientId) {
        return broker.broker().sessions().get(clientId);
    }

    private long sessionsExpired() {
        return broker.broker().metrics().sessionsExpired.sum();
    }

    /** Waits until the session is gone; @return the milliseconds since {@code sinceNanos} */
    private long awaitGone(String clientId, long sinceNanos) {
        await().atMost(Duration.ofSeconds(CAP + 8)).pollInterval(Duration.ofMillis(50))
                .until(() -> session(clientId) == null);
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sinceNanos);
    }

    /** A 3.1.1 persistent session subscribed to {@code topic} at QoS 1, then offline; one message queued for it. */
    private long leaveWithQueuedMessage(String clientId, String topic) {
        long left;
        try (PahoClient sub = PahoClient.connect(broker, clientId, false)) {
            sub.subscribe(topic, 1);
            left = System.nanoTime();
            sub.disconnect();
        }
        try (PahoClient pub = PahoClient.connect(broker, clientId + "-pub", true)) {
            pub.publish(topic, "while away", 1, false);
        }
        return left;
    }

    @Test
    @DisplayName("an MQTT 3.1.1 persistent session is removed once offline for the cap (Paho v3): on reconnect, "
            + "Session Present 0 and nothing of what was queued")
    void mqtt311SessionEndsAfterTheCap() {
        broker = TestBroker.start(b -> b.persistentClientExpiration(CAP));
        long left = leaveWithQueuedMessage("pce-311", "pce/311");
        assertThat(session("pce-311")).as("still there right after leaving").isNotNull();
        assertThat(awaitGone("pce-311", left)).as("not before the cap").isGreaterThanOrEqualTo(CAP * 1000 - 100);
        assertThat(sessionsExpired()).isEqualTo(1);
        try (PahoClient sub = PahoClient.connect(broker, "pce-311", false)) {
            assertThat(sub.sessionPresent()).isFalse();
            assertThat(sub.poll(500)).as("the queued message went with the session").isNull();
        }
    }

    @Test
    @DisplayName("within the cap, an MQTT 3.1.1 persistent session is resumed with its queued message (Paho v3)")
    void mqtt311SessionResumedWithinTheCap() {
        broker = TestBroker.start(b -> b.persistentClientExpiration(60));
        leaveWithQueuedMessage("pce-311-back", "pce/311/back");
        assertThat(session("pce-311-back").expiryInterval()).isEqualTo(60);
        try (PahoClient sub = PahoClient.connect(broker, "pce-311-back", false)) {
            assertThat(sub.sessionPresent()).isTrue();
            assertThat(sub.next().payload()).isEqualTo("while away");
        }
    }

    @Test
    @DisplayName("without persistent_client_expiration an MQTT 3.1.1 persistent session never expires")
    void mqtt311SessionWithoutCapNeverExpires() {
        broker = TestBroker.start();
        leaveWithQueuedMessage("pce-forever", "pce/forever");
        assertThat(session("pce-forever").expiryInterval()).isEqualTo(Session.NEVER_EXPIRES);
    }

    @Test
    @DisplayName("an MQTT 5 client asking for a longer Session Expiry Interval gets the cap, CONNACK says so, and the "
            + "session ends after it (Paho v5)")
    void mqtt5ExpiryCapped() {
        broker = TestBroker.start(b -> b.persistentClientExpiration(CAP));
        MqttConnectionOptions o = Paho5Client.options(false);
        o.setSessionExpiryInterval(3600L);
        long left;
        try (Paho5Client c = Paho5Client.connect(broker, "pce-5", o)) {
            assertThat(c.connackProperties().getSessionExpiryInterval()).isEqualTo(CAP);
            c.subscribe("pce/5", 1);
            left = System.nanoTime();
            c.disconnect();
        }
        assertThat(awaitGone("pce-5", left)).as("not before the cap").isGreaterThanOrEqualTo(CAP * 1000 - 100);
        try (Paho5Client c = Paho5Client.connect(broker, "pce-5", o)) {
            assertThat(c.connectToken().getSessionPresent()).isFalse();
        }
    }

    @Test
    @DisplayName("an MQTT 5 client asking for less than the cap keeps its own interval; CONNACK leaves it out")
    void mqtt5ExpiryBelowTheCap() {
        broker = TestBroker.start(b -> b.persistentClientExpiration(60));
        try (RawClient c = RawV5.open(broker)) {
            Connack ack = RawV5.connack(c, RawV5.connect("pce-5-short", false, 60,
                    props(PropertyId.SESSION_EXPIRY_INTERVAL, 30L)));
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.SUCCESS);
            assertThat(ack.properties().contains(PropertyId.SESSION_EXPIRY_INTERVAL)).isFalse();
            assertThat(session("pce-5-short").expiryInterval()).isEqualTo(30);
        }
    }

    @Test
    @DisplayName("the cap and max_session_expiry_interval: the shorter wins, and CONNACK tells it (raw MQTT 5)")
    void shorterOfTheTwoCaps() {
        broker = TestBroker.start(b -> b.persistentClientExpiration(40).maxSessionExpiryInterval(50));
        try (RawClient c = RawV5.open(broker)) {
            Connack ack = RawV5.connack(c, RawV5.connect("pce-both", false, 60,
                    props(PropertyId.SESSION_EXPIRY_INTERVAL, 0xFFFF_FFFFL)));
            assertThat(ack.properties().getLong(PropertyId.SESSION_EXPIRY_INTERVAL)).isEqualTo(40L);
            c.send(Disconnect.NORMAL);
            c.assertClosedByServer();
        }
        try (RawClient c = RawV5.open(broker)) {
            Connack ack = RawV5.connack(c, RawV5.connect("pce-both", false, 60,
                    props(PropertyId.SESSION_EXPIRY_INTERVAL, 45L)));
            assertThat(ack.sessionPresent()).isTrue();
            assertThat(ack.properties().getLong(PropertyId.SESSION_EXPIRY_INTERVAL)).isEqualTo(40L);
        }
    }

    @Test
    @DisplayName("a DISCONNECT raising the Session Expiry Interval is capped too: the session ends after the cap")
    void disconnectRaisingExpiryIsCapped() {
        broker = TestBroker.start(b -> b.persistentClientExpiration(CAP));
        MqttConnectionOptions o = Paho5Client.options(false);
        o.setSessionExpiryInterval(1L);
        long left;
        try (Paho5Client c = Paho5Client.connect(broker, "pce-raise", o)) {
            MqttProperties p = new MqttProperties();
            p.setSessionExpiryInterval(3600L);
            left = System.nanoTime();
            c.disconnect(ReasonCode.NORMAL_DISCONNECTION, p);
        }
        assertThat(awaitGone("pce-raise", left)).isGreaterThanOrEqualTo(CAP * 1000 - 100);
    }

    @Test
    @DisplayName("a session stored before the cap was set is capped once restored after a restart: it expires")
    void restoredSessionsAreCapped() {
        AtomicLong cap = new AtomicLong(0);
        broker = TestBroker.start(b -> b.persistentClientExpiration(cap.get()));
        leaveWithQueuedMessage("pce-restored", "pce/restored");
        assertThat(session("pce-restored").expiryInterval()).isEqualTo(Session.NEVER_EXPIRES);
        cap.set(CAP);
        broker.restart();
        long restarted = System.nanoTime();
        awaitGone("pce-restored", restarted);
        assertThat(sessionsExpired()).as("restored, then expired (not lost)").isEqualTo(1);
        try (PahoClient sub = PahoClient.connect(broker, "pce-restored", false)) {
            assertThat(sub.sessionPresent()).isFalse();
            assertThat(sub.poll(500)).isNull();
        }
    }
}
