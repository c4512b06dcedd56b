package io.ternmq.broker.it;

import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Publish;
import io.ternmq.codec.Pubrec;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Per-session queue limits (messages and bytes) with their overflow policies, what publishers are told, and the cap
 * on retained messages; for stored (RocksDB) and memory sessions alike.
 */
class QueueLimitsTest {
    private TestBroker broker;

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private void offlineSubscriber(String clientId, String filter) {
        try (RawClient c = new RawClient(broker.port())) {
            c.send(ConnectTest.connect(MqttVersion.MQTT_3_1_1, clientId, false, 60));
            c.read(Connack.class);
            c.send(new Subscribe(1, List.of(new TopicSubscription(filter, QoS.AT_LEAST_ONCE)), MqttProperties.EMPTY));
            c.read(Suback.class);
        }
        await().until(() -> !broker.broker().sessions().get(clientId).isOnline());
    }

    private List<String> drain(String clientId, int expected) {
        List<String> got = new ArrayList<>();
        try (RawClient c = new RawClient(broker.port())) {
            c.send(ConnectTest.connect(MqttVersion.MQTT_3_1_1, clientId, false, 60));
            c.read(Connack.class);
            for (int i = 0; i < expected; i++) {
                Publish p = c.read(Publish.class);
                got.add(new String(p.payload(), StandardCharsets.UTF_8));
                c.send(new Puback(p.packetId()));
            }
            c.assertSilentFor(Duration.ofMillis(300));
        }
        return got;
    }

    @ParameterizedTest(name = "storage {0}")
    @ValueSource(strings = {"rocksdb", "memory"})
    @DisplayName("refuse_new keeps the first max_queued_messages and counts the rest as dropped")
    void refuseNew(String storage) {
        broker = TestBroker.start(b -> b.storageType(storage).maxQueuedMessages(3));
        offlineSubscriber("slow", "lim/t");
        try (PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            for (int i = 0; i < 8; i++) {
                pub.publish("lim/t", "m" + i, 1, false);
            }
        }
        assertThat(broker.broker().metrics().queueOverflowDrops.sum()).isEqualTo(5);
        assertThat(drain("slow", 3)).containsExactly("m0", "m1", "m2");
    }

    @ParameterizedTest(name = "storage {0}")
    @ValueSource(strings = {"rocksdb", "memory"})
    @DisplayName("drop_oldest keeps the newest max_queued_messages and counts the dropped oldest")
    void dropOldest(String storage) {
        broker = TestBroker.start(b -> b.storageType(storage).maxQueuedMessages(3)
                .queueOverflowPolicy("drop_oldest"));
        offlineSubscriber("slow", "lim/t");
        try (PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            for (int i = 0; i < 8; i++) {
                pub.publish("lim/t", "m" + i, 1, false);
            }
        }
        await().until(() -> broker.broker().metrics().queueOverflowDrops.sum() == 5);
        assertThat(drain("slow", 3)).containsExactly("m5", "m6", "m7");
    }

    @Test
    @DisplayName("max_queued_bytes bounds a session's queued payload bytes")
    void byteLimit() {
        broker = TestBroker.start(b -> b.maxQueuedBytes(250));
        offlineSubscriber("slow", "lim/t");
        try (PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            for (int i = 0; i < 5; i++) {
                pub.publish("lim/t", String.valueOf(i).repeat(100), 1, false);
            }
        }
        assertThat(broker.broker().metrics().queueOverflowDrops.sum()).isEqualTo(3);
        assertThat(drain("slow", 2)).hasSize(2);
    }

    @Test
    @DisplayName("an MQTT 5 publisher gets PUBACK/PUBREC 0x97 when every subscriber's queue refused the message")
    void quotaExceededForV5Publisher() {
        broker = TestBroker.start(b -> b.maxQueuedMessages(1));
        offlineSubscriber("slow", "lim/t");
        try (RawClient pub = RawV5.connected(broker, "v5pub")) {
            pub.send(RawV5.publish("lim/t", QoS.AT_LEAST_ONCE, 1, "fits"));
            assertThat(pub.read(Puback.class).reasonCode()).isEqualTo(ReasonCode.SUCCESS);
            pub.send(RawV5.publish("lim/t", QoS.AT_LEAST_ONCE, 2, "refused"));
            assertThat(pub.read(Puback.class).reasonCode()).isEqualTo(ReasonCode.QUOTA_EXCEEDED);
            pub.send(RawV5.publish("lim/t", QoS.EXACTLY_ONCE, 3, "refused too"));
            assertThat(pub.read(Pubrec.class).reasonCode()).isEqualTo(ReasonCode.QUOTA_EXCEEDED);
        }
    }

    @Test
    @DisplayName("an MQTT 3.1.1 publisher is acknowledged (the drop counted), or with queue_overflow_v3_action "
            + "disconnect, disconnected")
    void v3PublisherOnOverflow() {
        broker = TestBroker.start(b -> b.maxQueuedMessages(1));
        offlineSubscriber("slow", "lim/t");
        try (RawClient pub = new RawClient(broker.port())) {
            pub.send(ConnectTest.connect(MqttVersion.MQTT_3_1_1, "v3pub", true, 60));
            pub.read(Connack.class);
            pub.send(new Publish("lim/t", QoS.AT_LEAST_ONCE, false, 1, "a".getBytes()));
            pub.read(Puback.class);
            pub.send(new Publish("lim/t", QoS.AT_LEAST_ONCE, false, 2, "b".getBytes()));
            assertThat(pub.read(Puback.class).packetId()).isEqualTo(2);
        }
        assertThat(broker.broker().metrics().queueOverflowDrops.sum()).isEqualTo(1);
        broker.close();

        broker = TestBroker.start(b -> b.maxQueuedMessages(1).queueOverflowV3Action("disconnect"));
        offlineSubscriber("slow", "lim/t");
        try (RawClient pub = new RawClient(broker.port())) {
            pub.send(ConnectTest.connect(MqttVersion.MQTT_3_1_1, "v3pub", true, 60));
            pub.read(Connack.class);
            pub.send(new Publish("lim/t", QoS.AT_LEAST_ONCE, false, 1, "a".getBytes()));
            pub.read(Puback.class);
            pub.send(new Publish("lim/t", QoS.AT_LEAST_ONCE, false, 2, "b".getBytes()));
            pub.assertClosedByServer();
        }
    }

    @Test
    @DisplayName("retained_max_count: a new retained topic beyond the cap is not kept; replacing and clearing work")
    void retainedCountCap() {
        broker = TestBroker.start(b -> b.retainedMaxCount(2));
        try (PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            pub.publish("r/1", "a", 1, true);
            pub.publish("r/2", "b", 1, true);
            pub.publish("r/3", "refused", 1, true);
            pub.publish("r/1", "replaced", 1, true);
        }
        assertThat(broker.broker().router().retained().size()).isEqualTo(2);
        assertThat(broker.broker().metrics().retainedRefused.sum()).isEqualTo(1);
        assertThat(new String(broker.broker().router().retained().get("r/1").payload())).isEqualTo("replaced");
        assertThat(broker.broker().router().retained().get("r/3")).isNull();
        try (PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            pub.publish("r/2", new byte[0], 1, true);
            pub.publish("r/3", "now fits", 1, true);
        }
        assertThat(broker.broker().router().retained().get("r/3")).isNotNull();
    }

    @Test
    @DisplayName("retained_max_bytes caps the sum of retained payload sizes")
    void retainedByteCap() {
        broker = TestBroker.start(b -> b.retainedMaxBytes(10));
        try (PahoClient pub = PahoClient.connect(broker, "pub", true)) {
            pub.publish("r/1", "12345678", 1, true);
            pub.publish("r/2", "123", 1, true);
            pub.publish("r/3", "12", 1, true);
        }
        assertThat(broker.broker().router().retained().size()).isEqualTo(2);
        assertThat(broker.broker().router().retained().bytes()).isEqualTo(10);
    }
}
