package io.ternmq.broker.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ternmq.broker.config.BridgeSettings;
import io.ternmq.broker.config.ConfigFileParser;
import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.TestBroker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * TernMQ brokers bridged into loops with {@code topic # both 1} at MQTT 5: two toward each other, and a triangle.
 * One publish must give one delivery per subscriber on every broker, and the forwarding must stop: the copies that
 * travel the other paths carry the message's {@code ternmq-bridge-origin} and are dropped where it arrived before.
 * MQTT 3.x carries no properties, and such a loop does not end (as with Mosquitto); docs/bridges.md says so.
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

    private static List<BridgeSettings> bridge(String name, int port) {
        return ConfigFileParser.parse("bridge.conf", List.of("connection " + name,
                "address 127.0.0.1:" + port, "remote_clientid " + name, "bridge_protocol_version mqttv50",
                "restart_timeout 1", "topic # both 1")).build().bridges();
    }

    /** Brokers on the given ports, broker i bridged toward broker {@code toward[i]}. */
    private List<TestBroker> brokers(int[] ports, int[] toward) throws Exception {
        List<TestBroker> brokers = new ArrayList<>();
        for (int i = 0; i < ports.length; i++) {
            int port = ports[i];
            List<BridgeSettings> b = bridge("bridge-" + i + "-to-" + toward[i], ports[toward[i]]);
            TestBroker t = TestBroker.start(c -> c.clearListeners().listener("127.0.0.1", port).bridges(b));
            closing.add(t);
            brokers.add(t);
        }
        return brokers;
    }

    /** Subscribers to {@code loop/#}, one per broker, once every bridge carries messages both ways. */
    private List<Paho5Client> subscribersOnceBridged(List<TestBroker> brokers) {
        List<Paho5Client> subs = new ArrayList<>();
        for (TestBroker b : brokers) {
            Paho5Client c = Paho5Client.connect(b, "sub-" + b.port());
            closing.add(c);
            c.subscribe("$SYS/broker/connection/+/state", 1);
            subs.add(c);
        }
        // the state notifications come once both sides are subscribed; quiet afterwards
        await("every bridge up").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
            boolean quiet = true;
            for (Paho5Client c : subs) {
                quiet &= c.poll(100) == null;
            }
            return quiet && brokers.stream().allMatch(b ->
                    b.broker().bridges().all().get(0).state().equals("connected"));
        });
        await().pollDelay(Duration.ofSeconds(1)).until(() -> true);
        for (Paho5Client c : subs) {
            c.subscribe("loop/#", 1);
        }
        return subs;
    }

    private static long forwardingCounters(List<TestBroker> brokers) {
        long sum = 0;
        for (TestBroker b : brokers) {
            sum += b.broker().metrics().bridgeDuplicateDrops.sum() + b.broker().metrics().bridgeHopDrops.sum();
        }
        return sum;
    }

    /** Publishes once on the first broker: exactly one delivery per subscriber, no late copy, forwarding stopped. */
    private void onePublishOneDeliveryEach(List<TestBroker> brokers, List<Paho5Client> subs) {
        try (Paho5Client pub = Paho5Client.connect(brokers.get(0), "pub")) {
            pub.publish("loop/x", "once", 1, false);
        }
        List<List<String>> got = new ArrayList<>();
        for (int i = 0; i < subs.size(); i++) {
            got.add(new ArrayList<>());
        }
        long[] counters = {-1};
        List<String> userProperties = new java.util.concurrent.CopyOnWriteArrayList<>();
        // held for 5 s: a late copy, or a counter still moving (a copy still travelling), keeps it from holding
        await("one delivery per subscriber, then quiet").atMost(Duration.ofSeconds(60))
                .during(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(500)).until(() -> {
                    boolean one = true;
                    for (int i = 0; i < subs.size(); i++) {
                        Paho5Client.Received r;
                        while ((r = subs.get(i).poll(0)) != null) {
                            got.get(i).add(r.topic() + " " + r.payload());
                            r.properties().getUserProperties().forEach(u -> userProperties.add(u.getKey()));
                        }
                        one &= got.get(i).size() == 1;
                    }
                    long now = forwardingCounters(brokers);
                    boolean stable = now == counters[0];
                    counters[0] = now;
                    return one && stable;
                });
        for (int i = 0; i < subs.size(); i++) {
            assertThat(got.get(i)).as("deliveries on broker %d", i).containsExactly("loop/x once");
        }
        assertThat(userProperties).as("the origin id is for bridges, not for clients")
                .doesNotContain("ternmq-bridge-origin");
        assertThat(brokers.stream().mapToLong(b -> b.broker().metrics().bridgeDuplicateDrops.sum()).sum())
                .as("copies over the other paths dropped as duplicates").isPositive();
    }

    @Test
    @DisplayName("two brokers bridged both ways with topic # both 1: one delivery per subscriber, forwarding stops")
    void twoBrokersTowardEachOther() throws Exception {
        int[] ports = {freePort(), freePort()};
        List<TestBroker> brokers = brokers(ports, new int[]{1, 0});
        onePublishOneDeliveryEach(brokers, subscribersOnceBridged(brokers));
    }

    @Test
    @DisplayName("a triangle of bridges A→B→C→A, all both: one delivery per subscriber, forwarding stops")
    void triangle() throws Exception {
        int[] ports = {freePort(), freePort(), freePort()};
        List<TestBroker> brokers = brokers(ports, new int[]{1, 2, 0});
        onePublishOneDeliveryEach(brokers, subscribersOnceBridged(brokers));
    }
}
