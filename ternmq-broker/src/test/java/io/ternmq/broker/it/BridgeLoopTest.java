package io.ternmq.broker.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ternmq.broker.config.BridgeSettings;
import io.ternmq.broker.config.ConfigFileParser;
import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.TestBroker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Two TernMQ brokers bridged toward each other with {@code topic # both 1}: a loop that must end. MQTT 5 only: MQTT
 * 3.x carries no hop count, and such a loop does not end (as with Mosquitto); docs/bridges.md says so.
 */
class BridgeLoopTest {
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static List<BridgeSettings> bridge(String name, int port, String protocol) {
        return ConfigFileParser.parse("bridge.conf", List.of("connection " + name,
                "address 127.0.0.1:" + port, "remote_clientid " + name, "bridge_protocol_version " + protocol,
                "restart_timeout 1", "topic # both 1")).build().bridges();
    }

    private static int drain(Paho5Client c, List<String> into) {
        Paho5Client.Received r;
        while ((r = c.poll(200)) != null) {
            into.add(r.topic() + " " + r.payload());
        }
        return into.size();
    }

    @ParameterizedTest(name = "bridge_protocol_version {0}")
    @ValueSource(strings = {"mqttv50"})
    @DisplayName("two brokers bridged both ways with topic # both 1: forwarding stops at bridge_hop_limit")
    void twoBrokersTowardEachOther(String protocol) throws Exception {
        int portA = freePort();
        TestBroker b = TestBroker.start(c -> c.bridges(bridge("b-to-a", portA, protocol)));
        closing.add(b);
        int portB = b.port();
        TestBroker a = TestBroker.start(c -> c.clearListeners().listener("127.0.0.1", portA)
                .bridges(bridge("a-to-b", portB, protocol)));
        closing.add(a);
        try (Paho5Client onA = Paho5Client.connect(a, "sub-a"); Paho5Client onB = Paho5Client.connect(b, "sub-b")) {
            onA.subscribe("$SYS/broker/connection/+/state", 1);
            onB.subscribe("$SYS/broker/connection/+/state", 1);
            await("both bridges up").atMost(Duration.ofSeconds(60)).until(() -> {
                Paho5Client.Received r = onA.poll(100);
                Paho5Client.Received s = onB.poll(100);
                return a.broker().bridges().all().get(0).state().equals("connected")
                        && b.broker().bridges().all().get(0).state().equals("connected")
                        && r == null && s == null;
            });
            onA.subscribe("loop/#", 1);
            onB.subscribe("loop/#", 1);
            await().pollDelay(Duration.ofSeconds(1)).until(() -> true);
            try (Paho5Client pub = Paho5Client.connect(a, "pub")) {
                pub.publish("loop/x", "once", 1, false);
            }
            List<String> gotA = new ArrayList<>();
            List<String> gotB = new ArrayList<>();
            // forwarding stops: after a while nothing more arrives anywhere
            await("the loop ends").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(2)).until(() -> {
                int before = gotA.size() + gotB.size();
                return drain(onA, gotA) + drain(onB, gotB) == before && before > 0;
            });
            // every crossing counts a hop, so no copy crosses more than bridge_hop_limit (4) bridges; the two
            // bridges make parallel paths, so a subscriber may get a copy per path (not one delivery: see
            // docs/bridges.md, "Loops")
            assertThat(gotA).as("on A").isNotEmpty().hasSizeLessThanOrEqualTo(4 + 1);
            assertThat(gotB).as("on B").isNotEmpty().hasSizeLessThanOrEqualTo(4 + 1);
            assertThat(a.broker().metrics().bridgeHopDrops.sum() + b.broker().metrics().bridgeHopDrops.sum())
                    .as("copies stopped at the hop limit").isPositive();
        }
    }
}
