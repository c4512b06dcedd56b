package io.ternmq.broker.it.v5;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PayloadFormatIndicator;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Publish;
import io.ternmq.codec.Pubrec;
import io.ternmq.codec.Pubrel;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static io.ternmq.broker.testing.RawV5.props;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** MQTT 5.0 PUBLISH properties end to end, message expiry, and subscription identifiers on delivery. */
class PublishV5Test {
    private TestBroker broker;

    @BeforeEach
    void start() {
        broker = TestBroker.start();
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    private Mqtt5BlockingClient hive(String clientId) {
        Mqtt5BlockingClient c = Mqtt5Client.builder().identifier(clientId).serverHost("127.0.0.1")
                .serverPort(broker.port()).buildBlocking();
        c.connect();
        return c;
    }

    private static org.eclipse.paho.mqttv5.common.packet.MqttProperties pahoProps() {
        return new org.eclipse.paho.mqttv5.common.packet.MqttProperties();
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    @Test
    @DisplayName("[MQTT-3.3.2-4][MQTT-3.3.2-20][MQTT-3.3.2-15][MQTT-3.3.2-16] Payload Format Indicator, Content Type, "
            + "Response Topic and Correlation Data arrive unaltered (HiveMQ to HiveMQ)")
    void requestResponsePropertiesUnaltered() throws InterruptedException {
        Mqtt5BlockingClient sub = hive("hive-sub");
        Mqtt5BlockingClient pub = hive("hive-pub");
        try (var publishes = sub.publishes(MqttGlobalPublishFilter.ALL)) {
            sub.subscribeWith().topicFilter("props/#").qos(MqttQos.EXACTLY_ONCE).send();
            pub.publishWith().topic("props/request").qos(MqttQos.AT_LEAST_ONCE)
                    .payload("{\"q\":1}".getBytes(StandardCharsets.UTF_8))
                    .payloadFormatIndicator(Mqtt5PayloadFormatIndicator.UTF_8)
                    .contentType("application/json")
                    .responseTopic("props/reply/42")
                    .correlationData(new byte[] {0, (byte) 0xFF, 7})
                    .send();
            Mqtt5Publish p = publishes.receive(5, TimeUnit.SECONDS).orElseThrow();
            assertThat(p.getTopic().toString()).isEqualTo("props/request");
            assertThat(p.getQos()).isEqualTo(MqttQos.AT_LEAST_ONCE);
            assertThat(p.getPayloadFormatIndicator()).hasValue(Mqtt5PayloadFormatIndicator.UTF_8);
            assertThat(p.getContentType().orElseThrow().toString()).isEqualTo("application/json");
            assertThat(p.getResponseTopic().orElseThrow().toString()).isEqualTo("props/reply/42");
            assertThat(bytes(p.getCorrelationData().orElseThrow())).containsExactly(0, 0xFF, 7);
            assertThat(p.getMessageExpiryInterval()).isEmpty();
        } finally {
            sub.disconnect();
            pub.disconnect();
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.2-4] Payload Format Indicator 0 arrives as 0, and an absent one stays absent")
    void payloadFormatZeroAndAbsent() throws InterruptedException {
        Mqtt5BlockingClient sub = hive("pfi-sub");
        Mqtt5BlockingClient pub = hive("pfi-pub");
        try (var publishes = sub.publishes(MqttGlobalPublishFilter.ALL)) {
            sub.subscribeWith().topicFilter("pfi/#").qos(MqttQos.AT_LEAST_ONCE).send();
            pub.publishWith().topic("pfi/zero").qos(MqttQos.AT_LEAST_ONCE).payload(new byte[] {(byte) 0xC3, 0x28})
                    .payloadFormatIndicator(Mqtt5PayloadFormatIndicator.UNSPECIFIED).send();
            pub.publishWith().topic("pfi/none").qos(MqttQos.AT_LEAST_ONCE).payload(new byte[] {1}).send();
            Mqtt5Publish zero = publishes.receive(5, TimeUnit.SECONDS).orElseThrow();
            Mqtt5Publish none = publishes.receive(5, TimeUnit.SECONDS).orElseThrow();
            assertThat(zero.getTopic().toString()).isEqualTo("pfi/zero");
            // the client reports an explicit 0 as UNSPECIFIED and an absent one as empty
            assertThat(zero.getPayloadFormatIndicator().orElse(Mqtt5PayloadFormatIndicator.UNSPECIFIED))
                    .isEqualTo(Mqtt5PayloadFormatIndicator.UNSPECIFIED);
            assertThat(zero.getPayloadAsBytes()).containsExactly(0xC3, 0x28);
            assertThat(none.getPayloadFormatIndicator()).isEmpty();
        } finally {
            sub.disconnect();
            pub.disconnect();
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.2-4] Payload Format Indicator 0 on the wire is forwarded as 0 (raw subscriber)")
    void payloadFormatZeroOnTheWire() {
        try (RawClient sub = RawV5.connected(broker, "raw-pfi-sub"); RawClient pub = RawV5.connected(broker, "pfi0")) {
            RawV5.subscribe(sub, "pfi0/#", QoS.AT_MOST_ONCE);
            pub.send(RawV5.publish("pfi0/a", QoS.AT_MOST_ONCE, 0, "x", props(PropertyId.PAYLOAD_FORMAT_INDICATOR, 0)));
            Publish p = sub.read(Publish.class);
            assertThat(p.properties().getInt(PropertyId.PAYLOAD_FORMAT_INDICATOR)).isZero();
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.2-17][MQTT-3.3.2-18] user properties arrive unaltered, in order, duplicates kept (Paho v5 "
            + "to Paho v5)")
    void userPropertiesInOrder() {
        try (Paho5Client sub = Paho5Client.connect(broker, "up-sub").subscribe("up/#", 1);
             Paho5Client pub = Paho5Client.connect(broker, "up-pub")) {
            var p = pahoProps();
            p.setUserProperties(List.of(new UserProperty("z", "1"), new UserProperty("a", "2"),
                    new UserProperty("z", "3"), new UserProperty("z", "1"), new UserProperty("ключ", "значение")));
            pub.publish("up/1", Paho5Client.message("m", 1, false, p));
            Paho5Client.Received r = sub.next();
            assertThat(r.properties().getUserProperties()).extracting(u -> u.getKey() + "=" + u.getValue())
                    .containsExactly("z=1", "a=2", "z=3", "z=1", "ключ=значение");
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.2-17] user properties and the other properties reach a Paho v5 subscriber from a HiveMQ "
            + "publisher")
    void crossClientProperties() {
        Mqtt5BlockingClient pub = hive("cross-pub");
        try (Paho5Client sub = Paho5Client.connect(broker, "cross-sub").subscribe("cross/#", 2)) {
            pub.publishWith().topic("cross/x").qos(MqttQos.EXACTLY_ONCE)
                    .payload("hello".getBytes(StandardCharsets.UTF_8))
                    .contentType("text/plain").responseTopic("cross/reply").correlationData(new byte[] {9})
                    .userProperties().add("b", "1").add("a", "2").add("b", "3").applyUserProperties()
                    .send();
            Paho5Client.Received r = sub.next();
            assertThat(r.message().getQos()).isEqualTo(2);
            assertThat(r.properties().getContentType()).isEqualTo("text/plain");
            assertThat(r.properties().getResponseTopic()).isEqualTo("cross/reply");
            assertThat(r.properties().getCorrelationData()).containsExactly(9);
            assertThat(r.properties().getUserProperties()).extracting(u -> u.getKey() + "=" + u.getValue())
                    .containsExactly("b=1", "a=2", "b=3");
        } finally {
            pub.disconnect();
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.2-6] a message delivered at once carries its Message Expiry Interval, never more than "
            + "published")
    void messageExpiryDeliveredAtOnce() {
        try (RawClient sub = RawV5.connected(broker, "mei-sub"); RawClient pub = RawV5.connected(broker, "mei-pub")) {
            RawV5.subscribe(sub, "mei/#", QoS.AT_LEAST_ONCE);
            pub.send(RawV5.publish("mei/a", QoS.AT_LEAST_ONCE, 1, "x",
                    props(PropertyId.MESSAGE_EXPIRY_INTERVAL, 30L)));
            Publish p = sub.read(Publish.class);
            assertThat(p.properties().getLong(PropertyId.MESSAGE_EXPIRY_INTERVAL)).isBetween(29L, 30L);
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.2-6] a message that waited in an offline session's queue carries the lifetime left, less "
            + "than published")
    void messageExpiryCountsDownInQueue() {
        MqttConnectionOptions o = Paho5Client.options(false);
        o.setSessionExpiryInterval(60L);
        try (Paho5Client sub = Paho5Client.connect(broker, "countdown", o)) {
            sub.subscribe("countdown/#", 1);
            sub.disconnect();
        }
        try (Paho5Client pub = Paho5Client.connect(broker, "countdown-pub")) {
            var p = pahoProps();
            p.setMessageExpiryInterval(10L);
            pub.publish("countdown/a", Paho5Client.message("waits", 1, false, p));
        }
        // let more than a second of its life pass while it waits in the queue
        await().pollDelay(Duration.ofMillis(1200)).atMost(Duration.ofSeconds(3))
                .until(() -> broker.broker().sessions().get("countdown").queuedCount() == 1);
        try (Paho5Client sub = Paho5Client.connect(broker, "countdown", o)) {
            Paho5Client.Received r = sub.next();
            assertThat(r.payload()).isEqualTo("waits");
            assertThat(r.properties().getMessageExpiryInterval()).isNotNull().isBetween(1L, 9L);
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.2-5] an expired message queued for an offline session is never delivered")
    void expiredQueuedMessageNotDelivered() {
        try (RawClient sub = RawV5.open(broker)) {
            RawV5.connack(sub, RawV5.connect("expiry-sub", true, 60, props(PropertyId.SESSION_EXPIRY_INTERVAL, 60L)));
            RawV5.subscribe(sub, "exp/#", QoS.AT_LEAST_ONCE);
            sub.send(Disconnect.NORMAL);
            sub.assertClosedByServer();
        }
        try (RawClient pub = RawV5.connected(broker, "expiry-pub")) {
            pub.send(RawV5.publish("exp/short", QoS.AT_LEAST_ONCE, 1, "expires",
                    props(PropertyId.MESSAGE_EXPIRY_INTERVAL, 1L)));
            pub.read(Puback.class);
            pub.send(RawV5.publish("exp/marker", QoS.AT_LEAST_ONCE, 2, "marker"));
            pub.read(Puback.class);
        }
        await().pollDelay(Duration.ofMillis(1200)).atMost(Duration.ofSeconds(3))
                .until(() -> broker.broker().sessions().get("expiry-sub").queuedCount() == 2);
        try (RawClient sub = RawV5.open(broker)) {
            assertThat(RawV5.connack(sub, RawV5.connect("expiry-sub", false, 60,
                    props(PropertyId.SESSION_EXPIRY_INTERVAL, 60L))).sessionPresent()).isTrue();
            Publish first = sub.read(Publish.class);
            assertThat(RawV5.payload(first)).isEqualTo("marker");
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.2-5] an expired retained message is not delivered on subscribe")
    void expiredRetainedNotDelivered() {
        try (RawClient pub = RawV5.connected(broker, "retain-pub")) {
            Publish retained = new Publish("ret/exp", QoS.AT_LEAST_ONCE, true, false, 1,
                    "old".getBytes(StandardCharsets.UTF_8), props(PropertyId.MESSAGE_EXPIRY_INTERVAL, 1L));
            pub.send(retained);
            pub.read(Puback.class);
            // wait until its Message Expiry Interval has passed
            await().atMost(Duration.ofSeconds(3)).until(() -> broker.broker().router().retained().get("ret/exp")
                    .isExpired(System.currentTimeMillis()));
            try (RawClient sub = RawV5.connected(broker, "retain-sub")) {
                RawV5.subscribe(sub, "ret/exp", QoS.AT_LEAST_ONCE);
                pub.send(RawV5.publish("ret/exp", QoS.AT_LEAST_ONCE, 2, "new"));
                Publish first = sub.read(Publish.class);
                assertThat(RawV5.payload(first)).isEqualTo("new");
                assertThat(first.retain()).isFalse();
            }
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.2-6] a retained message sent on subscribe carries the lifetime it has left")
    void retainedMessageExpiryCountsDown() {
        try (Paho5Client pub = Paho5Client.connect(broker, "ret-mei-pub")) {
            var p = pahoProps();
            p.setMessageExpiryInterval(10L);
            pub.publish("ret/mei", Paho5Client.message("stored", 1, true, p));
        }
        await().pollDelay(Duration.ofMillis(1200)).atMost(Duration.ofSeconds(3))
                .until(() -> broker.broker().router().retained().get("ret/mei") != null);
        try (Paho5Client sub = Paho5Client.connect(broker, "ret-mei-sub").subscribe("ret/mei", 1)) {
            Paho5Client.Received r = sub.next();
            assertThat(r.message().isRetained()).isTrue();
            assertThat(r.properties().getMessageExpiryInterval()).isNotNull().isBetween(1L, 9L);
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.4-3][MQTT-3.3.4-4] overlapping subscriptions with identifiers: one copy carrying every "
            + "matching identifier (Paho v5)")
    void subscriptionIdentifiersOnOneCopy() {
        try (Paho5Client sub = Paho5Client.connect(broker, "sid-sub");
             Paho5Client pub = Paho5Client.connect(broker, "sid-pub")) {
            sub.subscribe(1, new MqttSubscription("sid/+", 1));
            sub.subscribe(2, new MqttSubscription("sid/#", 1));
            sub.subscribe(3, new MqttSubscription("sid/a", 1));
            sub.subscribe(null, new MqttSubscription("sid/+/#", 1));
            pub.publish("sid/a", "to-all", 1, false);
            pub.publish("sid/b", "to-two", 1, false);
            Paho5Client.Received all = sub.next();
            assertThat(all.payload()).isEqualTo("to-all");
            assertThat(all.properties().getSubscriptionIdentifiers()).containsExactlyInAnyOrder(1, 2, 3);
            Paho5Client.Received two = sub.next();
            assertThat(two.payload()).as("one copy only of the first message").isEqualTo("to-two");
            assertThat(two.properties().getSubscriptionIdentifiers()).containsExactlyInAnyOrder(1, 2);
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.4-3] a subscription without an identifier gets messages without one (raw)")
    void noSubscriptionIdentifierWhenNoneGiven() {
        try (RawClient sub = RawV5.connected(broker, "no-sid"); RawClient pub = RawV5.connected(broker, "no-sid-pub")) {
            RawV5.subscribe(sub, "nosid/#", QoS.AT_MOST_ONCE);
            pub.send(RawV5.publish("nosid/a", QoS.AT_MOST_ONCE, 0, "x"));
            assertThat(sub.read(Publish.class).properties().contains(PropertyId.SUBSCRIPTION_IDENTIFIER)).isFalse();
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.4-3] a retained message sent on subscribe carries that subscription's identifier (raw)")
    void subscriptionIdentifierOnRetained() {
        try (RawClient pub = RawV5.connected(broker, "sid-ret-pub")) {
            pub.send(new Publish("sidret/a", QoS.AT_LEAST_ONCE, true, false, 1, new byte[] {1}, MqttProperties.EMPTY));
            pub.read(Puback.class);
        }
        try (RawClient sub = RawV5.connected(broker, "sid-ret-sub")) {
            MqttProperties sid = MqttProperties.builder().subscriptionIdentifier(77).build();
            RawV5.subscribe(sub, new Subscribe(5,
                    List.of(new TopicSubscription("sidret/#", QoS.AT_LEAST_ONCE)), sid));
            Publish p = sub.read(Publish.class);
            assertThat(p.retain()).isTrue();
            assertThat(p.properties().subscriptionIdentifiers()).containsExactly(77);
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.4-3] the largest Subscription Identifier (268,435,455, four bytes) comes back intact (raw)")
    void largestSubscriptionIdentifier() {
        try (RawClient sub = RawV5.connected(broker, "sid-max"); RawClient pub = RawV5.connected(broker, "sid-max-pub")) {
            MqttProperties sid = MqttProperties.builder().subscriptionIdentifier(268_435_455).build();
            RawV5.subscribe(sub, new Subscribe(2, List.of(new TopicSubscription("sidmax/#", QoS.AT_MOST_ONCE)), sid));
            pub.send(RawV5.publish("sidmax/a", QoS.AT_MOST_ONCE, 0, "x"));
            assertThat(sub.read(Publish.class).properties().subscriptionIdentifiers()).containsExactly(268_435_455);
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.4-6] a PUBLISH from a client carrying a Subscription Identifier: DISCONNECT 0x82")
    void clientPublishWithSubscriptionIdentifier() {
        try (RawClient c = RawV5.connected(broker, "sid-offender");
             RawClient bystander = RawV5.connected(broker, "by")) {
            c.send(RawV5.publish("a", QoS.AT_MOST_ONCE, 0, "x",
                    MqttProperties.builder().subscriptionIdentifier(3).build()));
            assertThat(RawV5.disconnectReason(c)).isEqualTo(ReasonCode.PROTOCOL_ERROR);
            RawV5.assertAlive(bystander);
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.4-2] overlapping subscriptions at different QoS: one copy at the highest granted QoS (raw)")
    void overlappingQos() {
        try (RawClient sub = RawV5.connected(broker, "ovl"); RawClient pub = RawV5.connected(broker, "ovl-pub")) {
            RawV5.subscribe(sub, "ovl/#", QoS.AT_MOST_ONCE);
            RawV5.subscribe(sub, "ovl/a", QoS.EXACTLY_ONCE);
            pub.send(RawV5.publish("ovl/a", QoS.EXACTLY_ONCE, 1, "x"));
            Publish p = sub.read(Publish.class);
            assertThat(p.qos()).isEqualTo(QoS.EXACTLY_ONCE);
            sub.send(new Pubrec(p.packetId()));
            assertThat(sub.read()).isInstanceOf(Pubrel.class);
            RawV5.assertAlive(sub); // no second copy came before the PINGRESP
        }
    }

    @Test
    @DisplayName("a publisher's QoS 2 flow with properties completes and the subscriber gets them once (HiveMQ)")
    void qos2WithProperties() throws InterruptedException {
        Mqtt5BlockingClient sub = hive("q2-sub");
        Mqtt5BlockingClient pub = hive("q2-pub");
        try (var publishes = sub.publishes(MqttGlobalPublishFilter.ALL)) {
            sub.subscribeWith().topicFilter("q2/#").qos(MqttQos.EXACTLY_ONCE).send();
            pub.publishWith().topic("q2/a").qos(MqttQos.EXACTLY_ONCE).payload(new byte[] {5})
                    .contentType("bin").send();
            Mqtt5Publish p = publishes.receive(5, TimeUnit.SECONDS).orElseThrow();
            assertThat(p.getQos()).isEqualTo(MqttQos.EXACTLY_ONCE);
            assertThat(p.getContentType().orElseThrow().toString()).isEqualTo("bin");
            Optional<Mqtt5Publish> again = publishes.receive(300, TimeUnit.MILLISECONDS);
            assertThat(again).isEmpty();
        } finally {
            sub.disconnect();
            pub.disconnect();
        }
    }
}
