package io.ternmq.broker.protocol;

import io.ternmq.broker.security.AnonymousAuthenticator;
import io.ternmq.broker.security.Authorizer;
import io.ternmq.broker.security.ClientIdentity;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Publish;
import io.ternmq.codec.Pubcomp;
import io.ternmq.codec.Pubrec;
import io.ternmq.codec.Pubrel;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link InboundPublishFlow} and {@link OutboundPublishFlow} through fake channels: the rules a client's PUBLISH
 * must meet and the acknowledgement each gets, and the PUBLISH each receiver gets.
 */
class PublishFlowsTest {

    private static ProtocolHarness.FakeChannel connected(ProtocolHarness h, MqttVersion v, String id,
                                                         MqttProperties props) {
        ProtocolHarness.FakeChannel c = h.open().send(new Connect(v, id, true, 60, null, null, null, props));
        assertThat(c.next(Connack.class).reasonCode()).isZero();
        return c;
    }

    private static Publish publish(String topic, QoS qos, int id, String payload, MqttProperties props) {
        return new Publish(topic, qos, false, false, id, payload.getBytes(StandardCharsets.UTF_8), props);
    }

    private static void subscribe(ProtocolHarness.FakeChannel c, String filter, QoS qos) {
        c.send(new Subscribe(1, List.of(new TopicSubscription(filter, qos)), MqttProperties.EMPTY));
        c.next(Suback.class);
    }

    @Test
    @DisplayName("QoS 1/2 are acknowledged in order; 5.0 says when nobody subscribed (0x10)")
    void acknowledgements() {
        try (ProtocolHarness h = new ProtocolHarness(b -> { })) {
            ProtocolHarness.FakeChannel pub = connected(h, MqttVersion.MQTT_5, "pub", MqttProperties.EMPTY);
            ProtocolHarness.FakeChannel sub = connected(h, MqttVersion.MQTT_5, "sub", MqttProperties.EMPTY);
            subscribe(sub, "t/#", QoS.EXACTLY_ONCE);
            pub.send(publish("t/1", QoS.AT_LEAST_ONCE, 1, "a", MqttProperties.EMPTY));
            pub.send(publish("nobody", QoS.AT_LEAST_ONCE, 2, "b", MqttProperties.EMPTY));
            pub.send(publish("t/2", QoS.EXACTLY_ONCE, 3, "c", MqttProperties.EMPTY));
            assertThat(pub.next(Puback.class)).isEqualTo(new Puback(1, ReasonCode.SUCCESS, MqttProperties.EMPTY));
            assertThat(pub.next(Puback.class).reasonCode()).isEqualTo(ReasonCode.NO_MATCHING_SUBSCRIBERS);
            assertThat(pub.next(Pubrec.class).packetId()).isEqualTo(3);
            pub.send(new Pubrel(3));
            assertThat(pub.next(Pubcomp.class).reasonCode()).isZero();
            pub.send(new Pubrel(3));
            assertThat(pub.next(Pubcomp.class).reasonCode()).isEqualTo(ReasonCode.PACKET_IDENTIFIER_NOT_FOUND);
            assertThat(sub.next(Publish.class).topic()).isEqualTo("t/1");
            assertThat(sub.next(Publish.class).topic()).isEqualTo("t/2");
        }
    }

    @Test
    @DisplayName("topic aliases: set, used, refused when out of range (0x94) or never set (0x82)")
    void inboundTopicAliases() {
        try (ProtocolHarness h = new ProtocolHarness(b -> b.maxTopicAlias(2))) {
            ProtocolHarness.FakeChannel sub = connected(h, MqttVersion.MQTT_3_1_1, "sub", MqttProperties.EMPTY);
            subscribe(sub, "long/topic", QoS.AT_MOST_ONCE);
            ProtocolHarness.FakeChannel pub = connected(h, MqttVersion.MQTT_5, "pub", MqttProperties.EMPTY);
            MqttProperties alias1 = MqttProperties.builder().set(PropertyId.TOPIC_ALIAS, 1).build();
            pub.send(publish("long/topic", QoS.AT_MOST_ONCE, 0, "set", alias1));
            pub.send(publish("", QoS.AT_MOST_ONCE, 0, "used", alias1));
            assertThat(sub.next(Publish.class).topic()).isEqualTo("long/topic");
            Publish second = sub.next(Publish.class);
            assertThat(second.topic()).isEqualTo("long/topic");
            assertThat(new String(second.payload(), StandardCharsets.UTF_8)).isEqualTo("used");
            pub.send(publish("x", QoS.AT_MOST_ONCE, 0, "far", MqttProperties.builder()
                    .set(PropertyId.TOPIC_ALIAS, 3).build()));
            assertThat(pub.next(Disconnect.class).reasonCode()).isEqualTo(ReasonCode.TOPIC_ALIAS_INVALID);
            ProtocolHarness.FakeChannel unset = connected(h, MqttVersion.MQTT_5, "unset", MqttProperties.EMPTY);
            unset.send(publish("", QoS.AT_MOST_ONCE, 0, "?", MqttProperties.builder()
                    .set(PropertyId.TOPIC_ALIAS, 2).build()));
            assertThat(unset.next(Disconnect.class).reasonCode()).isEqualTo(ReasonCode.PROTOCOL_ERROR);
        }
    }

    @Test
    @DisplayName("more QoS 2 PUBLISHes unreleased than Receive Maximum: DISCONNECT 0x93, counted as a violation")
    void receiveMaximum() {
        try (ProtocolHarness h = new ProtocolHarness(b -> b.receiveMaximum(2))) {
            ProtocolHarness.FakeChannel pub = connected(h, MqttVersion.MQTT_5, "pub", MqttProperties.EMPTY);
            for (int id = 1; id <= 3; id++) {
                pub.send(publish("t", QoS.EXACTLY_ONCE, id, "x", MqttProperties.EMPTY));
            }
            assertThat(pub.next(Pubrec.class).packetId()).isEqualTo(1);
            assertThat(pub.next(Pubrec.class).packetId()).isEqualTo(2);
            assertThat(pub.next(Disconnect.class).reasonCode()).isEqualTo(ReasonCode.RECEIVE_MAXIMUM_EXCEEDED);
            pub.awaitClosed();
            assertThat(h.metrics.protocolViolations.sum()).isEqualTo(1);
            assertThat(h.metrics.serverDisconnects.sum()).isZero();
        }
    }

    @Test
    @DisplayName("a publication the client may not make: 5.0 PUBACK 0x87; 3.1.1 acknowledged and discarded")
    void denied() {
        Authorizer readOnly = new Authorizer() {
            @Override
            public CompletionStage<Boolean> mayPublish(ClientIdentity client, String topic) {
                return CompletableFuture.supplyAsync(() -> false); // answered later, on another thread
            }

            @Override
            public CompletionStage<Boolean> maySubscribe(ClientIdentity client, String filter) {
                return CompletableFuture.completedFuture(true);
            }
        };
        try (ProtocolHarness h = new ProtocolHarness(b -> { }, new AnonymousAuthenticator(), readOnly)) {
            ProtocolHarness.FakeChannel v5 = connected(h, MqttVersion.MQTT_5, "v5", MqttProperties.EMPTY);
            v5.send(publish("t", QoS.AT_LEAST_ONCE, 7, "x", MqttProperties.EMPTY));
            assertThat(v5.next(Puback.class).reasonCode()).isEqualTo(ReasonCode.NOT_AUTHORIZED);
            ProtocolHarness.FakeChannel v3 = connected(h, MqttVersion.MQTT_3_1_1, "v3", MqttProperties.EMPTY);
            v3.send(publish("t", QoS.AT_LEAST_ONCE, 8, "x", MqttProperties.EMPTY));
            assertThat(v3.next(Puback.class).reasonCode()).isZero();
            assertThat(h.metrics.publishesDenied.sum()).isEqualTo(2);
        }
    }

    @Test
    @DisplayName("a payload that is not the UTF-8 it says it is: PUBACK 0x99 with a reason string if asked for")
    void payloadFormat() {
        try (ProtocolHarness h = new ProtocolHarness(b -> { })) {
            ProtocolHarness.FakeChannel c = connected(h, MqttVersion.MQTT_5, "pf", MqttProperties.EMPTY);
            c.send(new Publish("t", QoS.AT_LEAST_ONCE, false, false, 1, new byte[] {(byte) 0xC3, 0x28},
                    MqttProperties.builder().set(PropertyId.PAYLOAD_FORMAT_INDICATOR, 1).build()));
            Puback ack = c.next(Puback.class);
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.PAYLOAD_FORMAT_INVALID);
            assertThat(ack.properties().getString(PropertyId.REASON_STRING)).contains("UTF-8");
        }
    }

    @Test
    @DisplayName("outbound: each receiver gets its own topic alias, subscription identifier and remaining expiry")
    void outboundShaping() {
        try (ProtocolHarness h = new ProtocolHarness(b -> { })) {
            ProtocolHarness.FakeChannel aliasing = connected(h, MqttVersion.MQTT_5, "aliasing",
                    MqttProperties.builder().set(PropertyId.TOPIC_ALIAS_MAXIMUM, 5).build());
            aliasing.send(new Subscribe(1, List.of(new TopicSubscription("o/#", QoS.AT_MOST_ONCE)),
                    MqttProperties.builder().subscriptionIdentifier(42).build()));
            aliasing.next(Suback.class);
            ProtocolHarness.FakeChannel plain = connected(h, MqttVersion.MQTT_3_1_1, "plain", MqttProperties.EMPTY);
            subscribe(plain, "o/#", QoS.AT_MOST_ONCE);
            ProtocolHarness.FakeChannel pub = connected(h, MqttVersion.MQTT_5, "pub", MqttProperties.EMPTY);
            MqttProperties expiring = MqttProperties.builder().set(PropertyId.MESSAGE_EXPIRY_INTERVAL, 100L).build();
            pub.send(publish("o/t", QoS.AT_MOST_ONCE, 0, "1", expiring));
            pub.send(publish("o/t", QoS.AT_MOST_ONCE, 0, "2", expiring));
            Publish first = aliasing.next(Publish.class);
            assertThat(first.topic()).isEqualTo("o/t");
            assertThat(first.properties().getInt(PropertyId.TOPIC_ALIAS)).isEqualTo(1);
            assertThat(first.properties().subscriptionIdentifier(0)).isEqualTo(42);
            assertThat(first.properties().getLong(PropertyId.MESSAGE_EXPIRY_INTERVAL)).isBetween(99L, 100L);
            Publish second = aliasing.next(Publish.class);
            assertThat(second.topic()).as("the alias alone").isEmpty();
            assertThat(second.properties().getInt(PropertyId.TOPIC_ALIAS)).isEqualTo(1);
            Publish toPlain = plain.next(Publish.class);
            assertThat(toPlain.topic()).isEqualTo("o/t");
            assertThat(toPlain.properties().isEmpty()).isTrue();
        }
    }

    @Test
    @DisplayName("outbound: a message above the receiver's Maximum Packet Size is dropped for it only, and counted")
    void outboundMaximumPacketSize() {
        try (ProtocolHarness h = new ProtocolHarness(b -> { })) {
            ProtocolHarness.FakeChannel small = connected(h, MqttVersion.MQTT_5, "small",
                    MqttProperties.builder().set(PropertyId.MAXIMUM_PACKET_SIZE, 64L).build());
            subscribe(small, "big/#", QoS.AT_MOST_ONCE);
            ProtocolHarness.FakeChannel pub = connected(h, MqttVersion.MQTT_5, "pub", MqttProperties.EMPTY);
            pub.send(publish("big/1", QoS.AT_MOST_ONCE, 0, "x".repeat(100), MqttProperties.EMPTY));
            pub.send(publish("big/2", QoS.AT_MOST_ONCE, 0, "fits", MqttProperties.EMPTY));
            assertThat(small.next(Publish.class).topic()).isEqualTo("big/2");
            assertThat(h.metrics.oversizedDrops.sum()).isEqualTo(1);
        }
    }
}
