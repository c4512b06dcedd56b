package io.ternmq.broker.it.cluster;

import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.PahoClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Three broker processes on 127.0.0.1 route to each other: a message published on one node reaches the subscribers
 * on the others, with the options, identifiers and expiry it would have on one node; a SUBACK on one node means the
 * next PUBLISH on another reaches it; garbage on the data link is refused and routing goes on.
 */
class ClusterRoutingTest {
    private static ClusterHarness cluster;

    @BeforeAll
    static void startCluster() {
        cluster = ClusterHarness.start(3);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Paho5Client v5(int node, String clientId) {
        return Paho5Client.connect(cluster.node(node).uri(), clientId, Paho5Client.options(true));
    }

    private static Paho5Client.Received next(Paho5Client c, String what) {
        Paho5Client.Received r = c.poll(5_000);
        assertThat(r).as(what + "; " + cluster.logs()).isNotNull();
        return r;
    }

    @Test
    @DisplayName("QoS 0, 1 and 2 from node B reach a subscriber on node A with + and # filters (Paho v5)")
    void qosAcrossNodes() {
        try (Paho5Client sub = v5(0, "qos-sub"); Paho5Client pub = v5(1, "qos-pub"); Paho5Client pubC = v5(2,
                "qos-pub-c")) {
            sub.subscribe("qos/+/x", 2);
            sub.subscribe("deep/#", 2);
            for (int qos = 0; qos <= 2; qos++) {
                pub.publish("qos/" + qos + "/x", "m" + qos, qos, false);
                Paho5Client.Received r = next(sub, "QoS " + qos + " message");
                assertThat(r.topic()).isEqualTo("qos/" + qos + "/x");
                assertThat(r.payload()).isEqualTo("m" + qos);
                assertThat(r.message().getQos()).isEqualTo(qos);
            }
            pubC.publish("deep/a/b/c", "deep", 1, false);
            assertThat(next(sub, "# message from node C").topic()).isEqualTo("deep/a/b/c");
            pub.publish("qos/1/y", "not matching", 1, false);
            assertThat(sub.poll(300)).as("a topic no filter matches").isNull();
        }
    }

    @Test
    @DisplayName("MQTT 3.1.1 clients: QoS 1 and 2 from node A reach node C, granted QoS capping (Paho v3)")
    void v3AcrossNodes() {
        PahoClient sub = PahoClient.connect(cluster.node(2).uri(), "v3-sub", true);
        PahoClient pub = PahoClient.connect(cluster.node(0).uri(), "v3-pub", true);
        try {
            sub.subscribe("v3/+/t", 1);
            pub.publish("v3/a/t", "one", 1, false);
            pub.publish("v3/b/t", "two", 2, false);
            PahoClient.Received first = sub.poll(5_000);
            PahoClient.Received second = sub.poll(5_000);
            assertThat(first).as(cluster.logs()).isNotNull();
            assertThat(second).as(cluster.logs()).isNotNull();
            assertThat(List.of(first.payload(), second.payload())).containsExactly("one", "two");
            assertThat(first.message().getQos()).isEqualTo(1);
            assertThat(second.message().getQos()).as("capped at the granted QoS 1").isEqualTo(1);
        } finally {
            sub.close();
            pub.close();
        }
    }

    @Test
    @DisplayName("overlapping subscriptions on node A: one copy of a message from node B, with both subscription "
            + "identifiers, at the highest QoS")
    void overlappingSubscriptionsWithIdentifiers() {
        try (Paho5Client sub = v5(0, "ov-sub"); Paho5Client pub = v5(1, "ov-pub")) {
            sub.subscribe(1, new MqttSubscription("ov/+", 1));
            sub.subscribe(2, new MqttSubscription("ov/#", 2));
            pub.publish("ov/a", "both", 2, false);
            Paho5Client.Received r = next(sub, "the overlapping message");
            assertThat(r.payload()).isEqualTo("both");
            assertThat(r.message().getQos()).isEqualTo(2);
            assertThat(r.properties().getSubscriptionIdentifiers()).containsExactlyInAnyOrder(1, 2);
            assertThat(sub.poll(300)).as("one copy only").isNull();
        }
    }

    @Test
    @DisplayName("retain-as-published and no-local apply on the subscriber's node as on one node")
    void retainAsPublishedAndNoLocal() {
        try (Paho5Client sub = v5(0, "nl-client"); Paho5Client other = v5(1, "nl-other");
             Paho5Client publisher = v5(1, "nl-publisher")) {
            MqttSubscription rap = new MqttSubscription("rap/t", 1);
            rap.setRetainAsPublished(true);
            other.subscribe(null, rap);
            MqttSubscription noLocal = new MqttSubscription("nl/t", 1);
            noLocal.setNoLocal(true);
            sub.subscribe(null, noLocal);
            other.subscribe("nl/t", 1);

            publisher.publish("rap/t", "retained", 1, true);
            Paho5Client.Received r = next(other, "the retained message");
            assertThat(r.message().isRetained()).as("retain-as-published keeps RETAIN").isTrue();
            publisher.publish("rap/t", "", 1, true); // clears it again, and is delivered too
            assertThat(next(other, "the clearing message").payload()).isEmpty();

            // a client id is connected on one node at a time (sessions follow their clients): the no-local
            // subscriber's own message goes to the other node's subscriber, and not back to it
            sub.publish("nl/t", "not to myself", 1, false);
            assertThat(next(other, "the message to the subscriber without no-local").payload())
                    .isEqualTo("not to myself");
            assertThat(sub.poll(500)).as("no-local: not to the publisher itself").isNull();
        }
    }

    @Test
    @DisplayName("message expiry holds across nodes: an expired message queued on node A is not delivered, a live "
            + "one carries the lifetime left")
    void messageExpiryAcrossNodes() {
        MqttConnectionOptions o = Paho5Client.options(false);
        o.setSessionExpiryInterval(300L);
        try (Paho5Client sub = Paho5Client.connect(cluster.node(0).uri(), "exp-sub", o)) {
            sub.subscribe("exp/#", 1);
            sub.disconnect();
        }
        try (Paho5Client pub = v5(1, "exp-pub")) {
            MqttProperties shortLife = new MqttProperties();
            shortLife.setMessageExpiryInterval(1L);
            pub.publish("exp/short", Paho5Client.message("expires", 1, false, shortLife));
            MqttProperties longLife = new MqttProperties();
            longLife.setMessageExpiryInterval(100L);
            pub.publish("exp/long", Paho5Client.message("lives", 1, false, longLife));
        }
        // more than the short message's life passes while both wait in node A's queue
        await().pollDelay(Duration.ofMillis(1_500)).atMost(Duration.ofSeconds(3)).until(() -> true);
        o.setCleanStart(false);
        try (Paho5Client sub = Paho5Client.connect(cluster.node(0).uri(), "exp-sub", o)) {
            Paho5Client.Received r = next(sub, "the long-lived message");
            assertThat(r.payload()).isEqualTo("lives");
            assertThat(r.properties().getMessageExpiryInterval()).isNotNull().isBetween(90L, 99L);
            assertThat(sub.poll(300)).as("the expired message").isNull();
        }
    }

    @Test
    @DisplayName("1,000 rounds of SUBACK on node A (a new filter each round), then PUBLISH on node B or C: none missed")
    void subackThenPublishNeverMisses() {
        int rounds = 1_000;
        try (Paho5Client sub = v5(0, "race-sub"); Paho5Client pubB = v5(1, "race-pub-b");
             Paho5Client pubC = v5(2, "race-pub-c")) {
            for (int i = 0; i < rounds; i++) {
                sub.subscribe("race/" + i, 1);
                (i % 2 == 0 ? pubB : pubC).publish("race/" + i, Integer.toString(i), 1, false);
            }
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> sub.received().size() >= rounds);
            } catch (ConditionTimeoutException e) {
                // the rounds that were missed are named below
            }
            Set<Integer> missing = new TreeSet<>();
            for (int i = 0; i < rounds; i++) {
                missing.add(i);
            }
            List<Paho5Client.Received> got = new ArrayList<>(sub.received());
            got.forEach(r -> missing.remove(Integer.parseInt(r.payload())));
            assertThat(missing).as("rounds whose message was missed; " + cluster.logs()).isEmpty();
            assertThat(got).as("no duplicates").hasSize(rounds);
        }
    }

    @Test
    @DisplayName("garbage, an oversized frame, a wrong cluster name or a wrong secret on the data link: closed, "
            + "logged, and the cluster keeps routing")
    void badLinkInputIsRefused() throws Exception {
        int linkPort = cluster.node(0).linkPort();
        // an oversized length
        try (Socket s = new Socket("127.0.0.1", linkPort)) {
            new DataOutputStream(s.getOutputStream()).writeInt(Integer.MAX_VALUE - 16);
            assertClosed(s);
        }
        // garbage in a frame of a sensible size
        try (Socket s = new Socket("127.0.0.1", linkPort)) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(5);
            out.write(new byte[] {42, 1, 2, 3, 4});
            assertClosed(s);
        }
        // another cluster's name
        try (Socket s = new Socket("127.0.0.1", linkPort)) {
            hello(new DataOutputStream(s.getOutputStream()), "not-ternmq");
            assertClosed(s);
        }
        // the right name, but not the secret
        try (Socket s = new Socket("127.0.0.1", linkPort)) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            hello(out, "ternmq");
            DataInputStream in = new DataInputStream(s.getInputStream());
            s.setSoTimeout(5_000);
            byte[] challenge = new byte[in.readInt()];
            in.readFully(challenge);
            assertThat(challenge[0]).as("CHALLENGE").isEqualTo((byte) 2);
            out.writeInt(33);
            out.writeByte(3);
            out.write(new byte[32]);
            assertClosed(s);
        }
        cluster.awaitCondition("node A to log a refused data link", Duration.ofSeconds(5),
                () -> cluster.node(0).logText().contains("cluster: closed data link with"));
        // routing goes on, both ways
        try (Paho5Client a = v5(0, "after-a"); Paho5Client b = v5(1, "after-b")) {
            a.subscribe("after/a", 1);
            b.subscribe("after/b", 1);
            b.publish("after/a", "to a", 1, false);
            a.publish("after/b", "to b", 1, false);
            assertThat(next(a, "a message to node A after the refusals").payload()).isEqualTo("to a");
            assertThat(next(b, "a message to node B after the refusals").payload()).isEqualTo("to b");
        }
        assertThat(cluster.logs()).doesNotContain("exited");
    }

    private static void hello(DataOutputStream out, String clusterName) throws IOException {
        byte[] name = clusterName.getBytes(StandardCharsets.UTF_8);
        byte[] id = "intruder".getBytes(StandardCharsets.UTF_8);
        out.writeInt(1 + 4 + 2 + name.length + 2 + id.length + 16);
        out.writeByte(1);
        out.writeInt(9); // link protocol version 9 (what a holder accounted for of a dead run's orphans)
        out.writeShort(name.length);
        out.write(name);
        out.writeShort(id.length);
        out.write(id);
        out.write(new byte[16]);
        out.flush();
    }

    /** The node closes the connection: end of stream (or a reset) within 5 s. */
    private static void assertClosed(Socket s) throws IOException {
        s.setSoTimeout(5_000);
        InputStream in = s.getInputStream();
        try {
            while (in.read() >= 0) {
                // whatever it said before closing
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the data link stayed open; " + cluster.logs(), e);
        } catch (IOException e) {
            // reset: closed too
        }
    }
}
