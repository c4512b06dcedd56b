package io.ternmq.broker.config;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The cluster keys: what an enabled cluster needs, and every problem named by file, line and key. */
class ClusterConfigTest {
    private static final String SECRET = "cluster.secret 0123456789abcdef";

    private static BrokerConfig parse(String... lines) {
        return ConfigFileParser.parse("node.conf", List.of(lines)).build();
    }

    private static void assertError(String expected, String... lines) {
        assertThatThrownBy(() -> parse(lines)).isInstanceOf(ConfigException.class).hasMessage(expected);
    }

    @Test
    @DisplayName("a three-node cluster on one host needs enabled, bind, members, a secret and the listener")
    void minimalCluster() {
        BrokerConfig c = parse("listener 1883 127.0.0.1", "cluster.enabled true", "cluster.bind 127.0.0.1:7001",
                "cluster.members 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003", SECRET);
        ClusterSettings s = c.cluster();
        assertThat(s.enabled()).isTrue();
        assertThat(s.name()).isEqualTo("ternmq");
        assertThat(s.bind()).isEqualTo(new ClusterSettings.Address("127.0.0.1", 7001));
        assertThat(s.members()).hasSize(3);
        assertThat(s.memberCount()).isEqualTo(3);
        assertThat(s.minMembers()).isEqualTo(1);
        assertThat(s.backupCount()).isEqualTo(1);
        assertThat(s.failureTimeoutSeconds()).isEqualTo(10);
    }

    @Test
    @DisplayName("off by default, with the documented defaults")
    void offByDefault() {
        ClusterSettings s = parse().cluster();
        assertThat(s.enabled()).isFalse();
        assertThat(s.bind()).isEqualTo(new ClusterSettings.Address("127.0.0.1", 5701));
    }

    @Test
    @DisplayName("enabled without members or without a secret: named at cluster.enabled")
    void requiredKeys() {
        assertError("node.conf:2: cluster.enabled: cluster.members is required when the cluster is enabled",
                "listener 1883", "cluster.enabled true", SECRET);
        assertError("node.conf:1: cluster.enabled: cluster.secret is required when the cluster is enabled",
                "cluster.enabled true", "cluster.members 127.0.0.1:7001");
    }

    @Test
    @DisplayName("a secret under 16 bytes is refused on its line")
    void shortSecret() {
        assertError("node.conf:3: cluster.secret: must be at least 16 bytes",
                "cluster.enabled true", "cluster.members 127.0.0.1:7001", "cluster.secret short");
    }

    @Test
    @DisplayName("a port used twice (the MQTT listener's, or a member listed twice) is refused")
    void portUsedTwice() {
        assertError("node.conf:3: cluster.bind: port 1883 is used twice: by cluster.bind and by listener "
                        + "0.0.0.0:1883",
                "listener 1883", "cluster.enabled true", "cluster.bind 127.0.0.1:1883",
                "cluster.members 127.0.0.1:1883", SECRET);
        assertError("node.conf:2: cluster.members: 127.0.0.1:7001 is listed twice",
                "cluster.enabled true", "cluster.members 127.0.0.1:7001 127.0.0.1:7001", SECRET);
    }

    @Test
    @DisplayName("min_members above the member count is refused on its line")
    void minMembersAboveCount() {
        assertError("node.conf:4: cluster.min_members: 4 is more than the 3 members of cluster.members and "
                        + "cluster.bind",
                "cluster.enabled true", "cluster.bind 127.0.0.1:7001",
                "cluster.members 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003", "cluster.min_members 4", SECRET);
    }

    @Test
    @DisplayName("malformed addresses and names are refused on their line")
    void malformedValues() {
        assertError("node.conf:1: cluster.bind: 'localhost' is not host:port", "cluster.bind localhost");
        assertError("node.conf:1: cluster.members: '127.0.0.1:99999': port 99999 is out of range 1..65535",
                "cluster.members 127.0.0.1:99999");
        assertError("node.conf:1: cluster.name: 'a b' is not a cluster name (1 to 64 letters, digits, '.', '_' "
                + "or '-')", "cluster.name a b");
    }
}
