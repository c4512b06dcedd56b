package io.ternmq.broker.it;

import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.PahoClient.Received;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Shared subscriptions $share/{group}/{filter}: one member per message, held while all are offline, handed on. */
class SharedSubscriptionTest {
    private TestBroker broker;

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private RawClient member(String clientId, MqttVersion v, String filter, QoS qos) {
        RawClient c = new RawClient(broker.port()).version(v);
        c.send(new Connect(v, clientId, true, 60, null, null, null, MqttProperties.EMPTY));
        assertThat(c.read(Connack.class).reasonCode()).isZero();
        c.send(new Subscribe(1, List.of(new TopicSubscription(filter, qos)), MqttProperties.EMPTY));
        assertThat(c.read(Suback.class).reasonCodes()).containsExactly(qos.value());
        return c;
    }

    private static String text(Publish p) {
        return new String(p.payload(), StandardCharsets.UTF_8);
    }

    @Test
    @DisplayName("each message goes to exactly one member; round robin spreads them evenly")
    void oneMemberPerMessageRoundRobin() {
        broker = TestBroker.start();
        try (PahoClient a = PahoClient.connect(broker, "a", true).subscribe("$share/g/jobs/#", 1);
             PahoClient b = PahoClient.connect(broker, "b", true).subscribe("$share/g/jobs/#", 1);
             PahoClient plain = PahoClient.connect(broker, "plain", true).subscribe("jobs/#", 1);
             PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            for (int i = 0; i < 10; i++) {
                pub.publish("jobs/" + i, Integer.toString(i), 1, false);
            }
            // an ordinary subscription still gets every message
            Set<String> all = new HashSet<>();
            for (int i = 0; i < 10; i++) {
                all.add(plain.next().payload());
            }
            assertThat(all).hasSize(10);
            await().until(() -> a.received().size() + b.received().size() == 10);
            assertThat(a.received()).hasSize(5);
            assertThat(b.received()).hasSize(5);
            Set<String> shared = new HashSet<>();
            a.received().forEach(r -> shared.add(r.payload()));
            b.received().forEach(r -> shared.add(r.payload()));
            assertThat(shared).isEqualTo(all);
        }
    }

    @Test
    @DisplayName("different share names are different groups: each group gets its own copy")
    void groupsAreIndependent() {
        broker = TestBroker.start();
        try (PahoClient a = PahoClient.connect(broker, "a", true).subscribe("$share/one/t", 1);
             PahoClient b = PahoClient.connect(broker, "b", true).subscribe("$share/two/t", 1);
             PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            pub.publish("t", "x", 1, false);
            assertThat(a.next().payload()).isEqualTo("x");
            assertThat(b.next().payload()).isEqualTo("x");
        }
    }

    @Test
    @DisplayName("no retained messages are sent when a shared subscription is made")
    void noRetainedOnSharedSubscribe() {
        broker = TestBroker.start();
        try (PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            pub.publish("r/t", "kept", 1, true);
        }
        try (PahoClient a = PahoClient.connect(broker, "a", true).subscribe("$share/g/r/t", 1)) {
            assertThat(a.poll(300)).isNull();
        }
    }

    @Test
    @DisplayName("messages are held for the group while every member is offline, then go to the first one back")
    void heldWhileAllOffline() {
        broker = TestBroker.start();
        PahoClient a = PahoClient.connect(broker, "a", false).subscribe("$share/g/h/t", 1);
        PahoClient b = PahoClient.connect(broker, "b", false).subscribe("$share/g/h/t", 1);
        a.disconnect();
        b.disconnect();
        a.close();
        b.close();
        try (PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            for (int i = 0; i < 3; i++) {
                pub.publish("h/t", Integer.toString(i), 1, false);
            }
        }
        assertThat(broker.broker().router().subscriptions().sharedGroup("$share/g/h/t").heldCount()).isEqualTo(3);
        try (PahoClient back = PahoClient.connect(broker, "b", false)) {
            List<String> got = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                got.add(back.next().payload());
            }
            assertThat(got).containsExactly("0", "1", "2");
        }
    }

    @Test
    @DisplayName("a QoS 1 message in flight to a member whose session ends goes to another member")
    void qos1RedeliveredWhenSessionEnds() {
        broker = TestBroker.start();
        RawClient a = member("a", MqttVersion.MQTT_3_1_1, "$share/g/q1", QoS.AT_LEAST_ONCE);
        try (PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            pub.publish("q1", "m1", 1, false);
            Publish got = a.read(Publish.class);
            assertThat(text(got)).isEqualTo("m1");
            // not acknowledged; another member joins; then a's clean session ends with its connection
            try (PahoClient b = PahoClient.connect(broker, "b", true).subscribe("$share/g/q1", 1)) {
                a.close();
                Received r = b.next();
                assertThat(r.payload()).isEqualTo("m1");
            }
        }
    }

    @Test
    @DisplayName("a QoS 2 message in flight stays with its member: it is not sent to another when the session ends")
    void qos2StaysWithItsMember() {
        broker = TestBroker.start();
        RawClient a = member("a", MqttVersion.MQTT_3_1_1, "$share/g/q2", QoS.EXACTLY_ONCE);
        try (PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            pub.publish("q2", "m1", 2, false);
            assertThat(text(a.read(Publish.class))).isEqualTo("m1");
            try (PahoClient b = PahoClient.connect(broker, "b", true).subscribe("$share/g/q2", 2)) {
                a.close();
                await().until(() -> broker.broker().sessions().get("a") == null);
                assertThat(b.poll(500)).isNull();
                // the group still works
                pub.publish("q2", "m2", 2, false);
                assertThat(b.next().payload()).isEqualTo("m2");
            }
        }
    }

    @Test
    @DisplayName("a member's negative PUBACK discards the message: no other member gets it")
    void negativeAckDiscards() {
        broker = TestBroker.start();
        RawClient a = member("a", MqttVersion.MQTT_5, "$share/g/n", QoS.AT_LEAST_ONCE);
        try (PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            pub.publish("n", "refused", 1, false);
            Publish got = a.read(Publish.class);
            a.send(new Puback(got.packetId(), ReasonCode.UNSPECIFIED_ERROR, MqttProperties.EMPTY));
            try (PahoClient b = PahoClient.connect(broker, "b", true).subscribe("$share/g/n", 1)) {
                a.close();
                await().until(() -> broker.broker().sessions().get("a") == null);
                assertThat(b.poll(500)).isNull();
            }
        }
    }

    @Test
    @DisplayName("sticky keeps one member while it is online; hash_client_id keeps one publisher on one member")
    void otherStrategies() {
        for (String strategy : List.of("sticky", "hash_client_id")) {
            try (TestBroker b = TestBroker.start(c -> c.sharedSubscriptionStrategy(strategy));
                 PahoClient m1 = PahoClient.connect(b, "m1", true).subscribe("$share/g/s", 0);
                 PahoClient m2 = PahoClient.connect(b, "m2", true).subscribe("$share/g/s", 0);
                 PahoClient pub = PahoClient.connect(b, "pub", true)) {
                for (int i = 0; i < 20; i++) {
                    pub.publish("s", Integer.toString(i), 1, false);
                }
                await().until(() -> m1.received().size() + m2.received().size() == 20);
                assertThat(Math.max(m1.received().size(), m2.received().size())).as(strategy).isEqualTo(20);
            }
        }
    }

    @Test
    @DisplayName("MQTT 3.1.1 clients may use shared subscriptions too (a documented extension)")
    void mqtt311Members() {
        broker = TestBroker.start();
        try (RawClient a = member("a", MqttVersion.MQTT_3_1_1, "$share/g/v3", QoS.AT_LEAST_ONCE);
             PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            pub.publish("v3", "hi", 1, false);
            Publish p = a.read(Publish.class);
            assertThat(text(p)).isEqualTo("hi");
            a.send(new Puback(p.packetId()));
            a.assertSilentFor(Duration.ofMillis(200));
        }
    }
}
