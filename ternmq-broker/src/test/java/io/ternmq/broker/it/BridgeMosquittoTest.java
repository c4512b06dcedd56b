package io.ternmq.broker.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ternmq.broker.config.BridgeSettings;
import io.ternmq.broker.config.ConfigFileParser;
import io.ternmq.broker.testing.Closing;
import io.ternmq.broker.testing.MosquittoProcess;
import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.broker.testing.TestPki;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Bridges between TernMQ and a real Mosquitto process: TernMQ's bridge toward Mosquitto (directions, prefixes, QoS,
 * retained, MQTT 3.1.1 and 5), Mosquitto's bridge toward TernMQ (try_private at 3.1.1, and MQTT 5), and the bridge's
 * queue while Mosquitto is away (durable across a TernMQ restart, bounded with counted drops).
 */
class BridgeMosquittoTest {
    private static final Duration LONG = Duration.ofSeconds(60);

    @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS)
    Path tmp;

    @RegisterExtension
    final Closing closing = new Closing();

    @BeforeAll
    static void requireMosquitto() {
        MosquittoProcess.requireInstalled();
    }

    private static List<BridgeSettings> bridges(String... lines) {
        return ConfigFileParser.parse("bridge.conf", List.of(lines)).build().bridges();
    }

    private TestBroker ternWithBridge(String... lines) {
        List<BridgeSettings> b = bridges(lines);
        return closing.add(TestBroker.start(c -> c.bridges(b)));
    }

    /** Waits until the bridge's retained state on this broker says connected (its subscriptions are made then). */
    private void awaitBridgeState(String uri, String stateTopic, String state) {
        try (Paho5Client watcher = Paho5Client.connect(uri, "state-watcher-" + System.nanoTime(),
                Paho5Client.options(true))) {
            watcher.subscribe(stateTopic, 1);
            await("bridge state " + state + " on " + uri).atMost(LONG).until(() -> {
                Paho5Client.Received r = watcher.poll(200);
                return r != null && r.payload().equals(state);
            });
        }
    }

    @ParameterizedTest(name = "bridge_protocol_version {0}")
    @ValueSource(strings = {"mqttv311", "mqttv50"})
    @DisplayName("TernMQ -> Mosquitto: out/in/both with prefixes, QoS 0/1/2, retained")
    void ternMqBridgesToMosquitto(String protocol) throws Exception {
        MosquittoProcess mosquitto = closing.add(MosquittoProcess.start(tmp));
        TestBroker tern = ternWithBridge("connection m",
                "address 127.0.0.1:" + mosquitto.port(),
                "bridge_protocol_version " + protocol,
                "remote_clientid tern-edge",
                "topic sensors/# out 1 local/ remote/",
                "topic cmd/# in 2 \"\" far/",
                "topic chat/# both 0",
                "topic retained/# out 1");
        awaitBridgeState(tern.uri(), "$SYS/broker/connection/tern-edge/state", "1");
        // the remote notification is Mosquitto's format: retained "1"
        awaitBridgeState(mosquitto.uri(), "$SYS/broker/connection/tern-edge/state", "1");

        try (Paho5Client onTern = Paho5Client.connect(tern, "tern-client");
             Paho5Client onMosquitto = Paho5Client.connect(mosquitto.uri(), "mosq-client",
                     Paho5Client.options(true))) {
            onMosquitto.subscribe("remote/#", 2);
            onMosquitto.subscribe("chat/#", 2);
            onTern.subscribe("cmd/#", 2);
            onTern.subscribe("chat/#", 2);

            // out, QoS 1, prefixes swapped
            onTern.publish("local/sensors/t1", "21.5", 1, false);
            Paho5Client.Received r = onMosquitto.next();
            assertThat(r.topic()).isEqualTo("remote/sensors/t1");
            assertThat(r.payload()).isEqualTo("21.5");
            assertThat(r.message().getQos()).isEqualTo(1);

            // in, QoS 2: the remote prefix removed, no local prefix
            onMosquitto.publish("far/cmd/reboot", "now", 2, false);
            r = onTern.next();
            assertThat(r.topic()).isEqualTo("cmd/reboot");
            assertThat(r.payload()).isEqualTo("now");
            assertThat(r.message().getQos()).isEqualTo(2);

            // both, QoS 0, each way once: no echo back over the bridge
            onTern.publish("chat/a", "from tern", 0, false);
            assertThat(onTern.next().payload()).isEqualTo("from tern");
            assertThat(onMosquitto.next().payload()).isEqualTo("from tern");
            onMosquitto.publish("chat/b", "from mosquitto", 0, false);
            assertThat(onMosquitto.next().payload()).isEqualTo("from mosquitto");
            assertThat(onTern.next().payload()).isEqualTo("from mosquitto");
            assertThat(onTern.poll(500)).as("echo on TernMQ").isNull();
            assertThat(onMosquitto.poll(500)).as("echo on Mosquitto").isNull();
        }

        // retained: kept by Mosquitto for a later subscriber
        try (Paho5Client onTern = Paho5Client.connect(tern, "tern-retainer")) {
            onTern.publish("retained/config", "v1", 1, true);
        }
        await("retained copy on Mosquitto").atMost(LONG).untilAsserted(() -> {
            try (Paho5Client late = Paho5Client.connect(mosquitto.uri(), "late-" + System.nanoTime(),
                    Paho5Client.options(true))) {
                late.subscribe("retained/#", 1);
                Paho5Client.Received got = late.poll(1000);
                assertThat(got).isNotNull();
                assertThat(got.payload()).isEqualTo("v1");
                assertThat(got.message().isRetained()).isTrue();
            }
        });
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"bridge_protocol_version mqttv311\ntry_private true",
        "bridge_protocol_version mqttv31\ntry_private true", "bridge_protocol_version mqttv50"})
    @DisplayName("Mosquitto -> TernMQ: try_private at 3.1.1 and 3.1 (CONNECT level 0x84, 0x83) and MQTT 5; nothing "
            + "echoes back")
    void mosquittoBridgesToTernMq(String protocolLines) {
        TestBroker tern = closing.add(TestBroker.start());
        List<String> conf = new ArrayList<>(List.of("connection tern",
                "address 127.0.0.1:" + tern.port(),
                "remote_clientid mosq-bridge",
                "topic # both 1",
                "restart_timeout 1"));
        conf.addAll(List.of(protocolLines.split("\n")));
        MosquittoProcess mosquitto = closing.add(MosquittoProcess.start(tmp, conf.toArray(String[]::new)));
        awaitBridgeState(tern.uri(), "$SYS/broker/connection/mosq-bridge/state", "1");

        try (Paho5Client onTern = Paho5Client.connect(tern, "tern-client");
             Paho5Client onMosquitto = Paho5Client.connect(mosquitto.uri(), "mosq-client",
                     Paho5Client.options(true))) {
            onTern.subscribe("data/#", 1);
            onMosquitto.subscribe("data/#", 1);
            // Mosquitto subscribes on TernMQ once connected: retry until the first message crosses
            await("Mosquitto -> TernMQ").atMost(LONG).until(() -> {
                onMosquitto.publish("data/probe", "probe", 1, false);
                Paho5Client.Received r = onTern.poll(500);
                return r != null && r.payload().equals("probe");
            });
            drain(onTern);
            drain(onMosquitto);

            onMosquitto.publish("data/m", "from mosquitto", 1, false);
            assertThat(onTern.next().payload()).isEqualTo("from mosquitto");
            onTern.publish("data/t", "from tern", 1, false);
            assertThat(onMosquitto.next().payload()).isEqualTo("from mosquitto");
            assertThat(onMosquitto.next().payload()).isEqualTo("from tern");
            // TernMQ treated Mosquitto's connection as a bridge (no-local): neither message came back to it
            assertThat(onMosquitto.poll(1000)).as("echo on Mosquitto").isNull();
            assertThat(onTern.next().payload()).isEqualTo("from tern");
            assertThat(onTern.poll(1000)).as("echo on TernMQ").isNull();
        }
    }

    private static void drain(Paho5Client c) {
        while (c.poll(300) != null) {
            // left from the probing
        }
    }

    @Test
    @DisplayName("Mosquitto stopped, 10,000 QoS 1 published, TernMQ restarted, Mosquitto started: all arrive in order")
    void backlogSurvivesRestartAndArrivesInOrder() throws Exception {
        MosquittoProcess mosquitto = closing.add(MosquittoProcess.start(tmp, "persistence true",
                "persistence_location " + tmp + "/", "max_queued_messages 0", "max_inflight_messages 0"));
        TestBroker tern = ternWithBridge("connection m",
                "address 127.0.0.1:" + mosquitto.port(),
                "remote_clientid tern-edge",
                "restart_timeout 1 2",
                "topic load/# out 1");
        awaitBridgeState(tern.uri(), "$SYS/broker/connection/tern-edge/state", "1");
        // a persistent subscriber on Mosquitto, offline while the messages come
        try (PahoClient sub = PahoClient.connect(mosquitto.uri(), "mosq-sub", false)) {
            sub.subscribe("load/#", 1);
        }

        mosquitto.stop();
        awaitBridgeState(tern.uri(), "$SYS/broker/connection/tern-edge/state", "0");
        int n = 10_000;
        publishNumbered(tern.port(), n);
        tern.restart();
        mosquitto.restart();

        List<String> got = new ArrayList<>();
        try (PahoClient back = PahoClient.connect(mosquitto.uri(), "mosq-sub", false)) {
            await("all " + n + " messages on Mosquitto").atMost(Duration.ofSeconds(120)).until(() -> {
                PahoClient.Received r;
                while ((r = back.poll(100)) != null) {
                    got.add(r.payload());
                }
                return got.contains(Integer.toString(n - 1));
            });
        }
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            expected.add(Integer.toString(i));
        }
        // at least once: a resend after the restart may repeat the messages that were in flight
        assertThat(got.stream().distinct().toList()).containsExactlyElementsOf(expected);
    }

    /** Publishes "0".."n-1" at QoS 1 on load/x with mosquitto_pub -l (pipelined), and waits until all are acked. */
    private void publishNumbered(int port, int n) throws Exception {
        Path lines = tmp.resolve("lines-" + System.nanoTime());
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append(i).append('\n');
        }
        java.nio.file.Files.writeString(lines, sb);
        Process p = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(port), "-q", "1",
                "-t", "load/x", "-i", "numbered-publisher", "-l")
                .redirectInput(lines.toFile()).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("pub.log").toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("mosquitto_pub done").isTrue();
        assertThat(p.exitValue()).as(java.nio.file.Files.readString(tmp.resolve("pub.log"))).isZero();
    }

    @Test
    @DisplayName("bridge_max_queued_messages 1000 with the remote down: 10,000 published, exactly 9,000 counted drops")
    void boundedQueueCountsDrops() throws Exception {
        MosquittoProcess mosquitto = closing.add(MosquittoProcess.start(tmp, "persistence true",
                "persistence_location " + tmp + "/", "max_queued_messages 0", "max_inflight_messages 0"));
        try (PahoClient sub = PahoClient.connect(mosquitto.uri(), "mosq-sub", false)) {
            sub.subscribe("load/#", 1);
        }
        mosquitto.stop();
        TestBroker tern = ternWithBridge("connection m",
                "address 127.0.0.1:" + mosquitto.port(),
                "remote_clientid tern-edge",
                "restart_timeout 1",
                "bridge_max_queued_messages 1000",
                "topic load/# out 1");
        publishNumbered(tern.port(), 10_000);
        // acknowledged once stored; the drop that makes room is counted on the bridge's loop right after
        await("9,000 drops counted").atMost(LONG)
                .until(() -> tern.broker().metrics().bridgeQueueDrops.sum() >= 9_000);
        assertThat(tern.broker().metrics().bridgeQueueDrops.sum()).isEqualTo(9_000);
        assertThat(tern.broker().metrics().queueOverflowDrops.sum()).isZero();
        try (io.ternmq.broker.admin.PrometheusMetrics prometheus = new io.ternmq.broker.admin.PrometheusMetrics(
                tern.broker().metrics(), tern.broker().service(), tern.broker().store())) {
            assertThat(prometheus.scrape()).contains("ternmq_bridge_queue_drops_total 9000.0")
                    .contains("ternmq_messages_dropped_total{reason=\"bridge_queue_full\"} 9000.0");
        }

        // what was kept, the newest 1,000, goes out once the remote is back
        mosquitto.restart();
        List<String> got = new ArrayList<>();
        try (PahoClient back = PahoClient.connect(mosquitto.uri(), "mosq-sub", false)) {
            await("the kept 1,000").atMost(LONG).until(() -> {
                PahoClient.Received r;
                while ((r = back.poll(100)) != null) {
                    got.add(r.payload());
                }
                return got.contains("9999");
            });
        }
        assertThat(got).hasSize(1000).startsWith("9000").endsWith("9999");
    }

    @Test
    @DisplayName("TLS toward Mosquitto with a test CA and a client certificate; a bridge trusting another CA stays out")
    void tlsWithTestCa() throws Exception {
        TestPki pki = TestPki.create(tmp);
        TestPki.Issued server = pki.server("mosquitto");
        TestPki.Issued client = pki.client("bridge");
        MosquittoProcess mosquitto = closing.add(MosquittoProcess.start(tmp,
                "cafile " + pki.ca.certFile(), "certfile " + server.certFile(), "keyfile " + server.keyFile(),
                "require_certificate true"));
        TestBroker tern = ternWithBridge("connection secure",
                "address 127.0.0.1:" + mosquitto.port(),
                "remote_clientid tern-tls",
                "bridge_cafile " + pki.ca.certFile(),
                "bridge_certfile " + client.certFile(),
                "bridge_keyfile " + client.keyFile(),
                "bridge_tls_version tlsv1.2",
                "topic secure/# out 1",
                "connection untrusting",
                "address 127.0.0.1:" + mosquitto.port(),
                "remote_clientid tern-wrong-ca",
                "bridge_cafile " + pki.otherCa.certFile(),
                "topic secure/# out 1");
        awaitBridgeState(tern.uri(), "$SYS/broker/connection/tern-tls/state", "1");
        try (Paho5Client onTern = Paho5Client.connect(tern, "tern-client")) {
            onTern.publish("secure/x", "over tls", 1, false);
        }
        // Mosquitto listens with TLS and client certificates only, so its log is the witness
        await("the message through TLS, logged by Mosquitto").atMost(LONG)
                .until(() -> mosquitto.output().contains("Received PUBLISH from tern-tls (d0, q1, r0, m"));
        assertThat(mosquitto.output()).as("the untrusting bridge never got past the handshake")
                .doesNotContain("as tern-wrong-ca");
        assertThat(tern.broker().bridges().all().get(1).state()).isNotEqualTo("connected");
    }

    /** The retained messages a new subscriber to {@code filter} on {@code uri} gets: "topic=payload" each. */
    private static List<String> retainedOn(String uri, String filter) {
        List<String> got = new ArrayList<>();
        try (Paho5Client late = Paho5Client.connect(uri, "late-" + System.nanoTime(), Paho5Client.options(true))) {
            late.subscribe(filter, 1);
            Paho5Client.Received r;
            while ((r = late.poll(1000)) != null) {
                if (r.message().isRetained()) {
                    got.add(r.topic() + "=" + r.payload());
                }
            }
        }
        return got;
    }

    @Test
    @DisplayName("retained messages and retained deletes made while Mosquitto is away reach it on reconnect; "
            + "bridge_outgoing_retain false forwards without the retain flag")
    void retainedChangesQueuedWhileRemoteAway() throws Exception {
        MosquittoProcess mosquitto = closing.add(MosquittoProcess.start(tmp, "persistence true",
                "persistence_location " + tmp + "/"));
        TestBroker tern = ternWithBridge("connection m",
                "address 127.0.0.1:" + mosquitto.port(),
                "remote_clientid tern-edge",
                "restart_timeout 1",
                "topic cfg/# out 1",
                "connection unretained",
                "address 127.0.0.1:" + mosquitto.port(),
                "remote_clientid tern-unretained",
                "restart_timeout 1",
                "bridge_outgoing_retain false",
                "topic plain/# out 1");
        awaitBridgeState(tern.uri(), "$SYS/broker/connection/tern-edge/state", "1");
        awaitBridgeState(tern.uri(), "$SYS/broker/connection/tern-unretained/state", "1");
        try (Paho5Client onTern = Paho5Client.connect(tern, "tern-retainer");
             Paho5Client live = Paho5Client.connect(mosquitto.uri(), "mosq-live", Paho5Client.options(true))) {
            live.subscribe("plain/#", 1);
            onTern.publish("cfg/a", "v0", 1, true);
            onTern.publish("cfg/b", "old", 1, true);
            onTern.publish("plain/x", "not kept", 1, true);
            Paho5Client.Received r = live.next();
            assertThat(r.payload()).isEqualTo("not kept");
            assertThat(r.message().isRetained()).as("bridge_outgoing_retain false").isFalse();
        }
        await("both retained on Mosquitto").atMost(LONG).until(() ->
                retainedOn(mosquitto.uri(), "cfg/#").size() == 2);
        assertThat(retainedOn(mosquitto.uri(), "plain/#")).as("nothing kept through the unretained bridge").isEmpty();

        mosquitto.stop();
        awaitBridgeState(tern.uri(), "$SYS/broker/connection/tern-edge/state", "0");
        try (Paho5Client onTern = Paho5Client.connect(tern, "tern-retainer")) {
            onTern.publish("cfg/a", "", 1, true); // a retained delete
            onTern.publish("cfg/b", "new", 1, true);
            onTern.publish("cfg/c", "added", 1, true);
        }
        mosquitto.restart();
        await("Mosquitto's retained messages as TernMQ's").atMost(LONG).untilAsserted(() ->
                assertThat(retainedOn(mosquitto.uri(), "cfg/#")).containsExactlyInAnyOrder("cfg/b=new",
                        "cfg/c=added"));
    }

    @Test
    @DisplayName("addresses: the first refuses, the bridge connects to the next")
    void nextAddressWhenTheFirstRefuses() throws Exception {
        int refusing;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            refusing = s.getLocalPort(); // closed again: nothing listens there
        }
        MosquittoProcess mosquitto = closing.add(MosquittoProcess.start(tmp));
        TestBroker tern = ternWithBridge("connection m",
                "addresses 127.0.0.1:" + refusing + " 127.0.0.1:" + mosquitto.port(),
                "remote_clientid tern-edge",
                "restart_timeout 1",
                "topic up/# out 1");
        awaitBridgeState(mosquitto.uri(), "$SYS/broker/connection/tern-edge/state", "1");
        try (Paho5Client onTern = Paho5Client.connect(tern, "tern-client");
             Paho5Client onMosquitto = Paho5Client.connect(mosquitto.uri(), "mosq-client",
                     Paho5Client.options(true))) {
            onMosquitto.subscribe("up/#", 1);
            onTern.publish("up/x", "via the second address", 1, false);
            assertThat(onMosquitto.next().payload()).isEqualTo("via the second address");
        }
    }

    @Test
    @DisplayName("two bridges with one remote_clientid take it from each other on Mosquitto (MQTT 5): logged as a "
            + "conflict")
    void takeoverOfTheRemoteClientIdIsLoggedAsConflict() {
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                io.ternmq.broker.bridge.Bridge.class.getPackageName());
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log =
                new ch.qos.logback.core.read.ListAppender<>();
        log.start();
        logger.addAppender(log);
        try {
            MosquittoProcess mosquitto = closing.add(MosquittoProcess.start(tmp));
            ternWithBridge("connection first",
                    "address 127.0.0.1:" + mosquitto.port(),
                    "remote_clientid shared-id",
                    "local_clientid first",
                    "bridge_protocol_version mqttv50",
                    "restart_timeout 1",
                    "topic up/# out 1",
                    "connection second",
                    "address 127.0.0.1:" + mosquitto.port(),
                    "remote_clientid shared-id",
                    "local_clientid second",
                    "bridge_protocol_version mqttv50",
                    "restart_timeout 1",
                    "topic up/# out 1");
            await("a conflict logged").atMost(LONG).until(() -> List.copyOf(log.list).stream().anyMatch(e ->
                    e.getLevel() == ch.qos.logback.classic.Level.WARN
                            && e.getFormattedMessage().contains("took remote_clientid 'shared-id' over")
                            && e.getFormattedMessage().contains("a conflict")));
        } finally {
            logger.detachAppender(log);
        }
    }

    @Test
    @DisplayName("remote_username/remote_password: Mosquitto with a password file accepts the right ones; wrong ones "
            + "are refused (CONNACK 5) and the bridge keeps trying")
    void remoteCredentials() throws Exception {
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                io.ternmq.broker.bridge.Bridge.class.getPackageName());
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> refusals =
                new ch.qos.logback.core.read.ListAppender<>();
        refusals.start();
        logger.addAppender(refusals);
        closing.add(() -> logger.detachAppender(refusals));
        Path passwords = tmp.resolve("passwords");
        Process p = new ProcessBuilder("mosquitto_passwd", "-b", "-c", passwords.toString(), "edge", "s3cret")
                .redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        MosquittoProcess mosquitto = closing.add(MosquittoProcess.start(tmp, "password_file " + passwords,
                "per_listener_settings false"));
        // MosquittoProcess allows anonymous clients; the password file still refuses a wrong password
        TestBroker tern = ternWithBridge("connection good",
                "address 127.0.0.1:" + mosquitto.port(),
                "remote_clientid tern-good",
                "remote_username edge",
                "remote_password s3cret",
                "restart_timeout 1",
                "topic up/# out 1",
                "connection bad",
                "address 127.0.0.1:" + mosquitto.port(),
                "remote_clientid tern-bad",
                "remote_username edge",
                "remote_password wrong",
                "restart_timeout 1",
                "topic up/# out 1");
        awaitBridgeState(tern.uri(), "$SYS/broker/connection/tern-good/state", "1");
        assertThat(mosquitto.output()).contains("as tern-good (p2, c0, k60, u'edge')");
        await("the wrong password refused, twice: the bridge keeps trying").atMost(LONG).until(() ->
                refusals.list.stream().filter(e -> e.getFormattedMessage().startsWith("Bridge bad: ")
                        && e.getFormattedMessage().contains("refused the connection (CONNACK 0x5)")).count() >= 2);
        assertThat(mosquitto.output()).doesNotContain("as tern-bad");
    }

    @ParameterizedTest(name = "round_robin {0}")
    @ValueSource(booleans = {false, true})
    @DisplayName("addresses main, second, third, the main one down at first: without round_robin the bridge leaves "
            + "the second for the main one once it answers; with it, it stays until the second ends, then the third")
    void roundRobin(boolean roundRobin) throws Exception {
        // each in a directory of its own: its log tells whether the bridge came
        MosquittoProcess main = closing.add(MosquittoProcess.start(java.nio.file.Files.createDirectories(
                tmp.resolve("main"))));
        main.stop(); // down at first: the bridge goes on to the second
        MosquittoProcess second = closing.add(MosquittoProcess.start(java.nio.file.Files.createDirectories(
                tmp.resolve("second"))));
        MosquittoProcess third = closing.add(MosquittoProcess.start(java.nio.file.Files.createDirectories(
                tmp.resolve("third"))));
        ternWithBridge("connection m",
                "addresses 127.0.0.1:" + main.port() + " 127.0.0.1:" + second.port() + " 127.0.0.1:" + third.port(),
                "round_robin " + roundRobin,
                "remote_clientid tern-edge",
                "restart_timeout 1",
                "topic up/# out 1");
        awaitBridgeState(second.uri(), "$SYS/broker/connection/tern-edge/state", "1");
        main.restart();
        if (roundRobin) {
            second.stop();
            awaitBridgeState(third.uri(), "$SYS/broker/connection/tern-edge/state", "1");
            assertThat(main.output()).doesNotContain("as tern-edge");
        } else {
            // the second keeps running: the bridge goes back to the main one by itself
            awaitBridgeState(main.uri(), "$SYS/broker/connection/tern-edge/state", "1");
            awaitBridgeState(second.uri(), "$SYS/broker/connection/tern-edge/state", "0");
            assertThat(third.output()).doesNotContain("as tern-edge");
        }
    }

    @Test
    @DisplayName("notification_topic: the state, retained 1 or 0, on that topic here and on Mosquitto; 0 there when "
            + "TernMQ stops")
    void customNotificationTopic() {
        MosquittoProcess mosquitto = closing.add(MosquittoProcess.start(tmp));
        TestBroker tern = ternWithBridge("connection m",
                "address 127.0.0.1:" + mosquitto.port(),
                "remote_clientid tern-edge",
                "notification_topic edge/bridge-state",
                "restart_timeout 1",
                "topic up/# out 1");
        awaitBridgeState(tern.uri(), "edge/bridge-state", "1");
        awaitBridgeState(mosquitto.uri(), "edge/bridge-state", "1");
        // a clean stop publishes 0 before the DISCONNECT (a crash leaves it to the will, also 0)
        tern.close();
        closing.remove(tern);
        awaitBridgeState(mosquitto.uri(), "edge/bridge-state", "0");
        assertThat(retainedOn(mosquitto.uri(), "$SYS/broker/connection/#")).as("not the default topic").isEmpty();
    }
}
