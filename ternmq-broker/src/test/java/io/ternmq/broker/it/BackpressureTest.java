package io.ternmq.broker.it;

import io.ternmq.broker.testing.PahoClient;
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
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A subscriber slower than its publisher, but consuming, holds the publisher back instead of losing messages the
 * broker already acknowledged; a subscriber that stops consuming does not hold anyone back (its queue overflows).
 */
class BackpressureTest {
    private TestBroker broker;

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private RawClient subscriber(String clientId, String filter) {
        RawClient c = new RawClient(broker.port());
        c.send(ConnectTest.connect(MqttVersion.MQTT_3_1_1, clientId, true, 60));
        c.read(Connack.class);
        c.send(new Subscribe(1, List.of(new TopicSubscription(filter, QoS.AT_LEAST_ONCE)), MqttProperties.EMPTY));
        c.read(Suback.class);
        return c;
    }

    @Test
    @DisplayName("a slow but consuming subscriber loses nothing: the publisher is held back instead")
    void slowSubscriberLosesNothing() {
        broker = TestBroker.start(b -> b.storageType("memory").maxQueuedMessages(100).maxInflightMessages(5));
        try (RawClient slow = subscriber("slow", "bp/t")) {
            Thread publisher = new Thread(() -> {
                try (PahoClient pub = PahoClient.connect(broker, "fast", true)) {
                    for (int i = 0; i < 2000; i++) {
                        pub.publish("bp/t", Integer.toString(i), 1, false);
                    }
                }
            });
            publisher.start();
            for (int i = 0; i < 2000; i++) {
                if (i == 10) {
                    // a pause, shorter than the 2 s after which a silent subscriber counts as stuck: its queue fills
                    // and the publisher must be held back
                    await().atMost(Duration.ofSeconds(1))
                            .until(() -> broker.broker().metrics().publishesBackpressured.sum() > 0);
                }
                Publish p = slow.read(Publish.class);
                assertThat(new String(p.payload())).isEqualTo(Integer.toString(i));
                slow.send(new Puback(p.packetId()));
            }
            assertThat(broker.broker().metrics().queueOverflowDrops.sum()).isZero();
        }
    }

    @Test
    @DisplayName("a subscriber that stops consuming does not hold the publisher back: its queue overflows instead")
    void stuckSubscriberDoesNotStallOthers() {
        broker = TestBroker.start(b -> b.storageType("memory").maxQueuedMessages(50).maxInflightMessages(5));
        try (RawClient stuck = subscriber("stuck", "bp/t");
             PahoClient healthy = PahoClient.connect(broker, "healthy", true).subscribe("bp/t", 1);
             PahoClient pub = PahoClient.connect(broker, "fast", true)) {
            pub.publish("bp/t", "first", 1, false);
            stuck.read(Publish.class); // it takes one message, then never acknowledges or reads again
            for (int i = 0; i < 300; i++) {
                pub.publish("bp/t", Integer.toString(i), 1, false);
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> healthy.received().size() == 301);
            assertThat(broker.broker().metrics().queueOverflowDrops.sum()).isPositive();
        }
    }
}
