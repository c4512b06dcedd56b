package io.ternmq.broker.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import io.ternmq.broker.config.BridgeSettings;
import io.ternmq.broker.config.ConfigFileParser;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.QoS;
import org.junit.jupiter.api.Test;

import java.util.List;

/**
 * The copies between two brokers bridged toward each other at MQTT 3.x, counted by topic and payload; the loops
 * themselves, against Mosquitto and another TernMQ, are in it/BridgeLoopTest.
 */
class BridgePeersTest {
    private static final String LINK = "local.to-m"; // this broker's bridge toward M, publishing what it brings in
    private static final String INBOUND = "m-to-here"; // M's bridge toward this broker, a client here

    private final BrokerMetrics metrics = new BrokerMetrics();
    private final List<BridgeSettings> settings = ConfigFileParser.parse("bridge.conf", List.of("connection m",
            "address 127.0.0.1:1883", "remote_clientid to-m", "topic a/# both 1")).build().bridges();
    private final BridgePeers peers = new BridgePeers(settings, metrics);
    private final BridgePeers.Link link = peers.link(LINK);

    private static Message message(String topic, String payload, String publisher) {
        return new Message(topic, QoS.AT_LEAST_ONCE, false, payload.getBytes(), MqttProperties.EMPTY, publisher, 0);
    }

    @Test
    void withoutPeersNothingIsTouched() {
        assertThat(peers.admit(message("a/x", "p", INBOUND))).isTrue();
        assertThat(peers.admit(message("a/x", "p", INBOUND))).isTrue();
        assertThat(peers.carriedByLink(INBOUND, message("a/x", "p", "client"))).isFalse();
    }

    @Test
    void ownAndStateNotificationsAreNotPeers() {
        peers.announced(link, "to-m");
        assertThat(link.peers).isEmpty();
        peers.announced(link, INBOUND);
        assertThat(link.peers).containsExactly(INBOUND);
        assertThat(peers.carriedByLink(INBOUND, message("$SYS/broker/connection/to-m/state", "1", LINK))).isFalse();
    }

    @Test
    void theTwoCopiesOfTheRemotesMessagesCountedPerContent() {
        peers.announced(link, INBOUND);
        // two identical messages published on M, and one other: each arrives over both paths, in any order
        assertThat(peers.admit(message("a/x", "same", INBOUND))).isTrue();
        assertThat(peers.admit(message("a/x", "same", LINK))).isFalse();
        assertThat(peers.admit(message("a/x", "same", LINK))).isTrue();
        assertThat(peers.admit(message("a/y", "other", LINK))).isTrue();
        assertThat(peers.admit(message("a/x", "same", INBOUND))).isFalse();
        assertThat(peers.admit(message("a/y", "other", INBOUND))).isFalse();
        assertThat(metrics.bridgeDuplicateDrops.sum()).isEqualTo(3);
        // a third identical one is new again
        assertThat(peers.admit(message("a/x", "same", INBOUND))).isTrue();
    }

    @Test
    void whatTheLinkSentComesBackOverTheInboundBridgeOnlyAndIsDropped() {
        peers.announced(link, INBOUND);
        link.sent(new BridgePeers.Copy("a/x", "mine".getBytes()));
        assertThat(peers.admit(message("a/x", "mine", LINK))).as("not an echo: M's own, over the link").isTrue();
        assertThat(peers.admit(message("a/x", "mine", INBOUND))).as("the echo, or M's twin: one of two").isFalse();
        assertThat(peers.admit(message("a/x", "mine", INBOUND))).as("the other of the two").isFalse();
        assertThat(peers.admit(message("a/x", "mine", INBOUND))).isTrue();
    }

    @Test
    void aLearningRemoteBridgeSendsNothingBackSoNoEchoIsAwaited() {
        peers.announced(link, INBOUND);
        peers.learningBridge(INBOUND);
        link.sent(new BridgePeers.Copy("a/x", "mine".getBytes()));
        assertThat(peers.admit(message("a/x", "mine", INBOUND))).isTrue();
    }

    @Test
    void theInboundBridgeDoesNotGetWhatTheLinkCarriesOrBroughtIn() {
        peers.announced(link, INBOUND);
        assertThat(peers.carriedByLink(INBOUND, message("a/x", "p", "client"))).as("the link carries a/#").isTrue();
        assertThat(peers.carriedByLink(INBOUND, message("b/x", "p", "client"))).as("not the link's").isFalse();
        assertThat(peers.carriedByLink(INBOUND, message("b/x", "p", LINK))).as("brought in by the link").isTrue();
        assertThat(peers.carriedByLink("another-client", message("a/x", "p", "client"))).isFalse();
        assertThat(link.fromPeer(INBOUND)).isTrue();
        assertThat(link.fromPeer("client")).isFalse();
    }

    @Test
    void anUnmatchedCopyIsForgottenAfterTheWindow() {
        peers.announced(link, INBOUND);
        long t0 = 1_000_000;
        assertThat(link.admit(new BridgePeers.Copy("a/x", "p".getBytes()), BridgePeers.Link.VIA_INBOUND, t0))
                .isTrue();
        assertThat(link.admit(new BridgePeers.Copy("a/x", "p".getBytes()), BridgePeers.Link.VIA_LINK,
                t0 + BridgePeers.WINDOW_MILLIS + 1)).as("too late to be the twin").isTrue();
    }
}
