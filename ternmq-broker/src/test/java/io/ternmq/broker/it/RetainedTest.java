package io.ternmq.broker.it;

import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.PahoClient.Received;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Retained messages: stored, replaced, deleted, sent on subscribe with RETAIN=1, never flagged on forwarding. */
class RetainedTest {
    private TestBroker broker;

    @BeforeEach
    void start() {
        broker = TestBroker.start();
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    @Test
    @DisplayName("[MQTT-3.3.1-5][MQTT-3.3.1-6] a retained message is stored and sent with RETAIN=1 to later subscribers")
    void storedAndSentOnSubscribe() {
        try (PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            pub.publish("r/a", "first", 1, true);
        }
        try (PahoClient sub = PahoClient.connect(broker, "sub", true)) {
            sub.subscribe("r/a", 1);
            Received r = sub.next();
            assertThat(r.payload()).isEqualTo("first");
            assertThat(r.message().isRetained()).isTrue();
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.1-7] a new retained message replaces the old one")
    void replaced() {
        try (PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            pub.publish("r/b", "one", 1, true);
            pub.publish("r/b", "two", 1, true);
        }
        try (PahoClient sub = PahoClient.connect(broker, "sub", true)) {
            sub.subscribe("r/b", 1);
            assertThat(sub.next().payload()).isEqualTo("two");
            assertThat(sub.poll(300)).isNull();
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.1-10][MQTT-3.3.1-11] an empty retained payload deletes the retained message and is still forwarded")
    void emptyPayloadDeletes() {
        try (PahoClient pub = PahoClient.connect(broker, "pub", true);
             PahoClient live = PahoClient.connect(broker, "live", true)) {
            pub.publish("r/c", "kept", 1, true);
            live.subscribe("r/c", 1);
            assertThat(live.next().message().isRetained()).isTrue();
            pub.publish("r/c", new byte[0], 1, true);
            Received forwarded = live.next();
            assertThat(forwarded.message().getPayload()).isEmpty();
            assertThat(forwarded.message().isRetained()).isFalse();
        }
        assertThat(broker.broker().router().retained().size()).isZero();
        try (PahoClient sub = PahoClient.connect(broker, "sub", true)) {
            sub.subscribe("r/c", 1);
            assertThat(sub.poll(300)).isNull();
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.1-9] RETAIN is 0 when forwarding to an established subscription")
    void retainFlagClearedOnForwarding() {
        try (PahoClient sub = PahoClient.connect(broker, "sub", true);
             PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            sub.subscribe("r/d", 1);
            pub.publish("r/d", "live", 1, true);
            Received r = sub.next();
            assertThat(r.payload()).isEqualTo("live");
            assertThat(r.message().isRetained()).isFalse();
        }
    }

    @Test
    @DisplayName("retained messages are matched through wildcards, and $ topics are not matched by a leading wildcard")
    void throughWildcards() {
        try (PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            pub.publish("w/1/t", "a", 0, true);
            pub.publish("w/2/t", "b", 1, true);
            pub.publish("w/2/u", "c", 2, true);
            pub.publish("w", "d", 1, true);
            pub.publish("$app/w", "e", 1, true);
        }
        try (PahoClient sub = PahoClient.connect(broker, "sub", true)) {
            sub.subscribe("w/+/t", 2);
            assertThat(Set.of(sub.next().payload(), sub.next().payload())).containsExactlyInAnyOrder("a", "b");
            assertThat(sub.poll(200)).isNull();
            sub.subscribe("w/#", 2);
            Set<String> all = Stream.generate(sub::next).limit(4).map(Received::payload).collect(Collectors.toSet());
            assertThat(all).containsExactlyInAnyOrder("a", "b", "c", "d");
            sub.subscribe("#", 2);
            Set<String> hash = Stream.generate(sub::next).limit(4).map(Received::payload).collect(Collectors.toSet());
            assertThat(hash).containsExactlyInAnyOrder("a", "b", "c", "d");
            assertThat(sub.poll(300)).isNull();
        }
    }

    @Test
    @DisplayName("[MQTT-3.8.4-3] a repeated identical SUBSCRIBE sends the retained messages again, at min(QoS)")
    void resentOnRepeatedSubscribe() {
        try (PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            pub.publish("rep/t", "again", 2, true);
        }
        try (RawClient c = new RawClient(broker.port())) {
            c.send(ConnectTest.connect(MqttVersion.MQTT_3_1_1, "rep", true, 60));
            c.read(Connack.class);
            for (int i = 1; i <= 2; i++) {
                c.send(new Subscribe(i, List.of(new TopicSubscription("rep/t", QoS.AT_MOST_ONCE)),
                        MqttProperties.EMPTY));
                assertThat(c.read(Suback.class).packetId()).isEqualTo(i);
                Publish p = c.read(Publish.class);
                assertThat(p.retain()).isTrue();
                assertThat(p.qos()).isEqualTo(QoS.AT_MOST_ONCE);
                assertThat(new String(p.payload())).isEqualTo("again");
            }
            c.assertSilentFor(Duration.ofMillis(200));
        }
    }

    @Test
    @DisplayName("a retained QoS 0 message is kept too [MQTT-3.3.1-5]")
    void qos0Retained() {
        try (PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            pub.publish("r/q0", "zero", 0, true);
        }
        await().until(() -> broker.broker().router().retained().size() == 1);
        try (PahoClient sub = PahoClient.connect(broker, "sub", true)) {
            sub.subscribe("r/q0", 0);
            assertThat(sub.next().payload()).isEqualTo("zero");
        }
    }
}
