package io.ternmq.broker.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ternmq.broker.config.BridgeSettings;
import io.ternmq.broker.config.ConfigFileParser;
import io.ternmq.broker.testing.Closing;
import io.ternmq.broker.testing.MosquittoProcess;
import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.TestBroker;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Brokers bridged into loops with {@code topic # both 1}. At MQTT 5, TernMQ brokers two toward each other, and a
 * triangle: one publish must give one delivery per subscriber on every broker, and the forwarding must stop: the
 * copies that travel the other paths carry the message's {@code ternmq-bridge-origin} and are dropped where it arrived
 * before. At MQTT 3.1.1 (no properties), TernMQ and Mosquitto, or two TernMQs, bridged toward each other: each
 * message once on each broker, the pair of bridges recognised from the remote's bridge notifications.
 */
class BridgeLoopTest {
    @RegisterExtension
    final Closing closing = new Closing();

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

    /** Brokers on the given ports, broker i bridged toward broker {@code toward[i]}. */
    private List<TestBroker> brokers(int[] ports, int[] toward) throws Exception {
        return brokers(ports, toward, "mqttv50");
    }

    private List<TestBroker> brokers(int[] ports, int[] toward, String protocol) throws Exception {
        List<TestBroker> brokers = new ArrayList<>();
        for (int i = 0; i < ports.length; i++) {
            int port = ports[i];
            List<BridgeSettings> b = bridge("bridge-" + i + "-to-" + toward[i], ports[toward[i]], protocol);
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

    // ------------------------------------------------------------------ MQTT 3.1.1: no origin ids

    private static final int EACH_SIDE = 20;
    private static final int IDENTICAL = 5;

    /**
     * Publishes on both brokers, {@value #EACH_SIDE} distinct messages each and {@value #IDENTICAL} identical ones
     * each (the same topic and payload on both sides), then waits until each subscriber got every message and
     * nothing more comes for 5 s: each distinct message exactly once on each broker, the identical ones
     * 2 × {@value #IDENTICAL} times.
     */
    private static void eachMessageOnceOnEachSide(String uriA, String uriB) {
        List<String> expected = new ArrayList<>();
        try (Paho5Client subA = Paho5Client.connect(uriA, "sub-a", Paho5Client.options(true));
             Paho5Client subB = Paho5Client.connect(uriB, "sub-b", Paho5Client.options(true));
             Paho5Client pubA = Paho5Client.connect(uriA, "pub-a", Paho5Client.options(true));
             Paho5Client pubB = Paho5Client.connect(uriB, "pub-b", Paho5Client.options(true))) {
            subA.subscribe("loop/#", 1);
            subB.subscribe("loop/#", 1);
            for (int i = 0; i < EACH_SIDE; i++) {
                pubA.publish("loop/a", "a-" + i, 1, false);
                pubB.publish("loop/b", "b-" + i, 1, false);
                expected.add("loop/a a-" + i);
                expected.add("loop/b b-" + i);
            }
            for (int i = 0; i < IDENTICAL; i++) {
                pubA.publish("loop/same", "same", 1, false);
                pubB.publish("loop/same", "same", 1, false);
                expected.add("loop/same same");
                expected.add("loop/same same");
            }
            List<String> gotA = new ArrayList<>();
            List<String> gotB = new ArrayList<>();
            try {
                await("every message on both brokers, then 5 s quiet").atMost(Duration.ofSeconds(60))
                        .during(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(250)).until(() -> {
                            drainInto(subA, gotA);
                            drainInto(subB, gotB);
                            return gotA.size() == expected.size() && gotB.size() == expected.size();
                        });
            } catch (ConditionTimeoutException e) {
                // the assertions below say what is missing or extra
            }
            assertThat(gotA).as("deliveries on the first broker").containsExactlyInAnyOrderElementsOf(expected);
            assertThat(gotB).as("deliveries on the second broker").containsExactlyInAnyOrderElementsOf(expected);
        }
    }

    private static void drainInto(Paho5Client c, List<String> into) {
        Paho5Client.Received r;
        while ((r = c.poll(0)) != null) {
            into.add(r.topic() + " " + r.payload());
        }
    }

    @Test
    @DisplayName("TernMQ and Mosquitto bridged toward each other at 3.1.1 (try_private), topic # both 1: each message "
            + "once on each broker")
    void ternMqAndMosquittoTowardEachOtherAt311(@TempDir Path tmp) throws Exception {
        MosquittoProcess.requireInstalled();
        int ternPort = freePort();
        MosquittoProcess mosquitto = MosquittoProcess.start(tmp, "connection tern",
                "address 127.0.0.1:" + ternPort, "remote_clientid mosq-to-tern", "bridge_protocol_version mqttv311",
                "try_private true", "topic # both 1", "restart_timeout 1");
        closing.add(mosquitto);
        List<BridgeSettings> b = ConfigFileParser.parse("bridge.conf", List.of("connection m",
                "address 127.0.0.1:" + mosquitto.port(), "remote_clientid tern-to-mosq",
                "bridge_protocol_version mqttv311", "restart_timeout 1", "topic # both 1")).build().bridges();
        TestBroker tern = TestBroker.start(c -> c.clearListeners().listener("127.0.0.1", ternPort).bridges(b));
        closing.add(tern);
        // TernMQ's bridge learned Mosquitto's bridge toward it, and that one is connected here
        await("TernMQ's bridge knows Mosquitto's").atMost(Duration.ofSeconds(60)).until(() ->
                tern.broker().bridges().all().get(0).remoteBridges().contains("mosq-to-tern"));
        awaitRetained(tern.uri(), "$SYS/broker/connection/mosq-to-tern/state", "1");
        awaitRetained(mosquitto.uri(), "$SYS/broker/connection/tern-to-mosq/state", "1");
        eachMessageOnceOnEachSide(tern.uri(), mosquitto.uri());
        assertThat(tern.broker().metrics().bridgeDuplicateDrops.sum()).as("copies dropped on TernMQ").isPositive();
    }

    @Test
    @DisplayName("two TernMQ brokers bridged toward each other at 3.1.1, topic # both 1: each message once on each")
    void twoTernMqTowardEachOtherAt311() throws Exception {
        int[] ports = {freePort(), freePort()};
        List<TestBroker> brokers = brokers(ports, new int[]{1, 0}, "mqttv311");
        await("each bridge knows the other").atMost(Duration.ofSeconds(60)).until(() ->
                brokers.get(0).broker().bridges().all().get(0).remoteBridges().contains("bridge-1-to-0")
                        && brokers.get(1).broker().bridges().all().get(0).remoteBridges().contains("bridge-0-to-1"));
        for (TestBroker t : brokers) {
            await("bridge connected").atMost(Duration.ofSeconds(60)).until(() ->
                    t.broker().bridges().all().get(0).state().equals("connected"));
        }
        awaitRetained(brokers.get(0).uri(), "$SYS/broker/connection/bridge-1-to-0/state", "1");
        awaitRetained(brokers.get(1).uri(), "$SYS/broker/connection/bridge-0-to-1/state", "1");
        eachMessageOnceOnEachSide(brokers.get(0).uri(), brokers.get(1).uri());
    }

    /** Waits until a retained message says {@code value} (a bridge's state: its subscriptions are made then). */
    private static void awaitRetained(String uri, String topic, String value) {
        try (Paho5Client watcher = Paho5Client.connect(uri, "watcher-" + System.nanoTime(),
                Paho5Client.options(true))) {
            watcher.subscribe(topic, 1);
            await(topic + " " + value).atMost(Duration.ofSeconds(60)).until(() -> {
                Paho5Client.Received r = watcher.poll(200);
                return r != null && r.payload().equals(value);
            });
        }
    }

    @Test
    @DisplayName("bridge_hop_limit: a message that crossed the limit is not forwarded again, counted (MQTT 5 chain)")
    void hopLimitStopsForwarding() throws Exception {
        int[] ports = {freePort(), freePort(), freePort()};
        // A -> B -> C, each bridge out only; B forwards nothing that crossed one bridge already
        TestBroker c = TestBroker.start(b -> b.clearListeners().listener("127.0.0.1", ports[2]));
        closing.add(c);
        List<BridgeSettings> bToC = ConfigFileParser.parse("bridge.conf", List.of("connection b-to-c",
                "address 127.0.0.1:" + ports[2], "remote_clientid b-to-c", "bridge_protocol_version mqttv50",
                "restart_timeout 1", "bridge_hop_limit 1", "topic hop/# out 1")).build().bridges();
        TestBroker b = TestBroker.start(x -> x.clearListeners().listener("127.0.0.1", ports[1]).bridges(bToC));
        closing.add(b);
        List<BridgeSettings> aToB = ConfigFileParser.parse("bridge.conf", List.of("connection a-to-b",
                "address 127.0.0.1:" + ports[1], "remote_clientid a-to-b", "bridge_protocol_version mqttv50",
                "restart_timeout 1", "topic hop/# out 1")).build().bridges();
        TestBroker a = TestBroker.start(x -> x.clearListeners().listener("127.0.0.1", ports[0]).bridges(aToB));
        closing.add(a);
        awaitRetained(b.uri(), "$SYS/broker/connection/a-to-b/state", "1");
        awaitRetained(b.uri(), "$SYS/broker/connection/b-to-c/state", "1");
        try (Paho5Client onB = Paho5Client.connect(b, "sub-b");
             Paho5Client onC = Paho5Client.connect(c, "sub-c");
             Paho5Client pubB = Paho5Client.connect(b, "pub-b");
             Paho5Client pubA = Paho5Client.connect(a, "pub-a")) {
            onB.subscribe("hop/#", 1);
            onC.subscribe("hop/#", 1);
            pubA.publish("hop/x", "from a", 1, false);
            Paho5Client.Received r = onB.next();
            assertThat(r.payload()).isEqualTo("from a");
            assertThat(r.properties().getUserProperties()).anySatisfy(u -> {
                assertThat(u.getKey()).isEqualTo("ternmq-bridge-hops");
                assertThat(u.getValue()).isEqualTo("1");
            });
            await("the hop drop counted on B").atMost(Duration.ofSeconds(30)).until(() ->
                    b.broker().metrics().bridgeHopDrops.sum() == 1);
            // published on B itself: crosses to C (and shows the message from A would have arrived before it)
            pubB.publish("hop/y", "from b", 1, false);
            assertThat(onC.next().payload()).isEqualTo("from b");
            assertThat(onC.poll(500)).isNull();
        }
    }
}
