package io.ternmq.broker.it.v5;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PayloadFormatIndicator;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Will;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.ternmq.broker.testing.RawV5.props;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** MQTT 5.0 wills: Will Delay Interval against session expiry and resumption, DISCONNECT 0x00 / 0x04, properties. */
class WillV5Test {
    private TestBroker broker;
    private Paho5Client watcher;

    @BeforeEach
    void start() {
        broker = TestBroker.start();
        watcher = Paho5Client.connect(broker, "watcher").subscribe("will/#", 2);
    }

    @AfterEach
    void stop() {
        watcher.close();
        broker.close();
    }

    private static Will will(String clientId, MqttProperties props) {
        return RawV5.will("will/" + clientId, "gone:" + clientId, QoS.AT_LEAST_ONCE, false, props);
    }

    /** Connects a raw client with a will (Will Delay Interval in seconds, 0: none) and a Session Expiry Interval. */
    private RawClient withWill(String clientId, boolean cleanStart, long willDelay, long sessionExpiry) {
        MqttProperties willProps = willDelay == 0 ? MqttProperties.EMPTY
                : props(PropertyId.WILL_DELAY_INTERVAL, willDelay);
        MqttProperties connectProps = sessionExpiry == 0 ? MqttProperties.EMPTY
                : props(PropertyId.SESSION_EXPIRY_INTERVAL, sessionExpiry);
        return RawV5.connected(broker, RawV5.connect(clientId, cleanStart, 60, connectProps,
                will(clientId, willProps)));
    }

    private void assertNoWillFor(Duration d) {
        await().during(d).atMost(d.plusSeconds(2)).until(() -> watcher.received().isEmpty());
    }

    private Paho5Client.Received nextWill(String clientId) {
        Paho5Client.Received r = watcher.next();
        assertThat(r.topic()).isEqualTo("will/" + clientId);
        assertThat(r.payload()).isEqualTo("gone:" + clientId);
        return r;
    }

    @Test
    @DisplayName("[MQTT-3.1.2-8] without a Will Delay Interval the will is published as soon as the connection drops")
    void publishedAtOnce() {
        withWill("plain", true, 0, 0).close();
        nextWill("plain");
    }

    @Test
    @DisplayName("[MQTT-3.1.3-9] the will is not published when the client resumes its session within the Will "
            + "Delay Interval")
    void notPublishedWhenResumedInTime() {
        withWill("resumer", true, 2, 60).close();
        try (RawClient again = RawV5.open(broker)) {
            Connack ack = RawV5.connack(again, RawV5.connect("resumer", false, 60,
                    props(PropertyId.SESSION_EXPIRY_INTERVAL, 60L)));
            assertThat(ack.sessionPresent()).isTrue();
            assertNoWillFor(Duration.ofMillis(2500));
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.3-9] a takeover with Clean Start 0 within the Will Delay Interval: the old connection gets "
            + "DISCONNECT 0x8E and no will is published")
    void notPublishedOnTakeoverInTime() {
        try (RawClient first = withWill("taken", true, 2, 60);
             RawClient second = RawV5.open(broker)) {
            Connack ack = RawV5.connack(second, RawV5.connect("taken", false, 60,
                    props(PropertyId.SESSION_EXPIRY_INTERVAL, 60L)));
            assertThat(ack.sessionPresent()).isTrue();
            assertThat(RawV5.disconnectReason(first)).isEqualTo(ReasonCode.SESSION_TAKEN_OVER);
            assertNoWillFor(Duration.ofMillis(2500));
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.4-3] a takeover (Clean Start 0) closes the existing connection with 0x8E; its will without "
            + "delay is published")
    void takeoverPublishesUndelayedWill() {
        try (RawClient first = withWill("taken-now", true, 0, 60);
             RawClient second = RawV5.open(broker)) {
            Connack ack = RawV5.connack(second, RawV5.connect("taken-now", false, 60,
                    props(PropertyId.SESSION_EXPIRY_INTERVAL, 60L)));
            assertThat(ack.sessionPresent()).isTrue();
            assertThat(RawV5.disconnectReason(first)).isEqualTo(ReasonCode.SESSION_TAKEN_OVER);
            nextWill("taken-now");
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-8] the will is published once the Will Delay Interval (1 s) has passed")
    void publishedAfterDelay() {
        RawClient c = withWill("delayed", true, 1, 60);
        long t0 = System.nanoTime();
        c.close();
        nextWill("delayed");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(900));
    }

    @Test
    @DisplayName("[MQTT-3.1.2-8] the will is published when the session ends, if its expiry (1 s) comes before the "
            + "Will Delay Interval (30 s)")
    void publishedAtSessionEndBeforeDelay() {
        RawClient c = withWill("short-session", true, 30, 1);
        long t0 = System.nanoTime();
        c.close();
        nextWill("short-session");
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(900)).isLessThan(Duration.ofSeconds(5));
        // the session ends at the same moment (its expiry timer may fire just after the will's)
        await().atMost(Duration.ofSeconds(2)).until(() -> broker.broker().sessions().get("short-session") == null);
    }

    @Test
    @DisplayName("[MQTT-3.1.2-8] with Session Expiry 0 the session ends with the connection, so a delayed will "
            + "goes out "
            + "at once")
    void publishedAtOnceWhenSessionEndsWithConnection() {
        RawClient c = withWill("no-session", true, 30, 0);
        c.close();
        Paho5Client.Received r = watcher.poll(1500);
        assertThat(r).as("will within 1.5 s").isNotNull();
        assertThat(r.payload()).isEqualTo("gone:no-session");
    }

    @Test
    @DisplayName("[MQTT-3.1.2-4] a Clean Start reconnect ends the old session, so its delayed will goes out")
    void cleanStartEndsSessionAndPublishesWill() {
        withWill("restarter", true, 30, 60).close();
        await().atMost(Duration.ofSeconds(2)).until(() -> broker.broker().sessions().get("restarter") != null
                && !broker.broker().sessions().get("restarter").isConnected());
        assertThat(watcher.received()).isEmpty();
        try (RawClient again = RawV5.open(broker)) {
            Connack ack = RawV5.connack(again, RawV5.connect("restarter", true, 60, MqttProperties.EMPTY));
            assertThat(ack.sessionPresent()).isFalse();
            Paho5Client.Received r = watcher.poll(2000);
            assertThat(r).as("will within 2 s").isNotNull();
            assertThat(r.payload()).isEqualTo("gone:restarter");
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-4] a Clean Start takeover of a connected client ends its session: DISCONNECT 0x8E and "
            + "its delayed will goes out")
    void cleanStartTakeoverPublishesWill() {
        try (RawClient first = withWill("clean-taken", true, 30, 60);
             RawClient second = RawV5.open(broker)) {
            RawV5.connack(second, RawV5.connect("clean-taken", true, 60, MqttProperties.EMPTY));
            assertThat(RawV5.disconnectReason(first)).isEqualTo(ReasonCode.SESSION_TAKEN_OVER);
            Paho5Client.Received r = watcher.poll(2000);
            assertThat(r).as("will within 2 s").isNotNull();
            assertThat(r.payload()).isEqualTo("gone:clean-taken");
        }
    }

    @Test
    @DisplayName("[MQTT-3.14.4-3] DISCONNECT 0x00 deletes the will")
    void normalDisconnectDeletesWill() {
        try (RawClient c = withWill("polite", true, 0, 0)) {
            c.send(Disconnect.NORMAL);
            c.assertClosedByServer();
        }
        assertNoWillFor(Duration.ofMillis(700));
    }

    @Test
    @DisplayName("[MQTT-3.14.4-3] DISCONNECT 0x00 deletes a delayed will too, even after the session ends")
    void normalDisconnectDeletesDelayedWill() {
        try (RawClient c = withWill("polite-delayed", true, 1, 1)) {
            c.send(Disconnect.NORMAL);
            c.assertClosedByServer();
        }
        await().atMost(Duration.ofSeconds(4)).until(() -> broker.broker().sessions().get("polite-delayed") == null);
        assertNoWillFor(Duration.ofMillis(500));
    }

    @Test
    @DisplayName("DISCONNECT 0x04 (Disconnect with Will Message) publishes the will")
    void disconnectWithWillPublishes() {
        try (RawClient c = withWill("wants-will", true, 0, 0)) {
            c.send(new Disconnect(ReasonCode.DISCONNECT_WITH_WILL_MESSAGE));
            c.assertClosedByServer();
        }
        nextWill("wants-will");
    }

    @Test
    @DisplayName("Paho v5 DISCONNECT 0x04 publishes the will it set")
    void pahoDisconnectWithWill() {
        MqttConnectionOptions o = Paho5Client.options(true);
        o.setWill("will/paho-leaver", Paho5Client.message("gone:paho-leaver", 1, false,
                new org.eclipse.paho.mqttv5.common.packet.MqttProperties()));
        try (Paho5Client c = Paho5Client.connect(broker, "paho-leaver", o)) {
            c.disconnect(ReasonCode.DISCONNECT_WITH_WILL_MESSAGE,
                    new org.eclipse.paho.mqttv5.common.packet.MqttProperties());
        }
        nextWill("paho-leaver");
    }

    @Test
    @DisplayName("[MQTT-3.1.2-8] a protocol error (server DISCONNECT 0x82) publishes the will")
    void protocolErrorPublishesWill() {
        try (RawClient c = withWill("offender", true, 0, 0)) {
            c.send(new Disconnect(ReasonCode.NORMAL_DISCONNECTION, props(PropertyId.SESSION_EXPIRY_INTERVAL, 5L)));
            assertThat(RawV5.disconnectReason(c)).isEqualTo(ReasonCode.PROTOCOL_ERROR);
        }
        nextWill("offender");
    }

    @Test
    @DisplayName("[MQTT-3.1.2-15] a will with Will Retain 1 is published as a retained message")
    void retainedWill() {
        Will w = RawV5.will("will/retained", "kept", QoS.AT_LEAST_ONCE, true, MqttProperties.EMPTY);
        RawV5.connected(broker, RawV5.connect("retainer", true, 60, MqttProperties.EMPTY, w)).close();
        assertThat(watcher.next().payload()).isEqualTo("kept");
        try (Paho5Client late = Paho5Client.connect(broker, "late").subscribe("will/retained", 1)) {
            Paho5Client.Received r = late.next();
            assertThat(r.payload()).isEqualTo("kept");
            assertThat(r.message().isRetained()).isTrue();
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.3-10] will properties arrive on the will message: content type, response topic, "
            + "correlation data, user properties in order, message expiry, payload format (HiveMQ subscriber)")
    void willPropertiesDelivered() throws InterruptedException {
        Mqtt5BlockingClient sub = Mqtt5Client.builder().identifier("hive-watcher").serverHost("127.0.0.1")
                .serverPort(broker.port()).buildBlocking();
        sub.connect();
        try (var publishes = sub.publishes(com.hivemq.client.mqtt.MqttGlobalPublishFilter.ALL)) {
            sub.subscribeWith().topicFilter("will/#").qos(MqttQos.AT_LEAST_ONCE).send();
            MqttProperties willProps = MqttProperties.builder()
                    .set(PropertyId.PAYLOAD_FORMAT_INDICATOR, 1)
                    .set(PropertyId.MESSAGE_EXPIRY_INTERVAL, 120L)
                    .set(PropertyId.CONTENT_TYPE, "text/plain")
                    .set(PropertyId.RESPONSE_TOPIC, "replies/rich")
                    .set(PropertyId.CORRELATION_DATA, new byte[] {1, 2, 3})
                    .userProperty("k", "v1")
                    .userProperty("a", "b")
                    .userProperty("k", "v2")
                    .build();
            Will w = RawV5.will("will/rich", "rich will é", QoS.AT_LEAST_ONCE, false, willProps);
            RawV5.connected(broker, RawV5.connect("rich", true, 60, MqttProperties.EMPTY, w)).close();

            Mqtt5Publish p = publishes.receive(5, TimeUnit.SECONDS).orElseThrow();
            assertThat(p.getTopic().toString()).isEqualTo("will/rich");
            assertThat(new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo("rich will é");
            assertThat(p.getPayloadFormatIndicator()).hasValue(Mqtt5PayloadFormatIndicator.UTF_8);
            assertThat(p.getContentType().orElseThrow().toString()).isEqualTo("text/plain");
            assertThat(p.getResponseTopic().orElseThrow().toString()).isEqualTo("replies/rich");
            byte[] correlation = new byte[p.getCorrelationData().orElseThrow().remaining()];
            p.getCorrelationData().orElseThrow().duplicate().get(correlation);
            assertThat(correlation).containsExactly(1, 2, 3);
            assertThat(p.getUserProperties().asList()).extracting(u -> u.getName() + "=" + u.getValue())
                    .containsExactly("k=v1", "a=b", "k=v2");
            assertThat(p.getMessageExpiryInterval()).isPresent();
            assertThat(p.getMessageExpiryInterval().getAsLong()).isBetween(1L, 120L);
        } finally {
            sub.disconnect();
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.3-10] a Paho v5 will with properties reaches a Paho v5 subscriber with them, without the "
            + "Will Delay Interval")
    void pahoWillProperties() {
        MqttConnectionOptions o = Paho5Client.options(true);
        var wp = new org.eclipse.paho.mqttv5.common.packet.MqttProperties();
        wp.setContentType("application/json");
        wp.setUserProperties(List.of(new UserProperty("x", "1"), new UserProperty("x", "2")));
        wp.setWillDelayInterval(0L);
        o.setWill("will/paho-rich", new MqttMessage("{}".getBytes(StandardCharsets.UTF_8), 1, false, null));
        o.setWillMessageProperties(wp);
        Paho5Client c = Paho5Client.connect(broker, "paho-rich", o);
        try {
            c.client().disconnectForcibly(0, 100, false);
        } catch (org.eclipse.paho.mqttv5.common.MqttException e) {
            throw new IllegalStateException(e);
        } finally {
            c.close();
        }
        Paho5Client.Received r = watcher.next();
        assertThat(r.topic()).isEqualTo("will/paho-rich");
        assertThat(r.properties().getContentType()).isEqualTo("application/json");
        assertThat(r.properties().getUserProperties()).extracting(u -> u.getKey() + "=" + u.getValue())
                .containsExactly("x=1", "x=2");
        assertThat(r.properties().getWillDelayInterval()).isNull();
    }
}
