package io.ternmq.broker.it.cluster;

import io.ternmq.broker.cluster.Peer;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.TestBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.DataOutputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two nodes in this JVM (under Netty's paranoid leak detection, so that a frame the data link fails to release is
 * reported): the cluster's metrics count members, forwarded messages and bytes, and refused link input; a node id
 * is generated once and kept in the data directory.
 */
class ClusterInProcessTest {
    private static TestBroker a;
    private static TestBroker b;

    @BeforeAll
    static void startTwoNodes() throws Exception {
        int[] ports = ClusterHarness.freePorts(2);
        List<String> members = List.of("127.0.0.1:" + ports[0], "127.0.0.1:" + ports[1]);
        a = TestBroker.start(node(ports[0], members));
        b = TestBroker.start(node(ports[1], members));
        await().atMost(Duration.ofSeconds(60)).until(() -> a.broker().metrics().clusterMembers.get() == 2
                && b.broker().metrics().clusterMembers.get() == 2);
    }

    private static java.util.function.Consumer<io.ternmq.broker.config.BrokerConfig.Builder> node(int port,
                                                                                               List<String> members) {
        return ClusterHarness.inProcessNode(port, members);
    }

    @AfterAll
    static void stop() {
        if (b != null) {
            b.close();
        }
        if (a != null) {
            a.close();
        }
    }

    @Test
    @DisplayName("forwarded messages and bytes are counted on both sides; members are counted")
    void forwardingIsCounted() {
        BrokerMetrics ma = a.broker().metrics();
        BrokerMetrics mb = b.broker().metrics();
        long sentBefore = mb.forwardedSent.sum();
        long receivedBefore = ma.forwardedReceived.sum();
        long bytesSentBefore = mb.forwardedBytesSent.sum();
        long bytesReceivedBefore = ma.forwardedBytesReceived.sum();
        try (Paho5Client sub = Paho5Client.connect(a, "metrics-sub"); Paho5Client pub = Paho5Client.connect(b,
                "metrics-pub")) {
            sub.subscribe("metrics/#", 1);
            for (int i = 0; i < 10; i++) {
                pub.publish("metrics/" + i, "payload-" + i, i % 3, false);
            }
            for (int i = 0; i < 10; i++) {
                assertThat(sub.next().payload()).isEqualTo("payload-" + i);
            }
        }
        assertThat(mb.forwardedSent.sum() - sentBefore).isEqualTo(10);
        assertThat(ma.forwardedReceived.sum() - receivedBefore).isEqualTo(10);
        long bytesSent = mb.forwardedBytesSent.sum() - bytesSentBefore;
        assertThat(bytesSent).as("ten frames of some 60 bytes").isBetween(10L * 40, 10L * 200);
        assertThat(ma.forwardedBytesReceived.sum() - bytesReceivedBefore).isEqualTo(bytesSent);
        assertThat(ma.clusterMembers.get()).isEqualTo(2);
        assertThat(mb.forwardDrops.sum()).isZero();
    }

    @Test
    @DisplayName("refused data-link input is counted: a malformed frame, a truncated one")
    void refusalsAreCounted() throws Exception {
        BrokerMetrics ma = a.broker().metrics();
        long before = ma.linkFramesRefused.sum();
        try (Socket s = new Socket("127.0.0.1", a.broker().cluster().linkPort())) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(3);
            out.write(new byte[] {7, 7, 7});
            out.flush();
            s.setSoTimeout(5_000);
            assertThat(s.getInputStream().read()).as("closed by the node").isEqualTo(-1);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> ma.linkFramesRefused.sum() == before + 1);
        // a frame cut off by the end of the connection
        try (Socket s = new Socket("127.0.0.1", a.broker().cluster().linkPort())) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(100);
            out.write(new byte[10]);
            out.flush();
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> ma.linkFramesRefused.sum() == before + 2);
    }

    @Test
    @DisplayName("the node id is generated once and kept in the data directory")
    void nodeIdIsKept() throws Exception {
        Path file = a.dataDir().resolve("node-id");
        assertThat(file).exists();
        assertThat(Files.readString(file).strip()).isEqualTo(a.broker().cluster().nodeId());
        assertThat(a.broker().cluster().nodeId()).isNotEqualTo(b.broker().cluster().nodeId());
    }

    @Test
    @DisplayName("each node sees the other as a peer, with its node id, host and data-link port")
    void peersAreAnnounced() {
        List<Peer> peers = a.broker().cluster().peers();
        assertThat(peers).hasSize(1);
        Peer p = peers.get(0);
        assertThat(p.nodeId()).isEqualTo(b.broker().cluster().nodeId());
        assertThat(p.host()).isEqualTo("127.0.0.1");
        assertThat(p.linkPort()).isEqualTo(b.broker().cluster().linkPort());
        assertThat(p.memberId()).isNotBlank();
    }
}
