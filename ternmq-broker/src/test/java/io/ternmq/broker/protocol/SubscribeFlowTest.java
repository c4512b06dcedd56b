package io.ternmq.broker.protocol;

import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import io.ternmq.codec.Unsuback;
import io.ternmq.codec.Unsubscribe;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link SubscribeFlow} through a fake channel: which filters are granted, at which QoS, and what follows. */
class SubscribeFlowTest {

    private static ProtocolHarness.FakeChannel connected(ProtocolHarness h, MqttVersion v, String id) {
        ProtocolHarness.FakeChannel c = h.open().send(new Connect(v, id, true, 60, null, null, null,
                MqttProperties.EMPTY));
        assertThat(c.next(Connack.class).reasonCode()).isZero();
        return c;
    }

    private static Subscribe subscribe(int id, String... filters) {
        return new Subscribe(id, java.util.Arrays.stream(filters)
                .map(f -> new TopicSubscription(f, QoS.EXACTLY_ONCE)).toList(), MqttProperties.EMPTY);
    }

    @Test
    @DisplayName("granted at most max_qos; invalid and too-deep filters refused each with its code, per version")
    void grants() {
        try (ProtocolHarness h = new ProtocolHarness(b -> b.maxQos(1).maxTopicLevels(3))) {
            ProtocolHarness.FakeChannel v5 = connected(h, MqttVersion.MQTT_5, "v5");
            v5.send(subscribe(1, "a/b", "a/#/b", "a/b/c/d"));
            assertThat(v5.next(Suback.class).reasonCodes()).containsExactly(1, ReasonCode.TOPIC_FILTER_INVALID,
                    ReasonCode.TOPIC_FILTER_INVALID);
            ProtocolHarness.FakeChannel v3 = connected(h, MqttVersion.MQTT_3_1_1, "v3");
            v3.send(subscribe(1, "a/b", "a/b/c/d"));
            assertThat(v3.next(Suback.class).reasonCodes()).containsExactly(1, ReasonCode.V3_SUBACK_FAILURE);
            ProtocolHarness.FakeChannel v31 = connected(h, MqttVersion.MQTT_3_1, "v31");
            v31.send(subscribe(1, "a/b/c/d"));
            v31.awaitClosed(); // MQTT 3.1 has no failure code
            assertThat(v31.available()).isZero();
            assertThat(h.metrics.serverDisconnects.sum()).isEqualTo(1);
        }
    }

    @Test
    @DisplayName("max_subscriptions_per_client counts filters new to the session, a repeated one once")
    void quota() {
        try (ProtocolHarness h = new ProtocolHarness(b -> b.maxSubscriptionsPerClient(2))) {
            ProtocolHarness.FakeChannel c = connected(h, MqttVersion.MQTT_5, "q");
            c.send(subscribe(1, "a", "a", "b", "c"));
            assertThat(c.next(Suback.class).reasonCodes()).containsExactly(2, 2, 2, ReasonCode.QUOTA_EXCEEDED);
            c.send(subscribe(2, "b", "d"));
            assertThat(c.next(Suback.class).reasonCodes()).containsExactly(2, ReasonCode.QUOTA_EXCEEDED);
        }
    }

    @Test
    @DisplayName("retained messages follow the SUBACK, with RETAIN set, unless Retain Handling says otherwise")
    void retainedAfterSuback() {
        try (ProtocolHarness h = new ProtocolHarness(b -> { })) {
            ProtocolHarness.FakeChannel pub = connected(h, MqttVersion.MQTT_3_1_1, "pub");
            pub.send(new Publish("r/1", QoS.AT_MOST_ONCE, true, false, 0, "kept".getBytes(StandardCharsets.UTF_8),
                    MqttProperties.EMPTY));
            ProtocolHarness.FakeChannel sub = connected(h, MqttVersion.MQTT_5, "sub");
            sub.send(subscribe(1, "r/#"));
            assertThat(sub.next(Suback.class).reasonCodes()).containsExactly(2);
            Publish retained = sub.next(Publish.class);
            assertThat(retained.retain()).isTrue();
            // Retain Handling 1: only when the subscription is new
            sub.send(new Subscribe(2, List.of(new TopicSubscription("r/#", QoS.AT_MOST_ONCE, false, false, 1)),
                    MqttProperties.EMPTY));
            sub.next(Suback.class);
            sub.send(new Subscribe(3, List.of(new TopicSubscription("$share/g/r/#", QoS.AT_MOST_ONCE)),
                    MqttProperties.EMPTY));
            sub.next(Suback.class);
            assertThat(sub.available()).as("no retained message for either").isZero();
        }
    }

    @Test
    @DisplayName("UNSUBACK: 5.0 says which filters had no subscription (0x11); 3.1.1 has no codes")
    void unsubscribe() {
        try (ProtocolHarness h = new ProtocolHarness(b -> { })) {
            ProtocolHarness.FakeChannel v5 = connected(h, MqttVersion.MQTT_5, "u5");
            v5.send(subscribe(1, "a"));
            v5.next(Suback.class);
            v5.send(new Unsubscribe(2, List.of("a", "b"), MqttProperties.EMPTY));
            assertThat(v5.next(Unsuback.class).reasonCodes()).containsExactly(ReasonCode.SUCCESS,
                    ReasonCode.NO_SUBSCRIPTION_EXISTED);
            ProtocolHarness.FakeChannel v3 = connected(h, MqttVersion.MQTT_3_1_1, "u3");
            v3.send(new Unsubscribe(2, List.of("a"), MqttProperties.EMPTY));
            assertThat(v3.next(Unsuback.class).reasonCodes()).isEmpty();
        }
    }

    @Test
    @DisplayName("features the broker does not offer end the connection with their code")
    void unavailableFeatures() {
        try (ProtocolHarness h = new ProtocolHarness(b -> b.sharedSubscriptionAvailable(false))) {
            ProtocolHarness.FakeChannel c = connected(h, MqttVersion.MQTT_5, "s");
            c.send(subscribe(1, "$share/g/t"));
            assertThat(c.next(Disconnect.class).reasonCode()).isEqualTo(ReasonCode.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED);
        }
    }

    @Test
    @DisplayName("a CONNECT at level 0x84 (Mosquitto's try_private) is a bridge: it gets nothing it published back, "
            + "and retained flags as published")
    void bridgeConnectionSubscribesWithNoLocalAndRetainAsPublished() {
        try (ProtocolHarness h = new ProtocolHarness(b -> { })) {
            ProtocolHarness.FakeChannel bridge = h.open().send(new Connect(MqttVersion.MQTT_3_1_1, "bridge", true, 60,
                    null, null, null, MqttProperties.EMPTY, true));
            assertThat(bridge.next(Connack.class).reasonCode()).isZero();
            ProtocolHarness.FakeChannel client = connected(h, MqttVersion.MQTT_3_1_1, "client");
            bridge.send(subscribe(1, "t/#"));
            assertThat(bridge.next(Suback.class).reasonCodes()).containsExactly(2);
            client.send(subscribe(1, "t/#"));
            assertThat(client.next(Suback.class).reasonCodes()).containsExactly(2);
            // no-local: the bridge's own message reaches the client only
            bridge.send(new Publish("t/own", QoS.AT_MOST_ONCE, false, false, 0, "own".getBytes(StandardCharsets.UTF_8),
                    MqttProperties.EMPTY));
            assertThat(client.next(Publish.class).topic()).isEqualTo("t/own");
            // retain as published: a retained message keeps its flag on the way to the bridge, not to the client
            client.send(new Publish("t/kept", QoS.AT_MOST_ONCE, true, false, 0, "k".getBytes(StandardCharsets.UTF_8),
                    MqttProperties.EMPTY));
            Publish toBridge = bridge.next(Publish.class);
            assertThat(toBridge.topic()).isEqualTo("t/kept");
            assertThat(toBridge.retain()).isTrue();
            assertThat(client.next(Publish.class).retain()).isFalse();
        }
    }
}
