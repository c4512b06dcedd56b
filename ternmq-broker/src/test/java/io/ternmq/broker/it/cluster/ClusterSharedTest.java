package io.ternmq.broker.it.cluster;

import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Shared subscriptions are the cluster's: a group with members on several nodes gets each message once, whichever
 * node it is published on [MQTT-4.8.2-3]; a group on one node behaves as on one node; QoS 1 messages a member had
 * not acknowledged when its node died go to another member.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterSharedTest {
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

    /** Every message of {@code expected} arrived at the members, once in all, within the time given. */
    private static Map<Integer, Integer> assertOncePerGroup(List<Paho5Client> members, Set<String> expected) {
        cluster.awaitCondition("every message at a member", Duration.ofSeconds(20),
                () -> members.stream().mapToInt(m -> m.received().size()).sum() >= expected.size());
        // a moment for duplicates, if any, to show
        Paho5Client.Received extra = members.get(0).poll(300);
        List<String> got = new ArrayList<>();
        if (extra != null) {
            got.add(extra.payload());
        }
        Map<Integer, Integer> perMember = new HashMap<>();
        for (int i = 0; i < members.size(); i++) {
            perMember.put(i, members.get(i).received().size() + (i == 0 && extra != null ? 1 : 0));
            Paho5Client.Received r;
            while ((r = members.get(i).received().poll()) != null) {
                got.add(r.payload());
            }
        }
        assertThat(got).as("each message once in the group [MQTT-4.8.2-3]; " + cluster.logs())
                .hasSize(expected.size()).containsExactlyInAnyOrderElementsOf(expected);
        return perMember;
    }

    @Test
    @Order(1)
    @DisplayName("a group with a member on each of three nodes, publishers on each node: every message once in the "
            + "group at QoS 0, 1 and 2, spread over the members [MQTT-4.8.2-3]")
    void oncePerGroupAcrossNodes() {
        List<Paho5Client> members = List.of(v5(0, "sh-m0"), v5(1, "sh-m1"), v5(2, "sh-m2"));
        List<Paho5Client> pubs = List.of(v5(0, "sh-p0"), v5(1, "sh-p1"), v5(2, "sh-p2"));
        try {
            for (Paho5Client m : members) {
                m.subscribe("$share/g/sh/#", 2);
            }
            for (int qos = 0; qos <= 2; qos++) {
                Set<String> sent = new HashSet<>();
                for (int i = 0; i < 60; i++) {
                    String payload = "q" + qos + "-" + i;
                    pubs.get(i % 3).publish("sh/" + i, payload, qos, false);
                    sent.add(payload);
                }
                Map<Integer, Integer> perMember = assertOncePerGroup(members, sent);
                assertThat(perMember.values()).as("every member gets some at QoS " + qos + ": " + perMember)
                        .allMatch(n -> n > 0);
            }
        } finally {
            members.forEach(Paho5Client::close);
            pubs.forEach(Paho5Client::close);
        }
    }

    @Test
    @Order(2)
    @DisplayName("a group whose members are all on one node, publishers on the others: once each, round robin "
            + "over its members, as on one node")
    void groupOnOneNode() {
        List<Paho5Client> members = List.of(v5(0, "one-m0"), v5(0, "one-m1"));
        try (Paho5Client pubB = v5(1, "one-pb"); Paho5Client pubC = v5(2, "one-pc")) {
            for (Paho5Client m : members) {
                m.subscribe("$share/one/one/#", 1);
            }
            Set<String> sent = new HashSet<>();
            for (int i = 0; i < 40; i++) {
                (i % 2 == 0 ? pubB : pubC).publish("one/" + i, "one" + i, 1, false);
                sent.add("one" + i);
            }
            Map<Integer, Integer> perMember = assertOncePerGroup(members, sent);
            assertThat(perMember.values()).as("both members get some: " + perMember).allMatch(n -> n > 0);
        } finally {
            members.forEach(Paho5Client::close);
        }
    }

    @Test
    @Order(3)
    @DisplayName("a member's node killed while the member has QoS 1 messages unacknowledged: the group's member on "
            + "another node gets them, and every message arrives")
    void unacknowledgedGoToAnotherMemberWhenTheNodeDies() throws Exception {
        try (Paho5Client survivor = v5(1, "kill-m1"); Paho5Client pub = v5(0, "kill-pub");
             RawClient doomed = new RawClient(cluster.node(2).mqttPort()).version(MqttVersion.MQTT_5)) {
            RawV5.connack(doomed, RawV5.connect("kill-m2"));
            RawV5.subscribe(doomed, "$share/k/kill/#", QoS.AT_LEAST_ONCE);
            survivor.subscribe("$share/k/kill/#", 1);
            Set<String> sent = new HashSet<>();
            for (int i = 0; i < 40; i++) {
                pub.publish("kill/" + i, "k" + i, 1, false);
                sent.add("k" + i);
            }
            // the member on node 2 reads its share and acknowledges none of it
            List<String> unacknowledged = new ArrayList<>();
            doomed.socketTimeout(Duration.ofMillis(200));
            cluster.awaitCondition("the doomed member to hold messages", Duration.ofSeconds(20), () -> {
                if (unacknowledged.size() + survivor.received().size() >= sent.size()) {
                    return true;
                }
                try {
                    MqttPacket p = doomed.read();
                    if (p instanceof Publish publish) {
                        unacknowledged.add(RawV5.payload(publish));
                    }
                } catch (AssertionError nothingYet) {
                    // no packet within 200 ms: look again
                }
                return false;
            });
            assertThat(unacknowledged).as("round robin gave the member on node 2 a share").isNotEmpty();

            cluster.node(2).process().destroyForcibly().waitFor();
            cluster.awaitCondition("the survivor to get every message", Duration.ofSeconds(30),
                    () -> survivor.received().stream().map(Paho5Client.Received::payload).distinct().count()
                            >= sent.size());
            Set<String> got = new HashSet<>();
            for (Paho5Client.Received r : survivor.received()) {
                got.add(r.payload());
            }
            assertThat(got).as("every message, those node 2's member held included; " + cluster.logs())
                    .containsExactlyInAnyOrderElementsOf(sent);
            assertThat(cluster.node(0).logText()).contains("left (2 members)");
        }
    }
}
