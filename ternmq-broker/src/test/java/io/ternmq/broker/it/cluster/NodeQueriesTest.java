package io.ternmq.broker.it.cluster;

import io.ternmq.broker.cluster.NodeQueries;
import io.ternmq.broker.testing.TestBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The admin API's questions between nodes ({@link NodeQueries} on Hazelcast's executor service), two nodes in this
 * JVM: an answer crosses to the asker; a node that has no answer in time, or does not know the question, is reported
 * with the reason, within the asker's timeout; a node that is no member is reported at once.
 */
class NodeQueriesTest {
    private static TestBroker a;
    private static TestBroker b;
    private static NodeQueries qa;
    private static NodeQueries qb;

    @BeforeAll
    static void startTwoNodes() throws Exception {
        int[] ports = ClusterHarness.freePorts(2);
        List<String> members = List.of("127.0.0.1:" + ports[0], "127.0.0.1:" + ports[1]);
        a = TestBroker.start(ClusterHarness.inProcessNode(ports[0], members));
        b = TestBroker.start(ClusterHarness.inProcessNode(ports[1], members));
        await().atMost(Duration.ofSeconds(60)).until(() -> a.broker().metrics().clusterMembers.get() == 2
                && b.broker().metrics().clusterMembers.get() == 2);
        qa = a.broker().cluster().queries();
        qb = b.broker().cluster().queries();
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

    private static <T> NodeQueries.Answer<T> ask(String node, String question, Serializable arg, long timeout)
            throws Exception {
        return qa.<T>ask(node, question, arg, timeout).toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @Test
    @DisplayName("members lists both nodes in id order; an answer of the other node crosses over, with its node id")
    void answersCross() throws Exception {
        assertThat(qa.members()).containsExactlyElementsOf(qb.members()).hasSize(2).isSorted()
                .contains(qa.nodeId(), qb.nodeId());
        qb.serve("test.echo", arg -> CompletableFuture.supplyAsync(() -> new ArrayList<>(List.of(qb.nodeId(), arg))));
        NodeQueries.Answer<List<Object>> answer = ask(qb.nodeId(), "test.echo", "hello", 5000);
        assertThat(answer.answered()).as(String.valueOf(answer.error())).isTrue();
        assertThat(answer.nodeId()).isEqualTo(qb.nodeId());
        assertThat(answer.value()).containsExactly(qb.nodeId(), "hello");
        // this node's own answer does not cross Hazelcast
        qa.serve("test.echo", arg -> CompletableFuture.completedFuture("here"));
        List<NodeQueries.Answer<Object>> all = qa.<Object>askAll("test.echo", "x", 5000).toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
        assertThat(all).extracting(NodeQueries.Answer::nodeId).containsExactlyElementsOf(qa.members());
        assertThat(all).allMatch(NodeQueries.Answer::answered);
        assertThat(all).filteredOn(x -> x.nodeId().equals(qa.nodeId())).extracting(NodeQueries.Answer::value)
                .containsExactly("here");
        // the other node's link as this one sees it
        assertThat(qa.peer(qb.nodeId())).isNotNull();
        assertThat(qa.peer(qb.nodeId()).member()).isTrue();
        assertThat(qa.peer(qa.nodeId())).isNull();
    }

    @Test
    @DisplayName("a node with no answer in time is reported with the reason within the asker's timeout")
    void slowNodeIsReported() throws Exception {
        qb.serve("test.never", arg -> new CompletableFuture<String>());
        long t0 = System.nanoTime();
        NodeQueries.Answer<String> answer = ask(qb.nodeId(), "test.never", null, 1000);
        long millis = (System.nanoTime() - t0) / 1_000_000;
        assertThat(answer.answered()).isFalse();
        assertThat(answer.nodeId()).isEqualTo(qb.nodeId());
        assertThat(answer.error()).containsAnyOf("had no answer within", "no answer within 1000 ms");
        assertThat(millis).as("within the timeout, and some slack for a loaded machine").isLessThan(3000);
        // the same on this node itself
        qa.serve("test.never", arg -> new CompletableFuture<String>());
        NodeQueries.Answer<String> self = ask(qa.nodeId(), "test.never", null, 500);
        assertThat(self.error()).isEqualTo("no answer within 500 ms");
    }

    @Test
    @DisplayName("a question the node does not serve, a failing answer and a node that is no member: each reported")
    void failuresAreReported() throws Exception {
        NodeQueries.Answer<Object> unknown = ask(qb.nodeId(), "test.unknown", null, 5000);
        assertThat(unknown.error()).contains("does not answer 'test.unknown'");
        qb.serve("test.fails", arg -> CompletableFuture.failedFuture(new IllegalStateException("broken here")));
        assertThat(ask(qb.nodeId(), "test.fails", null, 5000).error()).contains("broken here");
        assertThat(ask("no-such-node", "test.echo", null, 5000).error()).isEqualTo("not a member of the cluster");
    }

    @Test
    @DisplayName("the session directory names the node holding a client's session")
    void holder() throws Exception {
        try (var c = io.ternmq.broker.testing.Paho5Client.connect(b, "held-on-b")) {
            assertThat(qa.holder("held-on-b").toCompletableFuture().get(10, TimeUnit.SECONDS))
                    .isEqualTo(qb.nodeId());
            assertThat(qa.holder("held-nowhere").toCompletableFuture().get(10, TimeUnit.SECONDS)).isNull();
        }
    }
}
