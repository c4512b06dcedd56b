package io.ternmq.broker.it.ops;

import io.ternmq.broker.security.PasswordFile;
import io.ternmq.broker.security.PasswordHash;
import io.ternmq.broker.testing.ExternalServer;
import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.PahoClient.Received;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.SecureBroker;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code $SYS/broker/...} against Debian's Mosquitto (2.0.11) run side by side: the same topics with values of the
 * same form; values that follow a scripted workload; who may read and write the tree.
 */
class SysTreeTest {
    private static final String MOSQUITTO = "/usr/sbin/mosquitto";
    private static final Pattern COUNT = Pattern.compile("0|[1-9][0-9]*");
    private static final Pattern LOAD = Pattern.compile("[0-9]+\\.[0-9]{2}");

    @TempDir
    Path dir;

    /** The form of each topic's value, as Mosquitto writes it. */
    private static Pattern expectedForm(String topic) {
        String name = topic.substring("$SYS/broker/".length());
        if (name.equals("version")) {
            return Pattern.compile("(mosquitto|TernMQ) version \\S+");
        }
        if (name.equals("uptime")) {
            return Pattern.compile("[0-9]+ seconds");
        }
        return name.startsWith("load/") ? LOAD : COUNT;
    }

    /** Every $SYS value a fresh subscriber gets, once the tree has at least {@code atLeast} topics. */
    private static Map<String, String> collect(String uri, int atLeast) {
        try (PahoClient c = PahoClient.connect(uri, "sys-reader", true)) {
            Map<String, String> values = new ConcurrentHashMap<>();
            c.subscribe("$SYS/#", 0);
            await().atMost(Duration.ofSeconds(15)).until(() -> {
                Received r;
                while ((r = c.received().poll()) != null) {
                    values.put(r.topic(), r.payload());
                }
                return values.size() >= atLeast;
            });
            return new TreeMap<>(values);
        }
    }

    @Test
    @DisplayName("$SYS: the same topics as Mosquitto 2.0.11's, each value in the same form")
    void sameTopicsAndFormsAsMosquitto() throws IOException {
        ExternalServer.assumeInstalled(MOSQUITTO, "mosquitto");
        Path conf = dir.resolve("mosquitto.conf");
        Map<String, String> mosquitto;
        try (ExternalServer m = ExternalServer.startOnFreePort(port -> {
            Files.writeString(conf, "listener " + port + " 127.0.0.1\nallow_anonymous true\nsys_interval 1\n");
            return ExternalServer.start(dir, "mosquitto", port, List.of(MOSQUITTO, "-c", conf.toString()));
        })) {
            mosquitto = collect("tcp://127.0.0.1:" + m.port(), 53);
        }
        assertThat(mosquitto).hasSize(53);
        Map<String, String> ternmq;
        try (TestBroker broker = TestBroker.start(b -> b.sysIntervalSeconds(1))) {
            ternmq = collect(broker.uri(), 53);
        }
        assertThat(ternmq.keySet()).containsExactlyElementsOf(mosquitto.keySet());
        for (Map<String, String> tree : List.of(mosquitto, ternmq)) {
            tree.forEach((topic, value) ->
                    assertThat(value).as(topic).matches(expectedForm(topic)));
        }
        assertThat(ternmq.get("$SYS/broker/version")).startsWith("TernMQ version ");
    }

    @Test
    @DisplayName("$SYS values follow a workload: clients connected, PUBLISHes and their bytes, subscriptions, retained")
    void valuesFollowWorkload() {
        int clients = 5;
        int messages = 40;
        int payload = 100;
        try (TestBroker broker = TestBroker.start(b -> b.sysIntervalSeconds(1))) {
            List<PahoClient> open = new ArrayList<>();
            try {
                for (int i = 0; i < clients; i++) {
                    open.add(PahoClient.connect(broker, "c" + i, true));
                }
                PahoClient subscriber = open.get(0).subscribe("work/#", 1);
                open.get(1).subscribe("$share/g/work/#", 1);
                PahoClient publisher = open.get(2);
                for (int i = 0; i < messages; i++) {
                    publisher.publish("work/" + i, new byte[payload], 1, i < 3);
                }
                for (int i = 0; i < messages; i++) {
                    subscriber.next();
                    open.get(1).next();
                }
                try (PahoClient reader = PahoClient.connect(broker, "reader", true)) {
                    Map<String, String> values = new ConcurrentHashMap<>();
                    reader.subscribe("$SYS/broker/#", 0);
                    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                        Received r;
                        while ((r = reader.received().poll()) != null) {
                            values.put(r.topic().substring("$SYS/broker/".length()), r.payload());
                        }
                        assertThat(values).containsEntry("clients/connected", String.valueOf(clients + 1))
                                .containsEntry("clients/active", String.valueOf(clients + 1))
                                .containsEntry("clients/total", String.valueOf(clients + 1))
                                .containsEntry("clients/disconnected", "0")
                                .containsEntry("publish/messages/received", String.valueOf(messages))
                                .containsEntry("publish/bytes/received", String.valueOf(messages * payload))
                                .containsEntry("subscriptions/count", "3") // work/#, the shared one, $SYS/broker/#
                                .containsEntry("shared_subscriptions/count", "1")
                                // the 53 $SYS topics are retained too, as Mosquitto counts them
                                .containsEntry("retained messages/count", String.valueOf(3 + 53));
                        assertThat(Long.parseLong(values.get("clients/maximum"))).isEqualTo(clients + 1);
                        // two receivers got every message; the reader gets $SYS PUBLISHes on top
                        assertThat(Long.parseLong(values.get("publish/messages/sent"))).isGreaterThanOrEqualTo(
                                2L * messages);
                        assertThat(Long.parseLong(values.get("publish/bytes/sent"))).isGreaterThanOrEqualTo(
                                2L * messages * payload);
                        // every PUBLISH, PUBACK, CONNECT, SUBSCRIBE... at least the QoS 1 PUBLISHes and PUBACKs
                        assertThat(Long.parseLong(values.get("messages/received"))).isGreaterThanOrEqualTo(
                                3L * messages + clients);
                        assertThat(Long.parseLong(values.get("bytes/received"))).isGreaterThan(
                                (long) messages * payload);
                        assertThat(Double.parseDouble(values.get("load/publish/received/1min"))).isPositive();
                    });
                }
            } finally {
                open.forEach(PahoClient::close);
            }
            // offline sessions: a client that keeps its session shows as disconnected
            try (PahoClient keeper = PahoClient.connect(broker, "keeper", false)) {
                keeper.subscribe("k", 1);
                keeper.disconnect();
            }
            try (PahoClient reader = PahoClient.connect(broker, "reader2", true)) {
                reader.subscribe("$SYS/broker/clients/+", 0);
                Map<String, String> values = new ConcurrentHashMap<>();
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                    Received r;
                    while ((r = reader.received().poll()) != null) {
                        values.put(r.topic(), r.payload());
                    }
                    assertThat(values).containsEntry("$SYS/broker/clients/disconnected", "1")
                            .containsEntry("$SYS/broker/clients/connected", "1")
                            .containsEntry("$SYS/broker/clients/total", "2");
                });
            }
        }
    }

    @Test
    @DisplayName("$SYS: '#' and '+' at the first level never match it")
    void wildcardsDoNotMatchSys() {
        try (TestBroker broker = TestBroker.start(b -> b.sysIntervalSeconds(1));
             PahoClient wide = PahoClient.connect(broker, "wide", true);
             PahoClient sys = PahoClient.connect(broker, "sys", true)) {
            wide.subscribe("#", 0).subscribe("+/broker/uptime", 0).subscribe("+/+/+", 0);
            sys.subscribe("$SYS/broker/uptime", 0);
            sys.next(); // retained
            sys.next(); // an update after both subscribed
            wide.publish("marker", "m", 1, false);
            await().atMost(Duration.ofSeconds(5)).until(() -> wide.received().stream()
                    .anyMatch(r -> r.topic().equals("marker")));
            assertThat(wide.received()).extracting(Received::topic).containsOnly("marker");
        }
    }

    @Test
    @DisplayName("sys_interval 0: nothing under $SYS")
    void sysIntervalZero() {
        try (TestBroker broker = TestBroker.start(b -> b.sysIntervalSeconds(0));
             PahoClient c = PahoClient.connect(broker, "c", true)) {
            c.subscribe("$SYS/#", 0).subscribe("marker", 1);
            c.publish("marker", "m", 1, false);
            // retained values would have come right after the SUBACK, before the marker
            assertThat(c.next().topic()).isEqualTo("marker");
            assertThat(broker.broker().router().retained().size()).isZero();
        }
    }

    @Test
    @DisplayName("$SYS cannot be published to: 3.1.1 acknowledged and discarded, 5.0 PUBACK 0x87; the value stays")
    void clientsCannotPublishToSys() {
        try (TestBroker broker = TestBroker.start(b -> b.sysIntervalSeconds(1));
             PahoClient reader = PahoClient.connect(broker, "reader", true)) {
            reader.subscribe("$SYS/broker/version", 0);
            String version = reader.next().payload();
            try (RawClient v5 = new RawClient(broker.port()).version(MqttVersion.MQTT_5)) {
                v5.send(new Connect(MqttVersion.MQTT_5, "v5", true, 60, null, null, null, MqttProperties.EMPTY));
                assertThat(v5.read(Connack.class).reasonCode()).isZero();
                v5.send(new Publish("$SYS/broker/version", QoS.AT_LEAST_ONCE, true, 1,
                        "spoofed".getBytes(StandardCharsets.UTF_8)));
                assertThat(v5.read(Puback.class).reasonCode()).isEqualTo(ReasonCode.NOT_AUTHORIZED);
            }
            try (PahoClient v3 = PahoClient.connect(broker, "v3", true)) {
                v3.publish("$SYS/broker/version", "spoofed", 1, true); // acknowledged: no exception
                v3.publish("$SYS", "spoofed", 1, true);
            }
            assertThat(broker.broker().metrics().publishesDenied.sum()).isEqualTo(3);
            assertThat(broker.broker().router().retained().get("$SYS/broker/version").payload())
                    .asString(StandardCharsets.UTF_8).isEqualTo(version);
            assertThat(broker.broker().router().retained().get("$SYS")).isNull();
            assertThat(reader.poll(200)).isNull();
        }
    }

    @Test
    @DisplayName("acl_file: reading $SYS needs 'topic read $SYS/#'; 'topic read #' does not cover it")
    void aclGuardsSys() throws IOException {
        Path passwd = dir.resolve("passwd");
        PasswordFile pf = PasswordFile.empty();
        for (String u : List.of("ops", "user")) {
            pf.put(new PasswordFile.Entry(u, PasswordHash.hash(u.toCharArray(), 1000), null));
        }
        pf.save(passwd);
        Path acl = dir.resolve("acl");
        Files.writeString(acl, String.join("\n", "user ops", "topic read $SYS/#", "user user", "topic readwrite #",
                ""));
        try (SecureBroker broker = SecureBroker.fromConfig("auth_failure_delay 0", "sys_interval 1",
                "listener 0 127.0.0.1", "password_file " + passwd, "acl_file " + acl)) {
            try (RawClient user = login(broker.port(), "user")) {
                user.send(new Subscribe(1, List.of(new TopicSubscription("$SYS/#", QoS.AT_MOST_ONCE),
                        new TopicSubscription("#", QoS.AT_MOST_ONCE)), MqttProperties.EMPTY));
                assertThat(user.read(Suback.class).reasonCodes()).containsExactly(ReasonCode.V3_SUBACK_FAILURE, 0);
                user.assertSilentFor(Duration.ofMillis(1500));
            }
            try (RawClient ops = login(broker.port(), "ops")) {
                ops.send(new Subscribe(1, List.of(new TopicSubscription("$SYS/broker/uptime", QoS.AT_MOST_ONCE)),
                        MqttProperties.EMPTY));
                assertThat(ops.read(Suback.class).reasonCodes()).containsExactly(0);
                assertThat(ops.read(Publish.class).topic()).isEqualTo("$SYS/broker/uptime");
            }
        }
    }

    private static RawClient login(int port, String user) {
        RawClient c = new RawClient(port);
        c.send(new Connect(MqttVersion.MQTT_3_1_1, user + "-client", true, 60, user,
                user.getBytes(StandardCharsets.UTF_8), null, MqttProperties.EMPTY));
        assertThat(c.read(Connack.class).reasonCode()).isZero();
        return c;
    }
}
