package io.ternmq.broker.it.v5;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.ternmq.broker.testing.RawV5.props;
import static org.assertj.core.api.Assertions.assertThat;

/** MQTT 5.0 topic aliases in both directions (broker's max_topic_alias is the default 10). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TopicAliasTest {
    private TestBroker broker;
    private RawClient bystander;

    @BeforeAll
    void start() {
        broker = TestBroker.start();
        bystander = RawV5.connected(broker, "alias-bystander");
    }

    @AfterAll
    void stop() {
        bystander.close();
        broker.close();
    }

    @AfterEach
    void bystanderUnaffected() {
        RawV5.assertAlive(bystander);
    }

    private static MqttProperties alias(int alias) {
        return props(PropertyId.TOPIC_ALIAS, alias);
    }

    private static Publish aliased(String topic, int alias, int packetId, String payload) {
        return RawV5.publish(topic, packetId == 0 ? QoS.AT_MOST_ONCE : QoS.AT_LEAST_ONCE, packetId, payload,
                alias(alias));
    }

    /** A raw subscriber to the filter that accepts up to {@code aliasMaximum} topic aliases from the broker. */
    private RawClient subscriberWithAliases(String clientId, int aliasMaximum, String filter) {
        MqttProperties p = aliasMaximum == 0 ? MqttProperties.EMPTY
                : props(PropertyId.TOPIC_ALIAS_MAXIMUM, aliasMaximum);
        RawClient c = RawV5.connected(broker, RawV5.connect(clientId, true, 60, p));
        RawV5.subscribe(c, filter, QoS.AT_MOST_ONCE);
        return c;
    }

    // ------------------------------------------------------------------ client to broker

    @Test
    @DisplayName("[MQTT-3.3.2-12] a client sets an alias with a topic, then reuses it with an empty topic; "
            + "subscribers get the full topic and no alias")
    void clientAliasSetAndReused() {
        try (RawClient sub = subscriberWithAliases("in-sub", 0, "in/#");
             RawClient pub = RawV5.connected(broker, "in-pub")) {
            pub.send(aliased("in/long/topic/name", 1, 1, "first"));
            assertThat(pub.read(Puback.class).reasonCode()).isEqualTo(ReasonCode.SUCCESS);
            pub.send(aliased("", 1, 2, "second"));
            assertThat(pub.read(Puback.class).reasonCode()).isEqualTo(ReasonCode.SUCCESS);
            for (String expected : List.of("first", "second")) {
                Publish p = sub.read(Publish.class);
                assertThat(p.topic()).isEqualTo("in/long/topic/name");
                assertThat(RawV5.payload(p)).isEqualTo(expected);
                assertThat(p.properties().contains(PropertyId.TOPIC_ALIAS)).as("[MQTT-3.1.2-27]").isFalse();
            }
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.2-12] the highest alias the broker announced (10) is accepted")
    void highestAliasAccepted() {
        try (RawClient pub = RawV5.connected(broker, "in-max")) {
            pub.send(aliased("in/max", 10, 1, "x"));
            pub.read(Puback.class);
            pub.send(aliased("", 10, 2, "y"));
            pub.read(Puback.class);
            RawV5.assertAlive(pub);
        }
    }

    @Test
    @DisplayName("a client may point an alias at another topic; later uses follow the new mapping")
    void clientAliasRemapped() {
        try (RawClient sub = subscriberWithAliases("remap-sub", 0, "remap/#");
             RawClient pub = RawV5.connected(broker, "remap-pub")) {
            pub.send(aliased("remap/a", 3, 0, "1"));
            pub.send(aliased("remap/b", 3, 0, "2"));
            pub.send(aliased("", 3, 0, "3"));
            assertThat(sub.read(Publish.class).topic()).isEqualTo("remap/a");
            assertThat(sub.read(Publish.class).topic()).isEqualTo("remap/b");
            Publish third = sub.read(Publish.class);
            assertThat(third.topic()).isEqualTo("remap/b");
            assertThat(RawV5.payload(third)).isEqualTo("3");
        }
    }

    @Test
    @DisplayName("a retained message published through an alias is stored under its full topic")
    void retainedThroughAlias() {
        try (RawClient pub = RawV5.connected(broker, "alias-retain")) {
            pub.send(aliased("aliased/retained", 2, 0, "set"));
            pub.send(new Publish("", QoS.AT_LEAST_ONCE, true, false, 1, "kept".getBytes(StandardCharsets.UTF_8),
                    alias(2)));
            pub.read(Puback.class);
        }
        try (RawClient sub = RawV5.connected(broker, "alias-retain-sub")) {
            RawV5.subscribe(sub, "aliased/retained", QoS.AT_MOST_ONCE);
            Publish p = sub.read(Publish.class);
            assertThat(p.topic()).isEqualTo("aliased/retained");
            assertThat(p.retain()).isTrue();
            assertThat(RawV5.payload(p)).isEqualTo("kept");
            assertThat(p.properties().contains(PropertyId.TOPIC_ALIAS)).isFalse();
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.2-8] Topic Alias 0: DISCONNECT 0x94")
    void aliasZero() {
        try (RawClient c = RawV5.connected(broker, "alias-zero")) {
            c.send(aliased("a/b", 0, 0, "x"));
            assertThat(RawV5.disconnectReason(c)).isEqualTo(ReasonCode.TOPIC_ALIAS_INVALID);
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.2-9] a Topic Alias above the Topic Alias Maximum of the CONNACK (10): DISCONNECT 0x94")
    void aliasAboveMaximum() {
        try (RawClient c = RawV5.connected(broker, "alias-high")) {
            c.send(aliased("a/b", 11, 0, "x"));
            assertThat(RawV5.disconnectReason(c)).isEqualTo(ReasonCode.TOPIC_ALIAS_INVALID);
        }
    }

    @Test
    @DisplayName("an empty topic with an alias never set on this connection: DISCONNECT 0x82")
    void unknownAlias() {
        try (RawClient c = RawV5.connected(broker, "alias-unknown")) {
            c.send(aliased("", 4, 0, "x"));
            assertThat(RawV5.disconnectReason(c)).isEqualTo(ReasonCode.PROTOCOL_ERROR);
        }
    }

    @Test
    @DisplayName("(3.3.2.3.4) an empty topic without a Topic Alias: DISCONNECT 0x82")
    void emptyTopicWithoutAlias() {
        try (RawClient c = RawV5.connected(broker, "alias-none")) {
            c.send(RawV5.publish("", QoS.AT_MOST_ONCE, 0, "x"));
            assertThat(RawV5.disconnectReason(c)).isEqualTo(ReasonCode.PROTOCOL_ERROR);
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.2-7] aliases do not carry over to a new connection of the same session: DISCONNECT 0x82")
    void aliasesDoNotSurviveReconnect() {
        MqttProperties persistent = props(PropertyId.SESSION_EXPIRY_INTERVAL, 30L);
        try (RawClient c = RawV5.connected(broker, RawV5.connect("alias-carry", true, 60, persistent))) {
            c.send(aliased("carry/topic", 5, 1, "x"));
            c.read(Puback.class);
        }
        try (RawClient c = RawV5.open(broker)) {
            assertThat(RawV5.connack(c, RawV5.connect("alias-carry", false, 60, persistent)).sessionPresent())
                    .isTrue();
            c.send(aliased("", 5, 0, "y"));
            assertThat(RawV5.disconnectReason(c)).isEqualTo(ReasonCode.PROTOCOL_ERROR);
        }
    }

    @Test
    @DisplayName("[MQTT-3.2.2-18] with max_topic_alias 0 (no Topic Alias Maximum in CONNACK) any alias: DISCONNECT "
            + "0x94")
    void noAliasesAllowed() {
        try (TestBroker noAliases = TestBroker.start(b -> b.maxTopicAlias(0));
             RawClient c = RawV5.connected(noAliases, "no-alias")) {
            c.send(aliased("a/b", 1, 0, "x"));
            assertThat(RawV5.disconnectReason(c)).isEqualTo(ReasonCode.TOPIC_ALIAS_INVALID);
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.2-12] HiveMQ, allowed to use topic aliases, publishes 40 messages on 4 topics: all arrive "
            + "on the right topics")
    void hivemqPublisherUsesAliases() throws InterruptedException {
        Mqtt5BlockingClient pub = Mqtt5Client.builder().identifier("hive-alias-pub").serverHost("127.0.0.1")
                .serverPort(broker.port()).buildBlocking();
        Mqtt5BlockingClient sub = Mqtt5Client.builder().identifier("hive-alias-sub").serverHost("127.0.0.1")
                .serverPort(broker.port()).buildBlocking();
        // the HiveMQ client uses aliases for topics it publishes often, up to the broker's maximum
        pub.connectWith().restrictions().sendTopicAliasMaximum(10).applyRestrictions().send();
        sub.connect();
        try (var publishes = sub.publishes(MqttGlobalPublishFilter.ALL)) {
            sub.subscribeWith().topicFilter("hive-alias/#").qos(MqttQos.AT_LEAST_ONCE).send();
            List<String> sent = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                String topic = "hive-alias/topic/number/" + (i % 4);
                sent.add(topic + "#" + i);
                pub.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE)
                        .payload(String.valueOf(i).getBytes(StandardCharsets.UTF_8)).send();
            }
            List<String> got = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                Mqtt5Publish p = publishes.receive(5, TimeUnit.SECONDS).orElseThrow();
                got.add(p.getTopic() + "#" + new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8));
            }
            assertThat(got).containsExactlyElementsOf(sent);
        } finally {
            pub.disconnect();
            sub.disconnect();
        }
    }

    // ------------------------------------------------------------------ broker to client

    @Test
    @DisplayName("[MQTT-3.1.2-26] to a client with Topic Alias Maximum 2, the second message on a topic comes with an "
            + "empty topic and the alias")
    void brokerAliasReused() {
        try (RawClient sub = subscriberWithAliases("out-sub", 2, "out/#");
             RawClient pub = RawV5.connected(broker, "out-pub")) {
            pub.send(RawV5.publish("out/some/topic", QoS.AT_MOST_ONCE, 0, "1"));
            pub.send(RawV5.publish("out/some/topic", QoS.AT_MOST_ONCE, 0, "2"));
            Publish first = sub.read(Publish.class);
            Publish second = sub.read(Publish.class);
            assertThat(first.topic()).isEqualTo("out/some/topic");
            int alias = first.properties().getInt(PropertyId.TOPIC_ALIAS);
            assertThat(alias).isBetween(1, 2);
            assertThat(second.topic()).isEmpty();
            assertThat(second.properties().getInt(PropertyId.TOPIC_ALIAS)).isEqualTo(alias);
            assertThat(RawV5.payload(second)).isEqualTo("2");
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.2-11] with 3 topics and Topic Alias Maximum 2 the broker reassigns an alias (least "
            + "recently "
            + "used), sending its new topic with it, and never exceeds 2")
    void brokerAliasReassigned() {
        try (RawClient sub = subscriberWithAliases("lru-sub", 2, "lru/#");
             RawClient pub = RawV5.connected(broker, "lru-pub")) {
            List<String> order = List.of("lru/a", "lru/b", "lru/a", "lru/c", "lru/b", "lru/c", "lru/a", "lru/b",
                    "lru/a");
            for (String t : order) {
                pub.send(RawV5.publish(t, QoS.AT_MOST_ONCE, 0, t));
            }
            Map<Integer, String> aliases = new HashMap<>();
            boolean reassigned = false;
            for (String expected : order) {
                Publish p = sub.read(Publish.class);
                Integer alias = p.properties().getInt(PropertyId.TOPIC_ALIAS);
                assertThat(alias).as("alias on %s", expected).isNotNull().isBetween(1, 2);
                String topic;
                if (p.topic().isEmpty()) {
                    topic = aliases.get(alias);
                    assertThat(topic).as("alias %d used before it was set", alias).isNotNull();
                } else {
                    topic = p.topic();
                    String previous = aliases.put(alias, topic);
                    reassigned |= previous != null && !previous.equals(topic);
                }
                assertThat(topic).isEqualTo(expected);
                assertThat(RawV5.payload(p)).isEqualTo(expected);
            }
            assertThat(reassigned).as("some alias was given to another topic").isTrue();
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-27] a client without Topic Alias Maximum never gets a Topic Alias")
    void noAliasesToClientWithoutMaximum() {
        try (RawClient sub = subscriberWithAliases("plain-sub", 0, "plain/#");
             RawClient pub = RawV5.connected(broker, "plain-pub")) {
            for (int i = 0; i < 3; i++) {
                pub.send(RawV5.publish("plain/t", QoS.AT_MOST_ONCE, 0, "x"));
            }
            for (int i = 0; i < 3; i++) {
                Publish p = sub.read(Publish.class);
                assertThat(p.topic()).isEqualTo("plain/t");
                assertThat(p.properties().contains(PropertyId.TOPIC_ALIAS)).isFalse();
            }
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.2-7] the broker starts its aliases afresh on a new connection: the first message names "
            + "its topic again")
    void brokerAliasesStartAfreshPerConnection() {
        MqttProperties p = MqttProperties.builder().set(PropertyId.TOPIC_ALIAS_MAXIMUM, 2)
                .set(PropertyId.SESSION_EXPIRY_INTERVAL, 30L).build();
        try (RawClient pub = RawV5.connected(broker, "afresh-pub")) {
            try (RawClient sub = RawV5.connected(broker, RawV5.connect("afresh-sub", true, 60, p))) {
                RawV5.subscribe(sub, "afresh/#", QoS.AT_MOST_ONCE);
                pub.send(RawV5.publish("afresh/t", QoS.AT_MOST_ONCE, 0, "1"));
                assertThat(sub.read(Publish.class).topic()).isEqualTo("afresh/t");
            }
            try (RawClient sub = RawV5.open(broker)) {
                assertThat(RawV5.connack(sub, RawV5.connect("afresh-sub", false, 60, p)).sessionPresent()).isTrue();
                pub.send(RawV5.publish("afresh/t", QoS.AT_MOST_ONCE, 0, "2"));
                Publish again = sub.read(Publish.class);
                assertThat(again.topic()).isEqualTo("afresh/t");
                assertThat(RawV5.payload(again)).isEqualTo("2");
            }
        }
    }

    @Test
    @DisplayName("a HiveMQ subscriber with Topic Alias Maximum 3 gets every message on its right topic across 6 "
            + "topics")
    void hivemqSubscriberWithAliases() throws InterruptedException {
        Mqtt5BlockingClient sub = Mqtt5Client.builder().identifier("hive-out-sub").serverHost("127.0.0.1")
                .serverPort(broker.port()).buildBlocking();
        sub.connectWith().restrictions().topicAliasMaximum(3).applyRestrictions().send();
        try (var publishes = sub.publishes(MqttGlobalPublishFilter.ALL);
             RawClient pub = RawV5.connected(broker, "hive-out-pub")) {
            sub.subscribeWith().topicFilter("hive-out/#").qos(MqttQos.AT_LEAST_ONCE).send();
            List<String> sent = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                String topic = "hive-out/" + (i * 7 % 6);
                sent.add(topic + "=" + i);
                pub.send(RawV5.publish(topic, QoS.AT_MOST_ONCE, 0, String.valueOf(i)));
            }
            List<String> got = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                Mqtt5Publish p = publishes.receive(5, TimeUnit.SECONDS).orElseThrow();
                got.add(p.getTopic() + "=" + new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8));
            }
            assertThat(got).containsExactlyElementsOf(sent);
        } finally {
            sub.disconnect();
        }
    }

    @Test
    @DisplayName("a Paho v5 subscriber with Topic Alias Maximum 2 gets every message on its right topic")
    void pahoSubscriberWithAliases() {
        MqttConnectionOptions o = Paho5Client.options(true);
        o.setTopicAliasMaximum(2);
        try (Paho5Client sub = Paho5Client.connect(broker, "paho-alias-sub", o).subscribe("paho-alias/#", 0);
             RawClient pub = RawV5.connected(broker, "paho-alias-pub")) {
            List<String> sent = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                String topic = "paho-alias/" + (i % 3);
                sent.add(topic + "=" + i);
                pub.send(RawV5.publish(topic, QoS.AT_MOST_ONCE, 0, String.valueOf(i)));
            }
            List<String> got = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                Paho5Client.Received r = sub.next();
                got.add(r.topic() + "=" + r.payload());
            }
            assertThat(got).containsExactlyElementsOf(sent);
        }
    }
}
