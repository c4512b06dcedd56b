package io.ternmq.broker.it;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt3.Mqtt3BlockingClient;
import com.hivemq.client.mqtt.mqtt3.Mqtt3Client;
import com.hivemq.client.mqtt.mqtt3.message.publish.Mqtt3Publish;
import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.PahoClient.Received;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** PUBLISH at every QoS, both directions, with Paho v3 and the HiveMQ client; wildcards; overlap; order. */
class PublishSubscribeTest {
    private TestBroker broker;

    @BeforeEach
    void start() {
        broker = TestBroker.start();
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    @ParameterizedTest(name = "publish QoS {0}, subscription QoS {1} -> delivered at QoS {2}")
    @CsvSource({"0,0,0", "0,1,0", "0,2,0", "1,0,0", "1,1,1", "1,2,1", "2,0,0", "2,1,1", "2,2,2"})
    @DisplayName("[MQTT-3.8.4-6] delivery QoS is the minimum of publish and subscription QoS (Paho)")
    void deliveryQosIsMinimum(int publishQos, int subscriptionQos, int expected) {
        try (PahoClient sub = PahoClient.connect(broker, "sub", true);
             PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            sub.subscribe("qos/test", subscriptionQos);
            pub.publish("qos/test", "hello", publishQos, false);
            Received r = sub.next();
            assertThat(r.topic()).isEqualTo("qos/test");
            assertThat(r.payload()).isEqualTo("hello");
            assertThat(r.message().getQos()).isEqualTo(expected);
            assertThat(r.message().isRetained()).isFalse();
        }
    }

    @ParameterizedTest(name = "QoS {0}")
    @CsvSource({"0", "1", "2"})
    @DisplayName("HiveMQ client publishes and receives at every QoS")
    void hivemqClientEveryQos(int qos) {
        Mqtt3BlockingClient sub = Mqtt3Client.builder().identifier("hm-sub").serverHost("127.0.0.1")
                .serverPort(broker.port()).buildBlocking();
        Mqtt3BlockingClient pub = Mqtt3Client.builder().identifier("hm-pub").serverHost("127.0.0.1")
                .serverPort(broker.port()).buildBlocking();
        sub.connect();
        pub.connect();
        try (Mqtt3BlockingClient.Mqtt3Publishes publishes = sub.publishes(com.hivemq.client.mqtt.MqttGlobalPublishFilter.ALL)) {
            sub.subscribeWith().topicFilter("hm/#").qos(MqttQos.fromCode(qos)).send();
            pub.publishWith().topic("hm/a/b").qos(MqttQos.fromCode(qos)).payload("x".getBytes()).send();
            Optional<Mqtt3Publish> got = publishes.receive(5, TimeUnit.SECONDS);
            assertThat(got).isPresent();
            assertThat(got.get().getTopic().toString()).isEqualTo("hm/a/b");
            assertThat(got.get().getQos().getCode()).isEqualTo(qos);
            assertThat(new String(got.get().getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo("x");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            sub.disconnect();
            pub.disconnect();
        }
    }

    @Test
    @DisplayName("wildcards: + matches one level, # any number including the parent; others get nothing")
    void wildcards() {
        try (PahoClient plus = PahoClient.connect(broker, "plus", true);
             PahoClient hash = PahoClient.connect(broker, "hash", true);
             PahoClient other = PahoClient.connect(broker, "other", true);
             PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            plus.subscribe("home/+/temperature", 1);
            hash.subscribe("home/#", 1);
            other.subscribe("office/#", 1);
            pub.publish("home/livingroom/temperature", "21", 1, false);
            pub.publish("home", "root", 1, false);
            pub.publish("home/kitchen/humidity", "40", 1, false);
            assertThat(plus.next().topic()).isEqualTo("home/livingroom/temperature");
            assertThat(hash.next().topic()).isEqualTo("home/livingroom/temperature");
            assertThat(hash.next().topic()).isEqualTo("home");
            assertThat(hash.next().topic()).isEqualTo("home/kitchen/humidity");
            assertThat(plus.poll(300)).isNull();
            assertThat(other.poll(100)).isNull();
        }
    }

    @Test
    @DisplayName("[MQTT-4.7.2-1] topics starting with $ are not matched by filters starting with a wildcard")
    void dollarTopics() {
        try (PahoClient all = PahoClient.connect(broker, "all", true);
             PahoClient plus = PahoClient.connect(broker, "plus", true);
             PahoClient sys = PahoClient.connect(broker, "sys", true);
             PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            all.subscribe("#", 1);
            plus.subscribe("+/info", 1);
            // not $SYS: clients may not publish there (SysTreeTest)
            sys.subscribe("$app/#", 1);
            pub.publish("$app/info", "s", 1, false);
            pub.publish("app/info", "a", 1, false);
            assertThat(sys.next().topic()).isEqualTo("$app/info");
            assertThat(all.next().topic()).isEqualTo("app/info");
            assertThat(plus.next().topic()).isEqualTo("app/info");
            assertThat(all.poll(300)).isNull();
            assertThat(plus.poll(100)).isNull();
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.5-1] overlapping subscriptions of one client get one copy at the highest granted QoS")
    void overlappingSubscriptionsDeliverOnce() {
        try (RawClient sub = new RawClient(broker.port());
             PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            sub.send(ConnectTest.connect(MqttVersion.MQTT_3_1_1, "overlap", true, 60));
            sub.read(Connack.class);
            sub.send(new Subscribe(1, List.of(new TopicSubscription("a/#", QoS.AT_MOST_ONCE),
                    new TopicSubscription("a/+", QoS.AT_LEAST_ONCE), new TopicSubscription("a/b", QoS.AT_MOST_ONCE)),
                    MqttProperties.EMPTY));
            assertThat(sub.read(Suback.class).reasonCodes()).containsExactly(0, 1, 0);
            pub.publish("a/b", "once", 2, false);
            Publish p = sub.read(Publish.class);
            assertThat(p.qos()).isEqualTo(QoS.AT_LEAST_ONCE);
            sub.send(new Puback(p.packetId()));
            sub.assertSilentFor(Duration.ofMillis(300));
        }
    }

    @Test
    @DisplayName("[MQTT-4.6.0-6] messages from one publisher on one topic arrive in order, at every QoS")
    void orderPerPublisher() {
        try (PahoClient sub = PahoClient.connect(broker, "sub", true);
             PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            sub.subscribe("order/#", 2);
            for (int qos = 0; qos <= 2; qos++) {
                for (int i = 0; i < 200; i++) {
                    pub.publish("order/" + qos, Integer.toString(i), qos, false);
                }
            }
            List<String> got = new ArrayList<>();
            for (int i = 0; i < 600; i++) {
                Received r = sub.next();
                got.add(r.topic() + ":" + r.payload());
            }
            for (int qos = 0; qos <= 2; qos++) {
                String prefix = "order/" + qos + ":";
                List<String> mine = got.stream().filter(s -> s.startsWith(prefix)).toList();
                List<String> expected = new ArrayList<>();
                for (int i = 0; i < 200; i++) {
                    expected.add(prefix + i);
                }
                assertThat(mine).containsExactlyElementsOf(expected);
            }
        }
    }

    @Test
    @DisplayName("a client receives what it publishes when subscribed (MQTT 3.1.1 has no no-local)")
    void selfDelivery() {
        try (PahoClient c = PahoClient.connect(broker, "self", true)) {
            c.subscribe("self/t", 1);
            c.publish("self/t", "me", 1, false);
            assertThat(c.next().payload()).isEqualTo("me");
        }
    }

    @Test
    @DisplayName("UNSUBSCRIBE stops delivery; UNSUBACK even for a filter never subscribed [MQTT-3.10.4-5]")
    void unsubscribe() throws Exception {
        try (PahoClient sub = PahoClient.connect(broker, "sub", true);
             PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            sub.subscribe("u/t", 1);
            pub.publish("u/t", "1", 1, false);
            assertThat(sub.next().payload()).isEqualTo("1");
            sub.client().unsubscribe("u/t");
            sub.client().unsubscribe("never/subscribed");
            pub.publish("u/t", "2", 1, false);
            assertThat(sub.poll(300)).isNull();
        }
    }

    @Test
    @DisplayName("QoS 2 from the broker to a Paho subscriber arrives exactly once per publish")
    void qos2ExactlyOnceEndToEnd() {
        try (PahoClient sub = PahoClient.connect(broker, "sub", true);
             PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            sub.subscribe("eo/t", 2);
            for (int i = 0; i < 100; i++) {
                pub.publish("eo/t", Integer.toString(i), 2, false);
            }
            for (int i = 0; i < 100; i++) {
                Received r = sub.next();
                assertThat(r.payload()).isEqualTo(Integer.toString(i));
                assertThat(r.message().getQos()).isEqualTo(2);
            }
            assertThat(sub.poll(300)).isNull();
        }
    }
}
