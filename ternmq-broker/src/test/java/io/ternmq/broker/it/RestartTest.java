package io.ternmq.broker.it;

import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.PropertyId;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What the RocksDB store keeps across a restart (stop, start on the same data directory, check): persistent
 * sessions with their subscriptions, queued and in-flight messages, inbound QoS 2 state, retained messages, wills
 * with their delay, shared groups' held messages, and expiry.
 */
class RestartTest {
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

    private static String text(Publish p) {
        return new String(p.payload(), StandardCharsets.UTF_8);
    }

    private void publish(String topic, String payload, int qos, boolean retain) {
        try (PahoClient pub = PahoClient.connect(broker, "publisher", true)) {
            pub.publish(topic, payload, qos, retain);
        }
    }

    @Test
    @DisplayName("a persistent session and its subscriptions survive a restart: session present, messages routed")
    void sessionAndSubscriptions() {
        broker = TestBroker.start();
        try (RawClient c = connect("keeper", false, false)) {
            subscribe(c, "keep/+/t", QoS.EXACTLY_ONCE);
        }
        broker.restart();
        try (RawClient c = connect("keeper", false, true)) {
            publish("keep/a/t", "after restart", 1, false);
            Publish p = c.read(Publish.class);
            assertThat(text(p)).isEqualTo("after restart");
            assertThat(p.qos()).isEqualTo(QoS.AT_LEAST_ONCE);
            c.send(new Puback(p.packetId()));
        }
    }

    @Test
    @DisplayName("QoS 1/2 messages queued for an offline session survive a restart, in order; QoS 0 ones do not")
    void queuedMessages() {
        broker = TestBroker.start();
        try (RawClient c = connect("offline", false, false)) {
            subscribe(c, "q/#", QoS.EXACTLY_ONCE);
        }
        await().until(() -> !broker.broker().sessions().get("offline").isOnline());
        try (PahoClient pub = PahoClient.connect(broker, "publisher", true)) {
            for (int i = 0; i < 50; i++) {
                pub.publish("q/" + (i % 3), "m" + i, i % 2 == 0 ? 1 : 2, false);
            }
            pub.publish("q/0", "qos0", 0, false);
        }
        broker.restart();
        try (RawClient c = connect("offline", false, true)) {
            List<String> got = new ArrayList<>();
            int openQos2 = 0;
            while (got.size() < 50 || openQos2 > 0) {
                MqttPacket packet = c.read();
                if (packet instanceof Pubrel rel) {
                    c.send(new Pubcomp(rel.packetId()));
                    openQos2--;
                    continue;
                }
                Publish p = (Publish) packet;
                got.add(text(p));
                if (p.qos() == QoS.AT_LEAST_ONCE) {
                    c.send(new Puback(p.packetId()));
                } else {
                    c.send(new Pubrec(p.packetId()));
                    openQos2++;
                }
            }
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                expected.add("m" + i);
            }
            assertThat(got).containsExactlyElementsOf(expected);
            c.assertSilentFor(Duration.ofMillis(300));
        }
        assertThat(broker.broker().sessions().get("offline").queuedCount()).isZero();
    }

    @Test
    @DisplayName("a QoS 1 message in flight before a restart is resent after it, with its packet id and DUP set")
    void inflightPublishResent() {
        broker = TestBroker.start();
        int id;
        try (RawClient c = connect("inflight", false, false)) {
            subscribe(c, "f/t", QoS.AT_LEAST_ONCE);
            publish("f/t", "unacked", 1, false);
            id = c.read(Publish.class).packetId();
        }
        broker.restart();
        try (RawClient c = connect("inflight", false, true)) {
            Publish p = c.read(Publish.class);
            assertThat(text(p)).isEqualTo("unacked");
            assertThat(p.packetId()).isEqualTo(id);
            assertThat(p.dup()).isTrue();
            c.send(new Puback(p.packetId()));
            c.assertSilentFor(Duration.ofMillis(300));
        }
        broker.restart();
        try (RawClient c = connect("inflight", false, true)) {
            c.assertSilentFor(Duration.ofMillis(300)); // acknowledged: gone for good
        }
    }

    /** Reads the next PUBLISH, checks its payload and DUP flag, and returns its packet id. */
    private static int expectPublish(RawClient c, String payload, boolean dup) {
        Publish p = c.read(Publish.class);
        assertThat(text(p)).isEqualTo(payload);
        assertThat(p.dup()).as("DUP of %s", payload).isEqualTo(dup);
        return p.packetId();
    }

    @Test
    @DisplayName("[MQTT-3.3.1-1] MQTT 3.1.1: after a restart the messages whose queue places were inside the in-flight "
            + "window come again with DUP 1 and their packet ids, later ones with DUP 0; a reconnect resends with "
            + "DUP 1 again")
    void redeliveryAfterRestartHasDupV311() {
        broker = TestBroker.start(b -> b.maxInflightMessages(3));
        Map<String, Integer> ids = new HashMap<>();
        try (RawClient c = connect("dup311", false, false)) {
            subscribe(c, "dup/t", QoS.AT_LEAST_ONCE);
            try (PahoClient pub = PahoClient.connect(broker, "publisher", true)) {
                for (int i = 0; i < 6; i++) {
                    pub.publish("dup/t", "m" + i, 1, false);
                }
            }
            for (int i = 0; i < 3; i++) {
                ids.put("m" + i, expectPublish(c, "m" + i, false));
            }
            c.send(new Puback(ids.get("m0"))); // the window moves on: m1, m2 and m3 in flight
            ids.put("m3", expectPublish(c, "m3", false));
        }
        broker.restart();
        try (RawClient c = connect("dup311", false, true)) {
            for (String m : List.of("m1", "m2", "m3")) {
                assertThat(expectPublish(c, m, true)).as("packet id of %s", m).isEqualTo(ids.get(m));
            }
            c.assertSilentFor(Duration.ofMillis(300)); // the window is full; nothing acknowledged
        }
        try (RawClient c = connect("dup311", false, true)) {
            for (String m : List.of("m1", "m2", "m3")) {
                c.send(new Puback(expectPublish(c, m, true))); // in flight on the last connection: a resend
            }
            for (String m : List.of("m4", "m5")) {
                c.send(new Puback(expectPublish(c, m, false))); // never sent before
            }
            c.assertSilentFor(Duration.ofMillis(300));
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.1-1] MQTT 5.0: after a restart the messages inside the in-flight window come again with "
            + "DUP 1, also to a client whose Receive Maximum is now smaller; a QoS 2 message past its PUBREC held a "
            + "place of the window and gets only its PUBREL")
    void redeliveryAfterRestartHasDupV5() {
        broker = TestBroker.start(b -> b.maxInflightMessages(3));
        Map<String, Integer> ids = new HashMap<>();
        try (RawClient c = RawV5.connected(broker, RawV5.connect("dup5", true, 60,
                RawV5.props(PropertyId.SESSION_EXPIRY_INTERVAL, 300L)))) {
            RawV5.subscribe(c, "dup5/t", QoS.EXACTLY_ONCE);
            try (PahoClient pub = PahoClient.connect(broker, "publisher", true)) {
                pub.publish("dup5/t", "m0", 2, false);
                for (int i = 1; i < 6; i++) {
                    pub.publish("dup5/t", "m" + i, 1, false);
                }
            }
            for (int i = 0; i < 3; i++) {
                ids.put("m" + i, expectPublish(c, "m" + i, false));
            }
            c.send(new Pubrec(ids.get("m0")));
            assertThat(c.read(Pubrel.class).packetId()).isEqualTo(ids.get("m0"));
            // the window holds m0 (awaiting PUBCOMP), m1 and m2: m3 was never sent
        }
        broker.restart();
        try (RawClient c = RawV5.connected(broker, RawV5.connect("dup5", false, 60,
                RawV5.props(PropertyId.SESSION_EXPIRY_INTERVAL, 300L, PropertyId.RECEIVE_MAXIMUM, 1)))) {
            assertThat(c.read(Pubrel.class).packetId()).isEqualTo(ids.get("m0"));
            c.send(new Pubcomp(ids.get("m0")));
            for (String m : List.of("m1", "m2")) {
                int id = expectPublish(c, m, true);
                assertThat(id).as("packet id of %s", m).isEqualTo(ids.get(m));
                c.send(new Puback(id));
            }
            for (String m : List.of("m3", "m4", "m5")) {
                c.send(new Puback(expectPublish(c, m, false)));
            }
            c.assertSilentFor(Duration.ofMillis(300));
        }
    }

    @Test
    @DisplayName("a QoS 2 message whose PUBREC arrived before a restart gets only its PUBREL after it, never the PUBLISH")
    void pubrelStateSurvives() {
        broker = TestBroker.start();
        int id;
        try (RawClient c = connect("released", false, false)) {
            subscribe(c, "r2/t", QoS.EXACTLY_ONCE);
            publish("r2/t", "once", 2, false);
            Publish p = c.read(Publish.class);
            id = p.packetId();
            c.send(new Pubrec(id));
            assertThat(c.read(Pubrel.class).packetId()).isEqualTo(id);
        }
        broker.restart();
        try (RawClient c = connect("released", false, true)) {
            MqttPacket first = c.read();
            assertThat(first).isInstanceOf(Pubrel.class);
            assertThat(((Pubrel) first).packetId()).isEqualTo(id);
            c.send(new Pubcomp(id));
            c.assertSilentFor(Duration.ofMillis(300));
        }
    }

    @Test
    @DisplayName("inbound QoS 2 state survives a restart: the publisher's resent PUBLISH is not delivered twice")
    void inboundQos2Survives() {
        broker = TestBroker.start();
        try (PahoClient sub = PahoClient.connect(broker, "watcher", false).subscribe("in2/t", 2)) {
            sub.disconnect();
        }
        try (RawClient pub = connect("qos2-publisher", false, false)) {
            pub.send(new Publish("in2/t", QoS.EXACTLY_ONCE, false, false, 9, "x".getBytes(), MqttProperties.EMPTY));
            assertThat(pub.read(Pubrec.class).packetId()).isEqualTo(9);
        }
        broker.restart();
        try (RawClient pub = connect("qos2-publisher", false, true)) {
            pub.send(new Publish("in2/t", QoS.EXACTLY_ONCE, false, true, 9, "x".getBytes(), MqttProperties.EMPTY));
            assertThat(pub.read(Pubrec.class).packetId()).isEqualTo(9);
            pub.send(new Pubrel(9));
            assertThat(pub.read(Pubcomp.class).packetId()).isEqualTo(9);
        }
        try (PahoClient sub = PahoClient.connect(broker, "watcher", false)) {
            assertThat(sub.next().payload()).isEqualTo("x");
            assertThat(sub.poll(500)).as("delivered once").isNull();
        }
    }

    @Test
    @DisplayName("retained messages survive a restart; a cleared one stays cleared")
    void retainedSurvive() {
        broker = TestBroker.start();
        publish("ret/a", "kept", 1, true);
        publish("ret/b", "cleared", 1, true);
        publish("ret/b", "", 1, true);
        broker.restart();
        assertThat(broker.broker().router().retained().size()).isEqualTo(1);
        try (PahoClient sub = PahoClient.connect(broker, "late", true).subscribe("ret/#", 1)) {
            PahoClient.Received r = sub.next();
            assertThat(r.payload()).isEqualTo("kept");
            assertThat(r.message().isRetained()).isTrue();
            assertThat(sub.poll(300)).isNull();
        }
    }

    @Test
    @DisplayName("a will waiting for its delay survives a restart and is published when the delay ends")
    void delayedWillSurvives() {
        broker = TestBroker.start();
        MqttProperties willProps = RawV5.props(PropertyId.WILL_DELAY_INTERVAL, 2L);
        RawClient dying = RawV5.connected(broker, RawV5.connect("dying", true, 60,
                RawV5.props(PropertyId.SESSION_EXPIRY_INTERVAL, 60L),
                RawV5.will("will/dying", "gone", QoS.AT_LEAST_ONCE, false, willProps)));
        dying.close();
        await().until(() -> !broker.broker().sessions().get("dying").isOnline());
        broker.restart();
        try (PahoClient watcher = PahoClient.connect(broker, "watcher", true).subscribe("will/#", 1)) {
            PahoClient.Received r = watcher.next();
            assertThat(r.payload()).isEqualTo("gone");
        }
    }

    @Test
    @DisplayName("a session's expiry interval still applies after a restart")
    void sessionExpirySurvives() {
        broker = TestBroker.start();
        try (RawClient c = RawV5.connected(broker, RawV5.connect("short-lived", true, 60,
                RawV5.props(PropertyId.SESSION_EXPIRY_INTERVAL, 2L)))) {
            RawV5.subscribe(c, "exp/t", QoS.AT_LEAST_ONCE);
        }
        broker.restart();
        assertThat(broker.broker().sessions().get("short-lived")).isNotNull();
        await().atMost(Duration.ofSeconds(6)).until(() -> broker.broker().sessions().get("short-lived") == null);
        assertThat(broker.broker().router().subscriptions().size()).isZero();
    }

    @Test
    @DisplayName("messages held for a shared group with no member online survive a restart")
    void heldSharedMessagesSurvive() {
        broker = TestBroker.start();
        PahoClient member = PahoClient.connect(broker, "member", false).subscribe("$share/g/sh/t", 1);
        member.disconnect();
        member.close();
        publish("sh/t", "held", 1, false);
        broker.restart();
        try (PahoClient back = PahoClient.connect(broker, "member", false)) {
            assertThat(back.next().payload()).isEqualTo("held");
        }
    }

    @Test
    @DisplayName("an expired message queued before a restart is not delivered after it")
    void expiredNotDeliveredAfterRestart() {
        broker = TestBroker.start();
        try (RawClient c = connect("expiring", false, false)) {
            subscribe(c, "ex/t", QoS.AT_LEAST_ONCE);
        }
        try (RawClient pub = RawV5.connected(broker, "v5-publisher")) {
            pub.send(RawV5.publish("ex/t", QoS.AT_LEAST_ONCE, 1, "short",
                    RawV5.props(PropertyId.MESSAGE_EXPIRY_INTERVAL, 1L)));
            pub.read(Puback.class);
            pub.send(RawV5.publish("ex/t", QoS.AT_LEAST_ONCE, 2, "long",
                    RawV5.props(PropertyId.MESSAGE_EXPIRY_INTERVAL, 3600L)));
            pub.read(Puback.class);
        }
        broker.restart();
        long t0 = System.currentTimeMillis();
        await().until(() -> System.currentTimeMillis() - t0 > 1100);
        try (RawClient c = connect("expiring", false, true)) {
            Publish p = c.read(Publish.class);
            assertThat(text(p)).isEqualTo("long");
            c.send(new Puback(p.packetId()));
            c.assertSilentFor(Duration.ofMillis(300));
        }
    }

    @Test
    @DisplayName("a clean session leaves nothing in the store: a restart brings back no session")
    void cleanSessionNotStored() {
        broker = TestBroker.start();
        try (RawClient c = connect("clean", true, false)) {
            subscribe(c, "c/t", QoS.AT_LEAST_ONCE);
        }
        broker.restart();
        assertThat(broker.broker().sessions().get("clean")).isNull();
        try (RawClient c = connect("clean", false, false)) {
            c.assertSilentFor(Duration.ofMillis(100));
        }
    }
}
