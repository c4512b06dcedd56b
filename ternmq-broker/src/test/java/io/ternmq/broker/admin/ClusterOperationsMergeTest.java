package io.ternmq.broker.admin;

import io.ternmq.broker.admin.ClusterListings.Located;
import io.ternmq.broker.admin.NodeOperations.TopicCounts;
import io.ternmq.broker.admin.NodeOperations.TraceEvents;
import io.ternmq.broker.cluster.NodeQueries.Answer;
import io.ternmq.broker.trace.Trace;
import io.ternmq.broker.trace.TraceEvent;
import io.ternmq.broker.trace.Traces;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** How topic metrics and traces join the nodes' answers: counts summed per filter, events interleaved by time. */
class ClusterOperationsMergeTest {

    private static TopicCounts counts(String filter, long in, long bytesIn, long out, long bytesOut) {
        return new TopicCounts(filter, 1_000, in, bytesIn, out, bytesOut);
    }

    @Test
    @DisplayName("topic metrics: each filter once, in the order the nodes list them, its counts summed and each node's "
            + "figures under nodes; a node that has not applied a registration yet has no part in it")
    void topicCountsSummedPerFilter() {
        List<Located<TopicCounts>> rows = List.of(
                new Located<>("a", counts("x/#", 1, 10, 2, 20)), new Located<>("a", counts("y", 0, 0, 0, 0)),
                new Located<>("b", counts("x/#", 3, 30, 0, 0)),
                new Located<>("c", counts("x/#", 5, 50, 7, 70)), new Located<>("c", counts("y", 4, 4, 1, 1)),
                new Located<>("c", counts("z/+", 1, 1, 1, 1)));
        List<Map<String, Object>> merged = TopicMetricsRoute.merged(rows);
        assertThat(merged).extracting(m -> m.get("filter")).containsExactly("x/#", "y", "z/+");
        Map<String, Object> x = merged.get(0);
        assertThat(x).containsEntry("messagesIn", 9L).containsEntry("bytesIn", 90L).containsEntry("messagesOut", 9L)
                .containsEntry("bytesOut", 90L).containsEntry("registeredAt", "1970-01-01T00:00:01Z");
        assertThat(x.get("nodes")).isEqualTo(Map.of(
                "a", Map.of("messagesIn", 1L, "bytesIn", 10L, "messagesOut", 2L, "bytesOut", 20L),
                "b", Map.of("messagesIn", 3L, "bytesIn", 30L, "messagesOut", 0L, "bytesOut", 0L),
                "c", Map.of("messagesIn", 5L, "bytesIn", 50L, "messagesOut", 7L, "bytesOut", 70L)));
        assertThat(new ArrayList<Object>(((Map<?, ?>) merged.get(1).get("nodes")).keySet())).containsExactly("a", "c");
        assertThat(merged.get(1)).containsEntry("messagesIn", 4L);
        assertThat(new ArrayList<Object>(((Map<?, ?>) merged.get(2).get("nodes")).keySet())).containsExactly("c");
        assertThat(TopicMetricsRoute.merged(List.of())).isEmpty();
    }

    private static TraceEvent event(long seq, long at, String type) {
        return new TraceEvent(seq, at, type, "c", "127.0.0.1:1", null, List.of(), -1, false, null, 0, null);
    }

    private static Answer<TraceEvents> events(String node, long recorded, TraceEvent... events) {
        return new Answer<>(node, new TraceEvents(recorded, true, new ArrayList<>(List.of(events))), null);
    }

    @Test
    @DisplayName("trace events: the nodes' interleaved by time, each node's kept in its own order (a clock read "
            + "before another may number later), ties in node order; nodes without the trace or without an answer "
            + "add nothing")
    void traceEventsInterleavedByTime() {
        List<Answer<TraceEvents>> answers = List.of(
                events("a", 3, event(1, 100, "connect"), event(2, 300, "publish_in"), event(3, 299, "publish_out")),
                new Answer<>("b", null, "no answer within 2000 ms"),
                events("c", 2, event(1, 100, "connect"), event(2, 200, "subscribe")),
                new Answer<>("d", null, null));
        assertThat(TracesRoute.merged(answers)).extracting(l -> l.nodeId() + " " + l.value().seq())
                .containsExactly("a 1", "c 1", "c 2", "a 2", "a 3");
    }

    @Test
    @DisplayName("a trace's download: recorded summed, each event naming its node, each node's recorded and kept, "
            + "the node that did not answer named")
    void downloadNamesEveryNode() {
        Trace t = new Traces().start(Trace.Kind.CLIENT_ID, "c", false, 60, 1_000);
        Map<String, Object> d = TracesRoute.download(t, List.of(
                events("a", 12_000, event(11_999, 100, "connect"), event(12_000, 101, "publish_in")),
                new Answer<>("b", null, "not a member of the cluster"),
                events("c", 1, event(1, 100, "disconnect"))));
        assertThat(d).containsEntry("id", t.id()).containsEntry("recorded", 12_001L);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> evs = (List<Map<String, Object>>) d.get("events");
        assertThat(evs).extracting(e -> e.get("type") + " " + e.get("node") + " " + e.get("seq"))
                .containsExactly("connect a 11999", "disconnect c 1", "publish_in a 12000");
        assertThat(d.get("nodes")).isEqualTo(Map.of("a", Map.of("recorded", 12_000L, "kept", 2),
                "c", Map.of("recorded", 1L, "kept", 1)));
        assertThat(d.get("unanswered")).isEqualTo(List.of(Map.of("node", "b", "error", "not a member of the cluster")));
        assertThat(new ArrayList<>(d.keySet())).containsExactly("id", "clientId", "payloads", "startedAt", "endsAt",
                "running", "recorded", "events", "nodes", "unanswered");
    }

    @Test
    @DisplayName("the traces listing: each trace's events summed over the nodes, each node's count named")
    void tracesListedWithEveryNodesCount() {
        Traces traces = new Traces();
        Trace one = traces.start(Trace.Kind.TOPIC, "a/#", false, 60, 1_000);
        Trace two = traces.start(Trace.Kind.IP, "10.0.0.1", false, 60, 1_000);
        Map<String, Long> a = new LinkedHashMap<>(Map.of(one.id(), 4L, two.id(), 0L));
        Map<String, Long> c = new LinkedHashMap<>(Map.of(one.id(), 6L));
        Map<String, Object> listed = TracesRoute.listed(traces.list(), List.of(new Answer<>("a", a, null),
                new Answer<>("b", null, "no answer within 2000 ms"), new Answer<>("c", c, null)));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> rows = (List<Map<String, Object>>) listed.get("traces");
        assertThat(rows).extracting(r -> r.get("id")).containsExactly(one.id(), two.id());
        assertThat(rows.get(0)).containsEntry("recorded", 10L).containsEntry("nodes", Map.of("a", 4L, "c", 6L));
        assertThat(rows.get(1)).containsEntry("recorded", 0L).containsEntry("nodes", Map.of("a", 0L));
        assertThat(listed.get("unanswered")).isEqualTo(List.of(Map.of("node", "b",
                "error", "no answer within 2000 ms")));
    }
}
