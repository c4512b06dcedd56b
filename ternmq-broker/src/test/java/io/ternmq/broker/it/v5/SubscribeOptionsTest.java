package io.ternmq.broker.it.v5;

import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import io.ternmq.codec.Unsuback;
import io.ternmq.codec.Unsubscribe;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** MQTT 5.0 subscription options (No Local, Retain As Published, Retain Handling) and SUBACK / UNSUBACK codes. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SubscribeOptionsTest {
    private TestBroker broker;
    private RawClient publisher;
    private int nextId = 1;

    @BeforeAll
    void start() {
        broker = TestBroker.start(b -> b.maxSubscriptionsPerClient(2));
        publisher = RawV5.connected(broker, "opt-pub");
    }

    @AfterAll
    void stop() {
        publisher.close();
        broker.close();
    }

    private void publish(String topic, String payload, boolean retain) {
        publisher.send(new Publish(topic, QoS.AT_LEAST_ONCE, retain, false, nextId++,
                payload.getBytes(StandardCharsets.UTF_8), MqttProperties.EMPTY));
        publisher.read(Puback.class);
    }

    private static MqttSubscription sub(String filter, int qos, boolean noLocal, boolean rap, int retainHandling) {
        MqttSubscription s = new MqttSubscription(filter, qos);
        s.setNoLocal(noLocal);
        s.setRetainAsPublished(rap);
        s.setRetainHandling(retainHandling);
        return s;
    }

    private static Subscribe rawSub(int packetId, TopicSubscription... subs) {
        return new Subscribe(packetId, List.of(subs), MqttProperties.EMPTY);
    }

    @Test
    @DisplayName("[MQTT-3.8.3-3] No Local: a client does not get its own messages, but gets others' (Paho v5)")
    void noLocal() {
        try (Paho5Client c = Paho5Client.connect(broker, "no-local")) {
            c.subscribe(null, sub("nl/#", 1, true, false, 0));
            c.publish("nl/own", "own", 1, false);
            publish("nl/other", "other", false);
            Paho5Client.Received r = c.next();
            assertThat(r.payload()).as("own message skipped").isEqualTo("other");
        }
    }

    @Test
    @DisplayName("without No Local a client gets its own messages")
    void withoutNoLocal() {
        try (Paho5Client c = Paho5Client.connect(broker, "local")) {
            c.subscribe(null, sub("local/#", 1, false, false, 0));
            c.publish("local/own", "own", 1, false);
            assertThat(c.next().payload()).isEqualTo("own");
        }
    }

    @Test
    @DisplayName("[MQTT-3.8.3-3] No Local on one of two overlapping subscriptions: the other one still delivers the "
            + "client's own message")
    void noLocalOverlapping() {
        try (Paho5Client c = Paho5Client.connect(broker, "nl-overlap")) {
            c.subscribe(null, sub("nlo/#", 1, true, false, 0));
            c.subscribe(null, sub("nlo/a", 1, false, false, 0));
            c.publish("nlo/a", "own-a", 1, false);
            c.publish("nlo/b", "own-b", 1, false);
            publish("nlo/b", "other-b", false);
            assertThat(c.next().payload()).isEqualTo("own-a");
            assertThat(c.next().payload()).isEqualTo("other-b");
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.1-13] Retain As Published 1: a retained PUBLISH is forwarded with RETAIN 1")
    void retainAsPublished() {
        try (Paho5Client c = Paho5Client.connect(broker, "rap")) {
            c.subscribe(null, sub("rap/#", 1, false, true, 0));
            publish("rap/t", "retained", true);
            publish("rap/t2", "plain", false);
            Paho5Client.Received r = c.next();
            assertThat(r.payload()).isEqualTo("retained");
            assertThat(r.message().isRetained()).isTrue();
            Paho5Client.Received p = c.next();
            assertThat(p.payload()).isEqualTo("plain");
            assertThat(p.message().isRetained()).isFalse();
        }
        publish("rap/t", "", true); // clear
    }

    @Test
    @DisplayName("[MQTT-3.3.1-12] Retain As Published 0: a retained PUBLISH is forwarded with RETAIN 0")
    void notRetainAsPublished() {
        try (Paho5Client c = Paho5Client.connect(broker, "no-rap")) {
            c.subscribe(null, sub("norap/#", 1, false, false, 0));
            publish("norap/t", "retained", true);
            Paho5Client.Received r = c.next();
            assertThat(r.payload()).isEqualTo("retained");
            assertThat(r.message().isRetained()).isFalse();
        }
        publish("norap/t", "", true);
    }

    @Test
    @DisplayName("[MQTT-3.3.1-9][MQTT-3.8.4-4] Retain Handling 0: retained messages are sent on subscribe, and again "
            + "when the subscription is replaced")
    void retainHandling0() {
        publish("rh0/t", "stored", true);
        try (RawClient c = RawV5.connected(broker, "rh0")) {
            RawV5.subscribe(c, rawSub(1, new TopicSubscription("rh0/#", QoS.AT_MOST_ONCE, false, false, 0)));
            Publish first = c.read(Publish.class);
            assertThat(first.retain()).isTrue();
            assertThat(RawV5.payload(first)).isEqualTo("stored");
            RawV5.subscribe(c, rawSub(2, new TopicSubscription("rh0/#", QoS.AT_MOST_ONCE, false, false, 0)));
            Publish again = c.read(Publish.class);
            assertThat(again.retain()).isTrue();
            assertThat(RawV5.payload(again)).isEqualTo("stored");
        }
        publish("rh0/t", "", true);
    }

    @Test
    @DisplayName("[MQTT-3.3.1-10] Retain Handling 1: retained messages only when the subscription did not exist yet")
    void retainHandling1() {
        publish("rh1/t", "stored", true);
        try (RawClient c = RawV5.connected(broker, "rh1")) {
            RawV5.subscribe(c, rawSub(1, new TopicSubscription("rh1/#", QoS.AT_MOST_ONCE, false, false, 1)));
            assertThat(RawV5.payload(c.read(Publish.class))).isEqualTo("stored");
            RawV5.subscribe(c, rawSub(2, new TopicSubscription("rh1/#", QoS.AT_LEAST_ONCE, false, false, 1)));
            RawV5.assertAlive(c); // PINGRESP comes first: no retained message after the second SUBACK
        }
        publish("rh1/t", "", true);
    }

    @Test
    @DisplayName("[MQTT-3.3.1-11] Retain Handling 2: no retained messages on subscribe, but live messages flow")
    void retainHandling2() {
        publish("rh2/t", "stored", true);
        try (RawClient c = RawV5.connected(broker, "rh2")) {
            RawV5.subscribe(c, rawSub(1, new TopicSubscription("rh2/#", QoS.AT_MOST_ONCE, false, false, 2)));
            publish("rh2/t", "live", false);
            Publish p = c.read(Publish.class);
            assertThat(RawV5.payload(p)).isEqualTo("live");
            assertThat(p.retain()).isFalse();
        }
        publish("rh2/t", "", true);
    }

    @Test
    @DisplayName("Paho v5 subscribing with Retain Handling 2 gets no retained message")
    void retainHandling2Paho() {
        publish("rh2p/t", "stored", true);
        try (Paho5Client c = Paho5Client.connect(broker, "rh2p")) {
            c.subscribe(null, sub("rh2p/#", 1, false, false, 2));
            publish("rh2p/t", "live", false);
            assertThat(c.next().payload()).isEqualTo("live");
        }
        publish("rh2p/t", "", true);
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"a/#/b", "a+/b", "sport#", "#a", ""})
    @DisplayName("[MQTT-3.9.3-1][MQTT-4.7.1-1][MQTT-4.7.1-2][MQTT-4.7.3-1] SUBACK 0x8F for an invalid filter, the "
            + "other filters of the SUBSCRIBE granted, in order")
    void invalidFilterRefused(String invalid) {
        try (RawClient c = RawV5.connected(broker, "bad-filter")) {
            List<Integer> codes = RawV5.subscribe(c, rawSub(4,
                    new TopicSubscription("good/one", QoS.AT_LEAST_ONCE),
                    new TopicSubscription(invalid, QoS.AT_LEAST_ONCE),
                    new TopicSubscription("good/two", QoS.EXACTLY_ONCE)));
            assertThat(codes).containsExactly(1, ReasonCode.TOPIC_FILTER_INVALID, 2);
            publish("good/two", "granted", false);
            assertThat(RawV5.payload(c.read(Publish.class))).isEqualTo("granted");
        }
    }

    @Test
    @DisplayName("SUBACK 0x97 once max_subscriptions_per_client (2) is reached; replacing an existing filter "
            + "still works")
    void quotaExceeded() {
        try (RawClient c = RawV5.connected(broker, "quota")) {
            List<Integer> codes = RawV5.subscribe(c, rawSub(1,
                    new TopicSubscription("q/1", QoS.AT_MOST_ONCE),
                    new TopicSubscription("q/2", QoS.AT_MOST_ONCE),
                    new TopicSubscription("q/3", QoS.AT_MOST_ONCE)));
            assertThat(codes).containsExactly(0, 0, ReasonCode.QUOTA_EXCEEDED);
            assertThat(RawV5.subscribe(c, rawSub(2, new TopicSubscription("q/1", QoS.AT_LEAST_ONCE))))
                    .containsExactly(1);
            assertThat(RawV5.subscribe(c, rawSub(3, new TopicSubscription("q/4", QoS.AT_LEAST_ONCE))))
                    .containsExactly(ReasonCode.QUOTA_EXCEEDED);
            publish("q/3", "not-subscribed", false);
            publish("q/1", "subscribed", false);
            assertThat(RawV5.payload(c.read(Publish.class))).isEqualTo("subscribed");
        }
    }

    @Test
    @DisplayName("[MQTT-3.11.3-1] UNSUBACK 0x11 for a filter never subscribed, 0x00 for one that was, in order")
    void unsubackNoSubscriptionExisted() {
        try (RawClient c = RawV5.connected(broker, "unsub")) {
            RawV5.subscribe(c, "unsub/a", QoS.AT_MOST_ONCE);
            c.send(new Unsubscribe(7, List.of("unsub/never", "unsub/a", "unsub/a"), MqttProperties.EMPTY));
            Unsuback ack = c.read(Unsuback.class);
            assertThat(ack.packetId()).isEqualTo(7);
            assertThat(ack.reasonCodes()).containsExactly(ReasonCode.NO_SUBSCRIPTION_EXISTED, ReasonCode.SUCCESS,
                    ReasonCode.NO_SUBSCRIPTION_EXISTED);
        }
    }

    @Test
    @DisplayName("[MQTT-3.10.4-2] after UNSUBSCRIBE no more messages arrive for that filter")
    void unsubscribeStopsDelivery() {
        try (RawClient c = RawV5.connected(broker, "unsub-stop")) {
            RawV5.subscribe(c, "stop/a", QoS.AT_MOST_ONCE);
            RawV5.subscribe(c, rawSub(2, new TopicSubscription("stop/b", QoS.AT_MOST_ONCE)));
            c.send(new Unsubscribe(3, List.of("stop/a"), MqttProperties.EMPTY));
            assertThat(c.read(Unsuback.class).reasonCodes()).containsExactly(ReasonCode.SUCCESS);
            publish("stop/a", "gone", false);
            publish("stop/b", "kept", false);
            assertThat(RawV5.payload(c.read(Publish.class))).isEqualTo("kept");
        }
    }

    @Test
    @DisplayName("[MQTT-3.8.4-3] subscribing again to the same filter replaces the subscription: one copy, at the new "
            + "QoS")
    void resubscribeReplaces() {
        try (RawClient c = RawV5.connected(broker, "replace")) {
            RawV5.subscribe(c, rawSub(1, new TopicSubscription("rep/#", QoS.AT_MOST_ONCE)));
            RawV5.subscribe(c, rawSub(2, new TopicSubscription("rep/#", QoS.AT_LEAST_ONCE)));
            publish("rep/a", "one", false);
            Publish p = c.read(Publish.class);
            assertThat(p.qos()).isEqualTo(QoS.AT_LEAST_ONCE);
            c.send(new Puback(p.packetId()));
            RawV5.assertAlive(c);
        }
    }
}
