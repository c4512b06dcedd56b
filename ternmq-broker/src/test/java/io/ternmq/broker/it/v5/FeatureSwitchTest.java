package io.ternmq.broker.it.v5;

import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import io.ternmq.codec.Will;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client using a feature the broker announced as unavailable (max_qos 1, retain, wildcard, subscription identifier
 * and shared subscriptions all off) gets the standard's reason code and loses its connection; others carry on.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FeatureSwitchTest {
    private TestBroker broker;
    private RawClient watcher;
    private RawClient healthPublisher;
    private int round;

    @BeforeAll
    void start() {
        broker = TestBroker.start(b -> b.maxQos(1).retainAvailable(false).wildcardSubscriptionAvailable(false)
                .subscriptionIdentifierAvailable(false).sharedSubscriptionAvailable(false));
        watcher = RawV5.connected(broker, "switch-watcher");
        RawV5.subscribe(watcher, "health/check", QoS.AT_LEAST_ONCE);
        healthPublisher = RawV5.connected(broker, "switch-health");
    }

    @AfterAll
    void stop() {
        watcher.close();
        healthPublisher.close();
        broker.close();
    }

    @AfterEach
    void othersUnaffected() {
        RawV5.assertAlive(watcher);
        String payload = "alive-" + (++round);
        healthPublisher.send(RawV5.publish("health/check", QoS.AT_LEAST_ONCE, round, payload));
        assertThat(healthPublisher.read(Puback.class).reasonCode()).isEqualTo(ReasonCode.SUCCESS);
        Publish p = watcher.read(Publish.class);
        assertThat(RawV5.payload(p)).isEqualTo(payload);
        watcher.send(new Puback(p.packetId()));
    }

    private static Subscribe subscribe(String filter, MqttProperties props) {
        return new Subscribe(1, List.of(new TopicSubscription(filter, QoS.AT_MOST_ONCE)), props);
    }

    @Test
    @DisplayName("(3.3.1.3) a retained PUBLISH while Retain Available is 0: DISCONNECT 0x9A, nothing retained")
    void retainedPublish() {
        try (RawClient c = RawV5.connected(broker, "retainer")) {
            c.send(new Publish("health/check", QoS.AT_MOST_ONCE, true, false, 0,
                    "r".getBytes(StandardCharsets.UTF_8), MqttProperties.EMPTY));
            assertThat(RawV5.disconnectReason(c)).isEqualTo(ReasonCode.RETAIN_NOT_SUPPORTED);
        }
        assertThat(broker.broker().router().retained().get("health/check")).isNull();
    }

    @Test
    @DisplayName("(3.3.1.2) a PUBLISH above Maximum QoS (QoS 2, maximum 1): DISCONNECT 0x9B")
    void qosAboveMaximum() {
        try (RawClient c = RawV5.connected(broker, "qos2-publisher")) {
            c.send(RawV5.publish("health/check", QoS.EXACTLY_ONCE, 1, "too-high"));
            assertThat(RawV5.disconnectReason(c)).isEqualTo(ReasonCode.QOS_NOT_SUPPORTED);
        }
    }

    @Test
    @DisplayName("a PUBLISH at the Maximum QoS (1) is accepted")
    void qosAtMaximum() {
        try (RawClient c = RawV5.connected(broker, "qos1-publisher")) {
            c.send(RawV5.publish("nobody/here", QoS.AT_LEAST_ONCE, 1, "ok"));
            assertThat(c.read(Puback.class).reasonCode()).isEqualTo(ReasonCode.NO_MATCHING_SUBSCRIBERS);
        }
    }

    @Test
    @DisplayName("[MQTT-3.2.2-12] a will above Maximum QoS: CONNACK 0x9B and the connection closes")
    void willQosAboveMaximum() {
        Will w = RawV5.will("wills/x", "bye", QoS.EXACTLY_ONCE, false, MqttProperties.EMPTY);
        try (RawClient c = RawV5.open(broker)) {
            Connack ack = RawV5.connack(c, RawV5.connect("will-qos2", true, 60, MqttProperties.EMPTY, w));
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.QOS_NOT_SUPPORTED);
            assertThat(ack.sessionPresent()).isFalse();
            c.assertClosedByServer();
        }
    }

    @Test
    @DisplayName("[MQTT-3.2.2-13] a retained will while Retain Available is 0: CONNACK 0x9A and the connection closes")
    void retainedWill() {
        Will w = RawV5.will("wills/x", "bye", QoS.AT_MOST_ONCE, true, MqttProperties.EMPTY);
        try (RawClient c = RawV5.open(broker)) {
            Connack ack = RawV5.connack(c, RawV5.connect("will-retained", true, 60, MqttProperties.EMPTY, w));
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.RETAIN_NOT_SUPPORTED);
            c.assertClosedByServer();
        }
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"sport/+/score", "sport/#", "#", "+"})
    @DisplayName("(3.2.2.3.14) a wildcard SUBSCRIBE while Wildcard Subscription Available is 0: DISCONNECT 0xA2")
    void wildcardSubscription(String filter) {
        try (RawClient c = RawV5.connected(broker, "wildcarder")) {
            c.send(subscribe(filter, MqttProperties.EMPTY));
            assertThat(RawV5.disconnectReason(c)).isEqualTo(ReasonCode.WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED);
        }
    }

    @Test
    @DisplayName("a SUBSCRIBE without wildcards is granted while Wildcard Subscription Available is 0")
    void exactSubscriptionGranted() {
        try (RawClient c = RawV5.connected(broker, "exact")) {
            assertThat(RawV5.subscribe(c, "sport/tennis/score", QoS.AT_LEAST_ONCE)).containsExactly(1);
        }
    }

    @Test
    @DisplayName("(3.2.2.3.12) a SUBSCRIBE with a Subscription Identifier while Subscription Identifier "
            + "Available is 0: "
            + "DISCONNECT 0xA1")
    void subscriptionIdentifier() {
        try (RawClient c = RawV5.connected(broker, "identifier")) {
            c.send(subscribe("a/b", MqttProperties.builder().subscriptionIdentifier(5).build()));
            assertThat(RawV5.disconnectReason(c)).isEqualTo(ReasonCode.SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED);
        }
    }

    @Test
    @DisplayName("(3.2.2.3.13) a shared SUBSCRIBE while Shared Subscription Available is 0: DISCONNECT 0x9E")
    void sharedSubscription() {
        try (RawClient c = RawV5.connected(broker, "sharer")) {
            c.send(subscribe("$share/group/a/b", MqttProperties.EMPTY));
            assertThat(RawV5.disconnectReason(c)).isEqualTo(ReasonCode.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED);
        }
    }

    @Test
    @DisplayName("(3.3.1.2) with max_qos 0 a QoS 1 PUBLISH: DISCONNECT 0x9B")
    void qos1AboveMaximumZero() {
        try (TestBroker qos0 = TestBroker.start(b -> b.maxQos(0));
             RawClient c = RawV5.connected(qos0, "qos1-to-qos0");
             RawClient other = RawV5.connected(qos0, "qos0-bystander")) {
            c.send(RawV5.publish("a", QoS.AT_LEAST_ONCE, 1, "x"));
            assertThat(RawV5.disconnectReason(c)).isEqualTo(ReasonCode.QOS_NOT_SUPPORTED);
            RawV5.assertAlive(other);
        }
    }
}
