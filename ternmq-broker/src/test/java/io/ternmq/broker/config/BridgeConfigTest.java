package io.ternmq.broker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ternmq.codec.QoS;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

class BridgeConfigTest {

    private static BrokerConfig parse(String... lines) {
        return ConfigFileParser.parse("test.conf", List.of(lines)).build();
    }

    private static void assertError(String expectedMessage, String... lines) {
        assertThatThrownBy(() -> parse(lines)).isInstanceOf(ConfigException.class).hasMessage(expectedMessage);
    }

    @Test
    void everyKeyOfASection() {
        BrokerConfig c = parse(
                "connection cloud",
                "address broker.example.com:8883 backup.example.com",
                "round_robin true",
                "topic sensors/# out 1 local/ remote/",
                "topic cmd/+ in 2",
                "remote_clientid edge-1",
                "local_clientid bridge-edge-1",
                "remote_username edge",
                "remote_password secret",
                "local_username bridge",
                "cleansession true",
                "local_cleansession false",
                "bridge_protocol_version mqttv50",
                "try_private false",
                "keepalive_interval 30",
                "restart_timeout 2 60 120",
                "notifications false",
                "notification_topic bridges/cloud/state",
                "bridge_outgoing_retain false",
                "bridge_max_packet_size 65536",
                "bridge_cafile /etc/ca.crt",
                "bridge_certfile /etc/client.crt",
                "bridge_keyfile /etc/client.key",
                "bridge_insecure true",
                "bridge_tls_version tlsv1.3",
                "bridge_alpn mqtt",
                "bridge_max_queued_messages 5000",
                "bridge_max_queued_bytes 1000000",
                "bridge_queue_overflow refuse_new",
                "bridge_max_inflight 10",
                "bridge_ack_timeout 15",
                "bridge_publish_rate 2000",
                "bridge_hop_limit 3",
                "start_type automatic");
        assertThat(c.bridges()).hasSize(1);
        BridgeSettings b = c.bridges().get(0);
        assertThat(b.name()).isEqualTo("cloud");
        assertThat(b.addresses()).containsExactly(new BridgeSettings.Address("broker.example.com", 8883),
                new BridgeSettings.Address("backup.example.com", 1883));
        assertThat(b.roundRobin()).isTrue();
        assertThat(b.topics()).containsExactly(
                new BridgeTopic("sensors/#", BridgeTopic.Direction.OUT, QoS.AT_LEAST_ONCE, "local/", "remote/"),
                new BridgeTopic("cmd/+", BridgeTopic.Direction.IN, QoS.EXACTLY_ONCE, null, null));
        assertThat(b.remoteClientId()).isEqualTo("edge-1");
        assertThat(b.localClientId()).isEqualTo("bridge-edge-1");
        assertThat(b.remoteUsername()).isEqualTo("edge");
        assertThat(b.remotePassword()).isEqualTo("secret");
        assertThat(b.localUsername()).isEqualTo("bridge");
        assertThat(b.cleanSession()).isTrue();
        assertThat(b.localCleanSession()).isFalse();
        assertThat(b.protocolVersion()).isEqualTo(5);
        assertThat(b.tryPrivate()).isFalse();
        assertThat(b.keepAliveSeconds()).isEqualTo(30);
        assertThat(b.restart()).isEqualTo(new BridgeSettings.RestartTimeout(2, 60, 120));
        assertThat(b.notifications()).isFalse();
        assertThat(b.stateTopic()).isEqualTo("bridges/cloud/state");
        assertThat(b.outgoingRetain()).isFalse();
        assertThat(b.maxPacketSize()).isEqualTo(65536);
        assertThat(b.tls()).isEqualTo(new BridgeSettings.Tls(Path.of("/etc/ca.crt"), Path.of("/etc/client.crt"),
                Path.of("/etc/client.key"), true, TlsSettings.Version.TLS_1_3, "mqtt"));
        assertThat(b.maxQueuedMessages()).isEqualTo(5000);
        assertThat(b.maxQueuedBytes()).isEqualTo(1_000_000);
        assertThat(b.dropOldest()).isFalse();
        assertThat(b.maxInflight()).isEqualTo(10);
        assertThat(b.ackTimeoutSeconds()).isEqualTo(15);
        assertThat(b.publishRate()).isEqualTo(2000);
        assertThat(b.hopLimit()).isEqualTo(3);
    }

    @Test
    void defaultsAreMosquittosAndTernMqsDocumentedOnes() {
        BridgeSettings b = parse("connection up", "address 10.0.0.1", "topic #").bridges().get(0);
        assertThat(b.topics()).containsExactly(new BridgeTopic("#", BridgeTopic.Direction.OUT, QoS.AT_MOST_ONCE,
                null, null));
        assertThat(b.remoteClientId()).endsWith(".up");
        assertThat(b.localClientId()).isEqualTo("local." + b.remoteClientId());
        assertThat(b.stateTopic()).isEqualTo("$SYS/broker/connection/" + b.remoteClientId() + "/state");
        assertThat(b.protocolVersion()).isEqualTo(4);
        assertThat(b.tryPrivate()).isTrue();
        assertThat(b.cleanSession()).isFalse();
        assertThat(b.localCleanSession()).isFalse();
        assertThat(b.keepAliveSeconds()).isEqualTo(60);
        assertThat(b.restart()).isEqualTo(new BridgeSettings.RestartTimeout(5, 30, 0));
        assertThat(b.notifications()).isTrue();
        assertThat(b.outgoingRetain()).isTrue();
        assertThat(b.tls()).isNull();
        assertThat(b.dropOldest()).isTrue();
        assertThat(b.maxInflight()).isEqualTo(100);
        assertThat(b.ackTimeoutSeconds()).isEqualTo(60);
        assertThat(b.publishRate()).isZero();
        assertThat(b.hopLimit()).isEqualTo(4);
    }

    @Test
    void localCleanSessionFollowsCleanSessionUnlessGiven() {
        assertThat(parse("connection a", "address h", "topic #", "cleansession true").bridges().get(0)
                .localCleanSession()).isTrue();
    }

    @Test
    void restartTimeoutWithOneValueIsConstant() {
        BridgeSettings b = parse("connection a", "address h", "topic #", "restart_timeout 7").bridges().get(0);
        assertThat(b.restart().constant()).isTrue();
        assertThat(b.restart().baseSeconds()).isEqualTo(7);
    }

    @Test
    void sectionsFollowEachOtherAndListenersMayComeBetween() {
        BrokerConfig c = parse("connection a", "address h1", "topic a/#", "listener 0 127.0.0.1",
                "allow_anonymous true", "connection b", "address h2:1884", "topic b/# in",
                "remote_clientid other");
        assertThat(c.bridges()).extracting(BridgeSettings::name).containsExactly("a", "b");
        assertThat(c.bridges().get(1).addresses()).containsExactly(new BridgeSettings.Address("h2", 1884));
        assertThat(c.transport().listeners()).hasSize(1);
    }

    /** Mosquitto's remap table (mosquitto.conf(5), and its unit test bridge_topic_test.c). */
    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "-", value = {
            "pattern | L/ | R/ | R/pattern | L/pattern",
            "pattern | L/ | -  | pattern   | L/pattern",
            "pattern | -  | R/ | R/pattern | pattern",
            "pattern | -  | -  | pattern   | pattern",
            "-       | local | remote | remote | local"})
    void remapTable(String pattern, String local, String remote, String remoteTopic, String localTopic) {
        BridgeTopic t = new BridgeTopic(pattern, BridgeTopic.Direction.BOTH, QoS.AT_MOST_ONCE, local, remote);
        assertThat(t.remoteTopic()).isEqualTo(remoteTopic);
        assertThat(t.localTopic()).isEqualTo(localTopic);
        assertThat(t.toRemote(localTopic)).isEqualTo(remoteTopic);
        assertThat(t.toLocal(remoteTopic)).isEqualTo(localTopic);
    }

    @Test
    void quotedEmptyTokensMeanNone() {
        BridgeSettings b = parse("connection a", "address h", "topic \"\" both 1 local/x remote/y",
                "topic sensors/# in 0 \"\" remote/", "topic c/# out 2 here/ \"\"").bridges().get(0);
        assertThat(b.topics()).containsExactly(
                new BridgeTopic(null, BridgeTopic.Direction.BOTH, QoS.AT_LEAST_ONCE, "local/x", "remote/y"),
                new BridgeTopic("sensors/#", BridgeTopic.Direction.IN, QoS.AT_MOST_ONCE, null, "remote/"),
                new BridgeTopic("c/#", BridgeTopic.Direction.OUT, QoS.EXACTLY_ONCE, "here/", null));
        assertThat(b.topics().get(1).toLocal("remote/sensors/t")).isEqualTo("sensors/t");
        assertThat(b.topics().get(2).toRemote("here/c/d")).isEqualTo("c/d");
    }

    @Test
    void trailingCommentEndsTheTopicLine() {
        BridgeSettings b = parse("connection a", "address h # the cloud", "topic x/# both 1 # both ways")
                .bridges().get(0);
        assertThat(b.addresses()).hasSize(1);
        assertThat(b.topics().get(0)).isEqualTo(new BridgeTopic("x/#", BridgeTopic.Direction.BOTH,
                QoS.AT_LEAST_ONCE, null, null));
    }

    @Test
    void invalidRemappingsAreRefusedAsMosquittoRefusesThem() {
        assertError("test.conf:3: topic: a \"\" pattern needs both a local and a remote prefix",
                "connection a", "address h", "topic \"\" both 0 L/ \"\"");
        assertError("test.conf:3: topic: a \"\" pattern needs both a local and a remote prefix",
                "connection a", "address h", "topic \"\" both 0 \"\" R/");
        assertError("test.conf:3: topic: a \"\" pattern needs both a local and a remote prefix",
                "connection a", "address h", "topic \"\"");
        assertError("test.conf:3: topic: the local prefix 'a/+/' holds a wildcard",
                "connection a", "address h", "topic x both 0 a/+/ b/");
        assertError("test.conf:3: topic: the remote prefix and the pattern make 'r#', not a valid topic filter",
                "connection a", "address h", "topic # both 0 l/ r");
        assertError("test.conf:3: topic: 'sideways' is not one of out, in, both",
                "connection a", "address h", "topic # sideways");
        assertError("test.conf:3: topic: 3 is out of range 0..2", "connection a", "address h", "topic # in 3");
    }

    @ParameterizedTest
    @ValueSource(strings = {"threshold 10", "idle_timeout 60", "bridge_identity me", "bridge_psk 0123",
            "bridge_capath /etc/ssl/certs", "notifications_local_only true"})
    void unsupportedMosquittoKeysAreRefusedByName(String line) {
        String key = line.substring(0, line.indexOf(' '));
        assertError("test.conf:3: " + key + ": not supported by TernMQ's bridges (docs/bridges.md)",
                "connection a", "address h", line, "topic #");
    }

    @ParameterizedTest
    @ValueSource(strings = {"lazy", "once"})
    void onlyAutomaticStart(String type) {
        assertError("test.conf:3: start_type: '" + type + "' is not supported by TernMQ's bridges, which always "
                + "start automatically (docs/bridges.md)", "connection a", "address h", "start_type " + type);
    }

    @Test
    void bridgeKeyOutsideAConnection() {
        assertError("test.conf:1: topic: a bridge key, allowed only after a 'connection' line", "topic #");
    }

    @Test
    void sectionProblemsAreReportedOnItsConnectionLine() {
        assertError("test.conf:2: connection: address is required in a connection section",
                "listener 1883", "connection a", "topic #");
        assertError("test.conf:1: connection: at least one topic line is required in a connection section",
                "connection a", "address h");
        assertError("test.conf:1: connection: bridge_certfile and bridge_keyfile go together",
                "connection a", "address h", "topic #", "bridge_cafile ca.pem", "bridge_certfile c.pem");
        assertError("test.conf:1: connection: bridge_cafile is required for TLS toward the remote broker",
                "connection a", "address h", "topic #", "bridge_insecure true");
        assertError("test.conf:4: connection: 'a' is already the name of test.conf:1: connection",
                "connection a", "address h", "topic #", "connection a", "address h", "topic #",
                "remote_clientid x");
        assertError("test.conf:5: connection: local_clientid 'same' is already used by test.conf:1: connection",
                "connection a", "address h", "topic #", "local_clientid same", "connection b", "address h",
                "topic #", "local_clientid same");
    }

    @Test
    void badValuesNameFileLineAndKey() {
        assertError("test.conf:2: address: 0 is out of range 1..65535",
                "connection a", "address h:0", "topic #");
        assertError("test.conf:3: restart_timeout: the cap 2 is lower than the base 5",
                "connection a", "address h", "restart_timeout 5 2");
        assertError("test.conf:3: bridge_protocol_version: 'mqttv6' is not one of mqttv31, mqttv311, mqttv50",
                "connection a", "address h", "bridge_protocol_version mqttv6");
        assertError("test.conf:3: bridge_queue_overflow: 'drop_newest' is not one of drop_oldest, refuse_new",
                "connection a", "address h", "bridge_queue_overflow drop_newest");
        assertError("test.conf:3: notification_topic: 'a/#' is not a valid topic name",
                "connection a", "address h", "notification_topic a/#");
        assertError("test.conf:1: connection: missing value", "connection");
    }

    @Test
    void everyBridgeKeyIsDocumented() throws IOException {
        String doc = Files.readString(Path.of("../docs/configuration.md"));
        for (String key : ConfigFileParser.bridgeKeys()) {
            assertThat(doc).as(key).contains("`" + key + "`");
        }
        assertThat(Files.readString(Path.of("../docs/bridges.md"))).contains("`connection`");
    }

    @Test
    void notInACluster() {
        assertError("test.conf:3: connection: bridges do not run in a cluster yet (cluster.enabled true); "
                + "docs/bridges.md", "cluster.enabled true", "cluster.members 127.0.0.1:5701",
                "connection a", "address h", "topic #", "cluster.secret 0123456789abcdef0123");
    }
}
