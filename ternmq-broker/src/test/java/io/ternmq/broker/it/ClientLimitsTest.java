package io.ternmq.broker.it;

import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Pingreq;
import io.ternmq.codec.Pingresp;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Per-client limits: topic length and depth, and the publish rate; the misbehaving client only is affected. */
class ClientLimitsTest {
    private TestBroker broker;

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private RawClient connected(String clientId) {
        RawClient c = new RawClient(broker.port());
        c.send(ConnectTest.connect(MqttVersion.MQTT_3_1_1, clientId, true, 60));
        c.read(Connack.class);
        return c;
    }

    @Test
    @DisplayName("a PUBLISH topic beyond max_topic_length or max_topic_levels closes that connection only")
    void publishTopicLimits() {
        broker = TestBroker.start(b -> b.maxTopicLength(16).maxTopicLevels(3));
        try (RawClient bystander = connected("bystander");
             RawClient longTopic = connected("long");
             RawClient deepTopic = RawV5.connected(broker, "deep")) {
            longTopic.send(new Publish("x".repeat(17), QoS.AT_MOST_ONCE, false, 0, "p".getBytes()));
            longTopic.assertClosedByServer();
            deepTopic.send(RawV5.publish("a/b/c/d", QoS.AT_MOST_ONCE, 0, "p"));
            assertThat(RawV5.disconnectReason(deepTopic)).isEqualTo(ReasonCode.TOPIC_NAME_INVALID);
            bystander.send(new Publish("a/b/c", QoS.AT_MOST_ONCE, false, 0, "fine".getBytes()));
            bystander.send(Pingreq.INSTANCE);
            assertThat(bystander.read()).isEqualTo(Pingresp.INSTANCE);
        }
    }

    @Test
    @DisplayName("by default, topics Mosquitto accepts are accepted: 201 levels, 60,000 bytes; 202 levels are not")
    void defaultTopicLimitsAreMosquittos() {
        broker = TestBroker.start(b -> { });
        String deep = "l/".repeat(200) + "x"; // 200 separators: Mosquitto's TOPIC_HIERARCHY_LIMIT
        String wide = "w".repeat(60_000);
        try (RawClient sub = connected("subscriber");
             RawClient pub = connected("publisher");
             RawClient tooDeep = connected("too-deep")) {
            sub.send(new Subscribe(1, List.of(new TopicSubscription(deep, QoS.AT_MOST_ONCE),
                    new TopicSubscription(wide, QoS.AT_MOST_ONCE)), MqttProperties.EMPTY));
            assertThat(sub.read(Suback.class).reasonCodes()).containsExactly(0, 0);
            pub.send(new Publish(deep, QoS.AT_MOST_ONCE, false, 0, "d".getBytes()));
            pub.send(new Publish(wide, QoS.AT_MOST_ONCE, false, 0, "w".getBytes()));
            assertThat(sub.read(Publish.class).topic()).isEqualTo(deep);
            assertThat(sub.read(Publish.class).topic()).isEqualTo(wide);
            tooDeep.send(new Publish("l/" + deep, QoS.AT_MOST_ONCE, false, 0, "d".getBytes()));
            tooDeep.assertClosedByServer();
        }
    }

    @Test
    @DisplayName("a topic filter beyond the limits gets SUBACK 0x80 (3.1.1) / 0x8F (5.0); the others are granted")
    void filterLimits() {
        broker = TestBroker.start(b -> b.maxTopicLevels(3));
        try (RawClient c = connected("subscriber")) {
            c.send(new Subscribe(1, List.of(new TopicSubscription("a/b/#", QoS.AT_LEAST_ONCE),
                    new TopicSubscription("a/b/c/d", QoS.AT_LEAST_ONCE)), MqttProperties.EMPTY));
            assertThat(c.read(Suback.class).reasonCodes()).containsExactly(1, ReasonCode.V3_SUBACK_FAILURE);
        }
        try (RawClient c = RawV5.connected(broker, "subscriber5")) {
            assertThat(RawV5.subscribe(c, "+/+/+/+", QoS.AT_LEAST_ONCE))
                    .containsExactly(ReasonCode.TOPIC_FILTER_INVALID);
        }
    }

    @Test
    @DisplayName("max_publish_rate slows a flooding publisher to its rate while another client keeps its pace")
    void publishRate() {
        broker = TestBroker.start(b -> b.maxPublishRate(50));
        try (PahoClient sub = PahoClient.connect(broker, "sub", true).subscribe("flood/#", 0);
             RawClient flooder = connected("flooder");
             RawClient bystander = connected("bystander")) {
            long t0 = System.nanoTime();
            for (int i = 0; i < 150; i++) {
                flooder.send(new Publish("flood/t", QoS.AT_MOST_ONCE, false, 0, Integer.toString(i).getBytes()));
            }
            // the bystander is answered at once while the flooder is held back
            bystander.send(Pingreq.INSTANCE);
            assertThat(bystander.read()).isEqualTo(Pingresp.INSTANCE);
            await().atMost(Duration.ofSeconds(10)).until(() -> sub.received().size() == 150);
            long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
            // 50 at once from a full bucket, the other 100 at 50 per second
            assertThat(elapsedMs).isGreaterThanOrEqualTo(1500);
            assertThat(broker.broker().metrics().publishesThrottled.sum()).isPositive();
        }
    }

    @Test
    @DisplayName("a publisher held back (here by max_publish_rate) is not read from: its bytes wait in its own socket, "
            + "not in the broker")
    void heldBackPublisherIsNotRead() throws Exception {
        broker = TestBroker.start(b -> b.maxPublishRate(10));
        RawClient flooder = connected("flooder");
        byte[] publish = RawClient.encode(new Publish("flood/t", QoS.AT_MOST_ONCE, false, 0, new byte[1024]),
                MqttVersion.MQTT_3_1_1);
        java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
        Thread writer = new Thread(() -> {
            try {
                for (int i = 0; i < 64 * 1024; i++) { // 64 MiB, far more than the sockets' buffers hold
                    flooder.send(publish);
                    written.addAndGet(publish.length);
                }
            } catch (RuntimeException closed) {
                // the test closes the socket under the blocked writer
            }
        }, "flooder");
        writer.setDaemon(true);
        writer.start();
        try (RawClient bystander = connected("bystander")) {
            // once the socket buffers are full the writer blocks, because the broker stopped reading
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10))
                    .until(() -> written.get() < 32L * 1024 * 1024);
            assertThat(writer.isAlive()).isTrue();
            bystander.send(Pingreq.INSTANCE);
            assertThat(bystander.read()).isEqualTo(Pingresp.INSTANCE);
        } finally {
            flooder.close();
            writer.join(5000);
        }
    }
}
