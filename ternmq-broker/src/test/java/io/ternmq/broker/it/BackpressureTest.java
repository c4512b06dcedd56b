package io.ternmq.broker.it;

import io.ternmq.broker.store.StoreOp;
import io.ternmq.broker.store.StoreWriter;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
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
        return subscriber(clientId, filter, true);
    }

    private RawClient subscriber(String clientId, String filter, boolean clean) {
        RawClient c = new RawClient(broker.port());
        c.send(ConnectTest.connect(MqttVersion.MQTT_3_1_1, clientId, clean, 60));
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
    @DisplayName("a persistent subscriber loses nothing when the store's writer lags: what waits to be written counts "
            + "towards its backlog, so one group commit cannot land more than the queue bound leaves")
    void deliveriesWaitingForTheStoreCount() {
        broker = TestBroker.start(b -> b.maxQueuedMessages(100).maxInflightMessages(5));
        CountDownLatch writerHeld = new CountDownLatch(1);
        try (RawClient sub = subscriber("persistent", "bp/s", false);
             RawClient pub = new RawClient(broker.port())) {
            pub.send(ConnectTest.connect(MqttVersion.MQTT_3_1_1, "fast", true, 60));
            pub.read(Connack.class);
            // the writer stops at this operation: every delivery routed from now on waits in the store's queue
            broker.broker().store().submit(new StoreOp() {
                @Override
                public void prepare(StoreWriter w) {
                    try {
                        writerHeld.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            int total = 200; // twice the bound, sent without waiting for acknowledgements
            for (int i = 1; i <= total; i++) {
                pub.send(new Publish("bp/s", QoS.AT_LEAST_ONCE, false, i, Integer.toString(i).getBytes()));
            }
            // either the broker holds the publisher back, or it has taken every message in
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    broker.broker().metrics().publishesBackpressured.sum() > 0
                            || broker.broker().metrics().publishesReceived.sum() == total);
            writerHeld.countDown();
            for (int i = 1; i <= total; i++) {
                Publish p = sub.read(Publish.class);
                assertThat(broker.broker().metrics().queueOverflowDrops.sum()).as("max_queued_messages drops")
                        .isZero();
                assertThat(new String(p.payload())).isEqualTo(Integer.toString(i));
                sub.send(new Puback(p.packetId()));
            }
            for (int i = 1; i <= total; i++) {
                assertThat(pub.read(Puback.class).packetId()).isEqualTo(i);
            }
            assertThat(broker.broker().metrics().publishesBackpressured.sum()).isPositive();
        } finally {
            writerHeld.countDown();
        }
    }

    @ParameterizedTest(name = "storage {0}")
    @ValueSource(strings = {"memory", "rocksdb"})
    @DisplayName("a subscriber that stops consuming does not hold the publisher back: its queue overflows instead")
    void stuckSubscriberDoesNotStallOthers(String storage) {
        broker = TestBroker.start(b -> b.storageType(storage).maxQueuedMessages(50).maxInflightMessages(5));
        // with RocksDB the stuck subscriber's session is stored: its backlog is the stored queue
        try (RawClient stuck = subscriber("stuck", "bp/t", !storage.equals("rocksdb"));
             PahoClient healthy = PahoClient.connect(broker, "healthy", true).subscribe("bp/t", 1);
             PahoClient pub = PahoClient.connect(broker, "fast", true)) {
            pub.publish("bp/t", "first", 1, false);
            stuck.read(Publish.class); // it takes one message, then never acknowledges or reads again
            // held back at most until the stuck client counts as stuck (2 s), not until its keep-alive ends it (90 s)
            assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
                for (int i = 0; i < 300; i++) {
                    pub.publish("bp/t", Integer.toString(i), 1, false);
                }
            });
            await().atMost(Duration.ofSeconds(30)).until(() -> healthy.received().size() == 301);
            assertThat(broker.broker().metrics().queueOverflowDrops.sum()).isPositive();
        }
    }
}
