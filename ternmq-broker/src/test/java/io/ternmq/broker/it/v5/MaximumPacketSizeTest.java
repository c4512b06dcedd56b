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
import io.ternmq.codec.MqttPacketEncoder;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static io.ternmq.broker.testing.RawV5.props;
import static org.assertj.core.api.Assertions.assertThat;

/** The client's Maximum Packet Size (3.1.2.11.4): the broker never sends it a larger packet. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MaximumPacketSizeTest {
    private static final String BIG = "B".repeat(300);

    private TestBroker broker;
    private RawClient publisher;

    @BeforeAll
    void start() {
        broker = TestBroker.start();
        publisher = RawV5.connected(broker, "mps-pub");
    }

    @AfterAll
    void stop() {
        publisher.close();
        broker.close();
    }

    private int nextId = 1;

    private void publish(String topic, String payload) {
        publisher.send(RawV5.publish(topic, QoS.AT_LEAST_ONCE, nextId++, payload));
        publisher.read(Puback.class);
    }

    private RawClient limited(String clientId, long maximumPacketSize, int receiveMaximum, String filter) {
        MqttProperties p = MqttProperties.builder().set(PropertyId.MAXIMUM_PACKET_SIZE, maximumPacketSize)
                .set(PropertyId.RECEIVE_MAXIMUM, receiveMaximum).build();
        RawClient c = RawV5.connected(broker, RawV5.connect(clientId, true, 60, p));
        RawV5.subscribe(c, filter, QoS.AT_LEAST_ONCE);
        return c;
    }

    @Test
    @DisplayName("[MQTT-3.1.2-24][MQTT-3.1.2-25] a message larger than the client's Maximum Packet Size is not sent to "
            + "it; others still get it; the next small message still arrives")
    void oversizedSkipped() {
        try (RawClient small = limited("mps-small", 100, 65_535, "mps/#");
             RawClient big = RawV5.connected(broker, "mps-big")) {
            RawV5.subscribe(big, "mps/#", QoS.AT_LEAST_ONCE);
            publish("mps/t", BIG);
            publish("mps/t", "small");
            Publish bigFirst = big.read(Publish.class);
            assertThat(RawV5.payload(bigFirst)).isEqualTo(BIG);
            big.send(new Puback(bigFirst.packetId()));
            assertThat(RawV5.payload(big.read(Publish.class))).isEqualTo("small");
            Publish p = small.read(Publish.class);
            assertThat(RawV5.payload(p)).isEqualTo("small");
            assertThat(MqttPacketEncoder.encodedSize(p, MqttVersion.MQTT_5)).isLessThanOrEqualTo(100);
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-25] a dropped QoS 1 message counts as sent: it does not take a slot of Receive Maximum 1")
    void droppedDoesNotHoldWindow() {
        try (RawClient c = limited("mps-window", 100, 1, "mpsw/#")) {
            publish("mpsw/t", BIG);
            publish("mpsw/t", "after-1");
            publish("mpsw/t", "after-2");
            Publish first = c.read(Publish.class);
            assertThat(RawV5.payload(first)).isEqualTo("after-1");
            c.send(new Puback(first.packetId()));
            assertThat(RawV5.payload(c.read(Publish.class))).isEqualTo("after-2");
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-24] a message of exactly the client's Maximum Packet Size is sent")
    void exactlyAtLimit() {
        String payload = "x".repeat(50);
        Publish sample = new Publish("mpse/t", QoS.AT_LEAST_ONCE, false, false, 1,
                payload.getBytes(StandardCharsets.UTF_8), MqttProperties.EMPTY);
        int size = MqttPacketEncoder.encodedSize(sample, MqttVersion.MQTT_5);
        try (RawClient c = limited("mps-exact", size, 65_535, "mpse/#")) {
            publish("mpse/t", payload + "y"); // one byte over
            publish("mpse/t", payload);
            Publish p = c.read(Publish.class);
            assertThat(RawV5.payload(p)).isEqualTo(payload);
            assertThat(MqttPacketEncoder.encodedSize(p, MqttVersion.MQTT_5)).isEqualTo(size);
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-24] a retained message too large for the subscribing client is not sent on subscribe")
    void oversizedRetainedSkipped() {
        publisher.send(new Publish("mpsr/big", QoS.AT_LEAST_ONCE, true, false, nextId++,
                BIG.getBytes(StandardCharsets.UTF_8), MqttProperties.EMPTY));
        publisher.read(Puback.class);
        try (RawClient c = limited("mps-retained", 100, 65_535, "mpsr/#")) {
            publish("mpsr/live", "live");
            assertThat(RawV5.payload(c.read(Publish.class))).isEqualTo("live");
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-24] the HiveMQ client with maximum packet size 128 gets only the messages that fit")
    void hivemqLimited() throws InterruptedException {
        Mqtt5BlockingClient sub = Mqtt5Client.builder().identifier("mps-hive").serverHost("127.0.0.1")
                .serverPort(broker.port()).buildBlocking();
        sub.connectWith().restrictions().maximumPacketSize(128).applyRestrictions().send();
        try (var publishes = sub.publishes(MqttGlobalPublishFilter.ALL)) {
            sub.subscribeWith().topicFilter("mpsh/#").qos(MqttQos.AT_LEAST_ONCE).send();
            publish("mpsh/t", "one");
            publish("mpsh/t", BIG);
            publish("mpsh/t", "two");
            Mqtt5Publish a = publishes.receive(5, TimeUnit.SECONDS).orElseThrow();
            Mqtt5Publish b = publishes.receive(5, TimeUnit.SECONDS).orElseThrow();
            assertThat(new String(a.getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo("one");
            assertThat(new String(b.getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo("two");
            assertThat(sub.getState().isConnected()).isTrue();
        } finally {
            sub.disconnect();
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-24] Paho v5 with Maximum Packet Size 128 gets only the messages that fit and stays "
            + "connected")
    void pahoLimited() {
        MqttConnectionOptions o = Paho5Client.options(true);
        o.setMaximumPacketSize(128L);
        try (Paho5Client sub = Paho5Client.connect(broker, "mps-paho", o).subscribe("mpsp/#", 1)) {
            publish("mpsp/t", BIG);
            publish("mpsp/t", "fits");
            assertThat(sub.next().payload()).isEqualTo("fits");
            assertThat(sub.isConnected()).isTrue();
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-24] a Maximum Packet Size smaller than the topic and properties drops every message; the "
            + "connection stays")
    void tinyLimit() {
        try (RawClient c = limited("mps-tiny", 16, 65_535, "mpst/#")) {
            publish("mpst/quite/a/long/topic", "x");
            RawV5.assertAlive(c);
        }
    }
}
