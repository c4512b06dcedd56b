package io.ternmq.broker.it.cluster;

import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A slow but consuming subscriber on one node holds back a publisher on another, as on one node: the data link from
 * the publisher's node pauses while the subscriber catches up, instead of its queue overflowing with messages the
 * publisher's node already acknowledged.
 */
class ClusterBackpressureTest {
    private static TestBroker a;
    private static TestBroker b;

    @BeforeAll
    static void startTwoNodes() throws Exception {
        int[] ports = ClusterHarness.freePorts(2);
        List<String> members = List.of("127.0.0.1:" + ports[0], "127.0.0.1:" + ports[1]);
        a = TestBroker.start(node(ports[0], members));
        b = TestBroker.start(node(ports[1], members));
        await().atMost(Duration.ofSeconds(60)).until(() -> a.broker().metrics().clusterMembers.get() == 2
                && b.broker().metrics().clusterMembers.get() == 2);
    }

    private static Consumer<BrokerConfig.Builder> node(int port, List<String> members) {
        return ClusterHarness.inProcessNode(port, members).andThen(c -> c.maxQueuedMessages(100).maxInflightMessages(5));
    }

    @AfterAll
    static void stop() {
        if (b != null) {
            b.close();
        }
        if (a != null) {
            a.close();
        }
    }

    @Test
    @DisplayName("a slow subscriber on node A, a fast publisher on node B: the link pauses, nothing is dropped")
    void slowSubscriberAcrossNodesLosesNothing() {
        int total = 2000;
        try (RawClient slow = new RawClient(a.port())) {
            slow.send(new Connect(MqttVersion.MQTT_3_1_1, "slow", true, 60, null, null, null, MqttProperties.EMPTY));
            slow.read(Connack.class);
            slow.send(new Subscribe(1, List.of(new TopicSubscription("bp/x", QoS.AT_LEAST_ONCE)),
                    MqttProperties.EMPTY));
            slow.read(Suback.class); // SUBACK: node B has the route
            Thread publisher = new Thread(() -> {
                try (PahoClient pub = PahoClient.connect(b.uri(), "fast", true)) {
                    for (int i = 0; i < total; i++) {
                        pub.publish("bp/x", Integer.toString(i), 1, false);
                    }
                }
            });
            publisher.start();
            for (int i = 0; i < total; i++) {
                if (i == 10) {
                    // a pause, shorter than the 2 s after which a silent subscriber counts as stuck: its queue fills
                    // with what the link brings, and the link must be paused
                    await().atMost(Duration.ofSeconds(2))
                            .until(() -> a.broker().metrics().publishesBackpressured.sum() > 0);
                }
                Publish p = slow.read(Publish.class);
                assertThat(new String(p.payload())).as("message %d in order", i).isEqualTo(Integer.toString(i));
                slow.send(new Puback(p.packetId()));
            }
            assertThat(a.broker().metrics().queueOverflowDrops.sum()).as("drops on the subscriber's node").isZero();
            assertThat(b.broker().metrics().forwardDrops.sum()).as("drops on the link").isZero();
        }
    }
}
