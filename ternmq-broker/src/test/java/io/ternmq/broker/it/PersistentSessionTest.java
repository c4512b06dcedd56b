package io.ternmq.broker.it;

import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Pubcomp;
import io.ternmq.codec.Publish;
import io.ternmq.codec.Pubrec;
import io.ternmq.codec.Pubrel;
import io.ternmq.codec.QoS;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Persistent sessions: session present, offline queues and their bound, resend on resume, in-flight window. */
class PersistentSessionTest {
    private TestBroker broker;

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private RawClient connect(String clientId, boolean clean, boolean expectPresent) {
        RawClient c = new RawClient(broker.port());
        c.send(ConnectTest.connect(MqttVersion.MQTT_3_1_1, clientId, clean, 60));
        Connack ack = c.read(Connack.class);
        assertThat(ack.reasonCode()).isZero();
        assertThat(ack.sessionPresent()).as("session present").isEqualTo(expectPresent);
        return c;
    }

    private static void subscribe(RawClient c, String filter, QoS qos) {
        c.send(new Subscribe(1, List.of(new TopicSubscription(filter, qos)), MqttProperties.EMPTY));
        c.read(Suback.class);
    }

    private void disconnect(RawClient c, String clientId) {
        c.send(Disconnect.NORMAL);
        c.assertClosedByServer();
        c.close();
        await().until(() -> broker.broker().sessions().get(clientId) == null
                || !isConnected(clientId));
    }

    private boolean isConnected(String clientId) {
        var s = broker.broker().sessions().get(clientId);
        if (s == null) {
            return false;
        }
        boolean[] connected = new boolean[1];
        s.owner().submit(() -> connected[0] = s.isConnected()).syncUninterruptibly();
        return connected[0];
    }

    private static String text(Publish p) {
        return new String(p.payload(), StandardCharsets.UTF_8);
    }

    @Test
    @DisplayName("[MQTT-3.2.2-2][MQTT-3.2.2-3] session present is 0 for a new session, 1 when resumed, 0 after clean")
    void sessionPresentFlag() {
        broker = TestBroker.start();
        disconnect(connect("p1", false, false), "p1");
        disconnect(connect("p1", false, true), "p1");
        disconnect(connect("p1", true, false), "p1");
        // [MQTT-3.1.2-6] the clean session ended when its connection closed
        disconnect(connect("p1", false, false), "p1");
    }

    @Test
    @DisplayName("[MQTT-3.1.2-4][MQTT-3.1.2-5] subscriptions persist and QoS 1/2 messages are queued while offline, in order")
    void queuedWhileOffline() {
        broker = TestBroker.start();
        RawClient c = connect("offline", false, false);
        subscribe(c, "q/#", QoS.EXACTLY_ONCE);
        disconnect(c, "offline");
        try (PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            pub.publish("q/1", "a", 1, false);
            pub.publish("q/2", "b", 2, false);
            pub.publish("q/0", "not kept", 0, false);
            pub.publish("q/1", "c", 1, false);
        }
        try (RawClient again = connect("offline", false, true)) {
            Publish a = again.read(Publish.class);
            Publish b = again.read(Publish.class);
            Publish cc = again.read(Publish.class);
            again.send(new Puback(a.packetId()));
            again.send(new Pubrec(b.packetId()));
            assertThat(again.read(Pubrel.class).packetId()).isEqualTo(b.packetId());
            again.send(new Pubcomp(b.packetId()));
            again.send(new Puback(cc.packetId()));
            assertThat(List.of(text(a), text(b), text(cc))).containsExactly("a", "b", "c");
            assertThat(List.of(a.qos(), b.qos(), cc.qos()))
                    .containsExactly(QoS.AT_LEAST_ONCE, QoS.EXACTLY_ONCE, QoS.AT_LEAST_ONCE);
            again.assertSilentFor(Duration.ofMillis(300));
        }
        assertThat(broker.broker().metrics().offlineQos0Drops.sum()).isEqualTo(1);
    }

    @Test
    @DisplayName("the offline queue is bounded by max_queued_messages; overflow is dropped and counted")
    void boundedQueue() {
        broker = TestBroker.start(b -> b.maxQueuedMessages(5));
        RawClient c = connect("bounded", false, false);
        subscribe(c, "b/t", QoS.AT_LEAST_ONCE);
        disconnect(c, "bounded");
        try (PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            for (int i = 0; i < 10; i++) {
                pub.publish("b/t", Integer.toString(i), 1, false);
            }
        }
        assertThat(broker.broker().metrics().queueOverflowDrops.sum()).isEqualTo(5);
        try (RawClient again = connect("bounded", false, true)) {
            for (int i = 0; i < 5; i++) {
                Publish p = again.read(Publish.class);
                assertThat(text(p)).isEqualTo(Integer.toString(i));
                again.send(new Puback(p.packetId()));
            }
            again.assertSilentFor(Duration.ofMillis(300));
        }
    }

    @Test
    @DisplayName("[MQTT-4.4.0-1] unacknowledged PUBLISH is resent on resume with DUP=1 and its original packet id")
    void resendUnackedPublish() {
        broker = TestBroker.start();
        RawClient c = connect("resend", false, false);
        subscribe(c, "rs/t", QoS.AT_LEAST_ONCE);
        try (PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            pub.publish("rs/t", "m1", 1, false);
            pub.publish("rs/t", "m2", 1, false);
        }
        Publish first = c.read(Publish.class);
        Publish second = c.read(Publish.class);
        assertThat(first.dup()).isFalse();
        c.send(new Puback(first.packetId()));
        c.close(); // second stays unacknowledged
        await().until(() -> !isConnected("resend"));
        try (RawClient again = connect("resend", false, true)) {
            Publish resent = again.read(Publish.class);
            assertThat(resent.packetId()).isEqualTo(second.packetId());
            assertThat(resent.dup()).isTrue();
            assertThat(text(resent)).isEqualTo("m2");
            again.send(new Puback(resent.packetId()));
            again.assertSilentFor(Duration.ofMillis(300));
        }
    }

    @Test
    @DisplayName("[MQTT-4.4.0-1] after PUBREC, only the PUBREL is resent on resume, never the PUBLISH")
    void resendPubrelNotPublish() {
        broker = TestBroker.start();
        RawClient c = connect("rel", false, false);
        subscribe(c, "rl/t", QoS.EXACTLY_ONCE);
        try (PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            pub.publish("rl/t", "m", 2, false);
        }
        Publish p = c.read(Publish.class);
        c.send(new Pubrec(p.packetId()));
        assertThat(c.read(Pubrel.class).packetId()).isEqualTo(p.packetId());
        c.close(); // no PUBCOMP
        await().until(() -> !isConnected("rel"));
        try (RawClient again = connect("rel", false, true)) {
            MqttPacket resent = again.read();
            assertThat(resent).isInstanceOf(Pubrel.class);
            assertThat(((Pubrel) resent).packetId()).isEqualTo(p.packetId());
            again.send(new Pubcomp(p.packetId()));
            again.assertSilentFor(Duration.ofMillis(300));
        }
    }

    @Test
    @DisplayName("the in-flight window holds back QoS 1/2 messages until acknowledgements free room")
    void inflightWindow() {
        broker = TestBroker.start(b -> b.maxInflightMessages(2));
        try (RawClient c = connect("window", true, false);
             PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            subscribe(c, "win/t", QoS.AT_LEAST_ONCE);
            for (int i = 0; i < 5; i++) {
                pub.publish("win/t", Integer.toString(i), 1, false);
            }
            Publish p0 = c.read(Publish.class);
            Publish p1 = c.read(Publish.class);
            c.assertSilentFor(Duration.ofMillis(300));
            c.send(new Puback(p0.packetId()));
            Publish p2 = c.read(Publish.class);
            assertThat(text(p2)).isEqualTo("2");
            c.assertSilentFor(Duration.ofMillis(200));
            c.send(new Puback(p1.packetId()));
            c.send(new Puback(p2.packetId()));
            assertThat(text(c.read(Publish.class))).isEqualTo("3");
            assertThat(text(c.read(Publish.class))).isEqualTo("4");
        }
    }

    @Test
    @DisplayName("[MQTT-4.3.3-2] a resent QoS 2 PUBLISH awaiting PUBREL is not delivered twice, even across a reconnect")
    void inboundQos2ExactlyOnce() {
        broker = TestBroker.start();
        try (PahoClient sub = PahoClient.connect(broker, "sub", true)) {
            sub.subscribe("eo/#", 2);
            RawClient pub = connect("qos2pub", false, false);
            Publish p = new Publish("eo/t", QoS.EXACTLY_ONCE, false, false, 7, "x".getBytes(), MqttProperties.EMPTY);
            pub.send(p);
            assertThat(pub.read(Pubrec.class).packetId()).isEqualTo(7);
            pub.send(new Publish("eo/t", QoS.EXACTLY_ONCE, false, true, 7, "x".getBytes(), MqttProperties.EMPTY));
            assertThat(pub.read(Pubrec.class).packetId()).isEqualTo(7);
            pub.close();
            await().until(() -> !isConnected("qos2pub"));
            RawClient again = connect("qos2pub", false, true);
            again.send(new Publish("eo/t", QoS.EXACTLY_ONCE, false, true, 7, "x".getBytes(), MqttProperties.EMPTY));
            assertThat(again.read(Pubrec.class).packetId()).isEqualTo(7);
            again.send(new Pubrel(7));
            assertThat(again.read(Pubcomp.class).packetId()).isEqualTo(7);
            assertThat(sub.next().payload()).isEqualTo("x");
            assertThat(sub.poll(300)).isNull();
            // after PUBCOMP the id is free: the same id is a new message
            again.send(new Publish("eo/t", QoS.EXACTLY_ONCE, false, false, 7, "y".getBytes(), MqttProperties.EMPTY));
            assertThat(again.read(Pubrec.class).packetId()).isEqualTo(7);
            again.send(new Pubrel(7));
            again.read(Pubcomp.class);
            assertThat(sub.next().payload()).isEqualTo("y");
            again.close();
        }
    }

    @Test
    @DisplayName("a persistent session taken over by a new connection keeps its subscriptions")
    void takeoverKeepsSession() {
        broker = TestBroker.start();
        try (RawClient first = connect("tk", false, false)) {
            subscribe(first, "tk/t", QoS.AT_LEAST_ONCE);
            try (RawClient second = connect("tk", false, true);
                 PahoClient pub = PahoClient.connect(broker, "pub", true)) {
                first.assertClosedByServer();
                pub.publish("tk/t", "to-second", 1, false);
                Publish p = second.read(Publish.class);
                assertThat(text(p)).isEqualTo("to-second");
            }
        }
    }
}
