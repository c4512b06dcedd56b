package io.ternmq.broker.it.v5;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.ternmq.broker.testing.RawV5.props;
import static org.assertj.core.api.Assertions.assertThat;

/** MQTT 3.1.1 and 5.0 clients on one broker: messages cross in both directions at every QoS, properties stay in 5.0. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InteropTest {
    private TestBroker broker;
    private PahoClient v3;
    private Paho5Client v5;

    @BeforeAll
    void start() {
        broker = TestBroker.start();
        v3 = PahoClient.connect(broker, "interop-v3", true).subscribe("to-v3/#", 2);
        v5 = Paho5Client.connect(broker, "interop-v5").subscribe("to-v5/#", 2);
    }

    @AfterAll
    void stop() {
        v3.close();
        v5.close();
        broker.close();
    }

    private static org.eclipse.paho.mqttv5.common.packet.MqttProperties richProps() {
        var p = new org.eclipse.paho.mqttv5.common.packet.MqttProperties();
        p.setPayloadFormat(true);
        p.setContentType("text/plain");
        p.setResponseTopic("to-v5/reply");
        p.setCorrelationData(new byte[] {1, 2});
        p.setMessageExpiryInterval(60L);
        p.setUserProperties(List.of(new UserProperty("from", "v5")));
        return p;
    }

    @ParameterizedTest(name = "QoS {0}")
    @ValueSource(ints = {0, 1, 2})
    @DisplayName("a 3.1.1 subscriber (Paho v3) gets a 5.0 publisher's (Paho v5) message with properties, at the "
            + "publish QoS, payload intact")
    void v5ToV3(int qos) {
        String payload = "from-v5-qos" + qos;
        v5.publish("to-v3/q" + qos, Paho5Client.message(payload, qos, false, richProps()));
        PahoClient.Received r = v3.next();
        assertThat(r.topic()).isEqualTo("to-v3/q" + qos);
        assertThat(r.payload()).isEqualTo(payload);
        assertThat(r.message().getQos()).isEqualTo(qos);
    }

    @ParameterizedTest(name = "QoS {0}")
    @ValueSource(ints = {0, 1, 2})
    @DisplayName("a 5.0 subscriber (Paho v5) gets a 3.1.1 publisher's (Paho v3) message at the publish QoS, without "
            + "properties")
    void v3ToV5(int qos) {
        String payload = "from-v3-qos" + qos;
        v3.publish("to-v5/q" + qos, payload, qos, false);
        Paho5Client.Received r = v5.next();
        assertThat(r.topic()).isEqualTo("to-v5/q" + qos);
        assertThat(r.payload()).isEqualTo(payload);
        assertThat(r.message().getQos()).isEqualTo(qos);
        var p = r.properties();
        assertThat(p.getUserProperties()).isEmpty();
        assertThat(p.getContentType()).isNull();
        assertThat(p.getMessageExpiryInterval()).isNull();
        assertThat(p.getSubscriptionIdentifiers()).isEmpty();
    }

    @ParameterizedTest(name = "QoS {0}")
    @ValueSource(ints = {0, 1, 2})
    @DisplayName("on the wire a 3.1.1 subscriber gets a plain 3.1.1 PUBLISH of a 5.0 message with properties (raw)")
    void v5ToV3OnTheWire(int qos) {
        try (RawClient raw = new RawClient(broker.port())) {
            raw.send(new Connect(MqttVersion.MQTT_3_1_1, "interop-raw-v3", true, 60, null, null, null,
                    MqttProperties.EMPTY));
            raw.read(Connack.class);
            raw.send(new Subscribe(1, List.of(new TopicSubscription("raw-v3/#", QoS.EXACTLY_ONCE)),
                    MqttProperties.EMPTY));
            raw.read(Suback.class);
            String payload = "plain-" + qos;
            v5.publish("raw-v3/t", Paho5Client.message(payload, qos, false, richProps()));
            Publish p = raw.read(Publish.class);
            assertThat(p.topic()).isEqualTo("raw-v3/t");
            assertThat(p.qos().value()).isEqualTo(qos);
            assertThat(new String(p.payload(), StandardCharsets.UTF_8)).isEqualTo(payload);
            assertThat(p.properties().isEmpty()).isTrue();
        }
    }

    @ParameterizedTest(name = "subscription QoS {0}")
    @ValueSource(ints = {0, 1, 2})
    @DisplayName("[MQTT-3.8.4-8] across versions the delivered QoS is the minimum of publish and subscription QoS")
    void qosDowngradeAcrossVersions(int subQos) {
        try (PahoClient sub3 = PahoClient.connect(broker, "interop-min-v3", true).subscribe("min/v3", subQos);
             Paho5Client sub5 = Paho5Client.connect(broker, "interop-min-v5").subscribe("min/v5", subQos)) {
            v5.publish("min/v3", "x", 2, false);
            v3.publish("min/v5", "y", 2, false);
            assertThat(sub3.next().message().getQos()).isEqualTo(subQos);
            assertThat(sub5.next().message().getQos()).isEqualTo(subQos);
        }
    }

    @Test
    @DisplayName("a retained 5.0 message with properties reaches a new 3.1.1 subscriber as retained, and the other way")
    void retainedAcrossVersions() {
        v5.publish("interop/retained/v5", Paho5Client.message("kept-v5", 1, true, richProps()));
        v3.publish("interop/retained/v3", "kept-v3", 1, true);
        try (PahoClient sub3 = PahoClient.connect(broker, "interop-ret-v3", true)
                .subscribe("interop/retained/v5", 1);
             Paho5Client sub5 = Paho5Client.connect(broker, "interop-ret-v5").subscribe("interop/retained/v3", 1)) {
            PahoClient.Received r3 = sub3.next();
            assertThat(r3.payload()).isEqualTo("kept-v5");
            assertThat(r3.message().isRetained()).isTrue();
            Paho5Client.Received r5 = sub5.next();
            assertThat(r5.payload()).isEqualTo("kept-v3");
            assertThat(r5.message().isRetained()).isTrue();
            assertThat(r5.properties().getUserProperties()).isEmpty();
        }
    }

    @Test
    @DisplayName("a 5.0 publisher's Topic Alias never reaches a 3.1.1 subscriber: it gets the full topic (raw v5 "
            + "publisher)")
    void aliasResolvedForV3() {
        try (RawClient pub = RawV5.connected(broker, "interop-alias-pub")) {
            pub.send(RawV5.publish("to-v3/aliased", QoS.AT_MOST_ONCE, 0, "one", props(PropertyId.TOPIC_ALIAS, 1)));
            pub.send(RawV5.publish("", QoS.AT_MOST_ONCE, 0, "two", props(PropertyId.TOPIC_ALIAS, 1)));
            for (String expected : List.of("one", "two")) {
                PahoClient.Received r = v3.next();
                assertThat(r.topic()).isEqualTo("to-v3/aliased");
                assertThat(r.payload()).isEqualTo(expected);
            }
        }
    }

    @Test
    @DisplayName("a 3.1.1 client's will reaches a 5.0 subscriber, a 5.0 client's will (with properties) a 3.1.1 one")
    void willsAcrossVersions() {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(true);
        o.setWill("to-v5/will-of-v3", "bye-v3".getBytes(StandardCharsets.UTF_8), 1, false);
        PahoClient dying3 = PahoClient.connect(broker, "interop-dying-v3", o);
        try {
            dying3.client().disconnectForcibly(0, 100, false);
        } catch (org.eclipse.paho.client.mqttv3.MqttException e) {
            throw new IllegalStateException(e);
        } finally {
            dying3.close();
        }
        assertThat(v5.next().payload()).isEqualTo("bye-v3");

        MqttProperties willProps = MqttProperties.builder().set(PropertyId.CONTENT_TYPE, "text/plain")
                .userProperty("k", "v").set(PropertyId.MESSAGE_EXPIRY_INTERVAL, 30L).build();
        RawV5.connected(broker, RawV5.connect("interop-dying-v5", true, 60, MqttProperties.EMPTY,
                RawV5.will("to-v3/will-of-v5", "bye-v5", QoS.AT_LEAST_ONCE, false, willProps))).close();
        PahoClient.Received r = v3.next();
        assertThat(r.topic()).isEqualTo("to-v3/will-of-v5");
        assertThat(r.payload()).isEqualTo("bye-v5");
    }

    @Test
    @DisplayName("a HiveMQ 5.0 subscriber and a Paho v3 publisher, both ways at QoS 2, on one broker")
    void hivemqAndPahoV3() throws InterruptedException {
        Mqtt5BlockingClient hive = Mqtt5Client.builder().identifier("interop-hive").serverHost("127.0.0.1")
                .serverPort(broker.port()).buildBlocking();
        hive.connect();
        try (var publishes = hive.publishes(MqttGlobalPublishFilter.ALL)) {
            hive.subscribeWith().topicFilter("to-hive/#").qos(MqttQos.EXACTLY_ONCE).send();
            v3.publish("to-hive/x", "from-v3", 2, false);
            Mqtt5Publish p = publishes.receive(5, TimeUnit.SECONDS).orElseThrow();
            assertThat(new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo("from-v3");
            assertThat(p.getQos()).isEqualTo(MqttQos.EXACTLY_ONCE);
            assertThat(p.getUserProperties().asList()).isEmpty();

            hive.publishWith().topic("to-v3/from-hive").qos(MqttQos.EXACTLY_ONCE)
                    .payload("from-hive".getBytes(StandardCharsets.UTF_8)).contentType("text/plain")
                    .userProperties().add("a", "b").applyUserProperties().send();
            PahoClient.Received r = v3.next();
            assertThat(r.payload()).isEqualTo("from-hive");
            assertThat(r.message().getQos()).isEqualTo(2);
        } finally {
            hive.disconnect();
        }
    }

    @Test
    @DisplayName("a 3.1.1 persistent session queues a 5.0 publisher's QoS 1 messages while offline")
    void v3PersistentSessionQueuesV5Messages() {
        try (PahoClient sub = PahoClient.connect(broker, "interop-persist", false).subscribe("persist/#", 1)) {
            sub.disconnect();
        }
        v5.publish("persist/a", Paho5Client.message("queued", 1, false, richProps()));
        try (PahoClient sub = PahoClient.connect(broker, "interop-persist", false)) {
            assertThat(sub.next().payload()).isEqualTo("queued");
        }
    }
}
