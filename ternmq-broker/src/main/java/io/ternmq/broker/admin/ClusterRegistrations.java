package io.ternmq.broker.admin;

import io.ternmq.broker.cluster.SharedSets;
import io.ternmq.broker.metrics.TopicMetrics;
import io.ternmq.broker.trace.Trace;
import io.ternmq.broker.trace.TraceSpec;
import io.ternmq.broker.trace.Traces;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The admin API's topic-metric registrations and traces, made on every node: in a cluster they live in the cluster's
 * {@link SharedSets} (a Hazelcast map), which every node, one that joins later too, applies to its own
 * {@link TopicMetrics} and {@link Traces} (on Hazelcast's event thread); the node that made the change applies it at
 * once too, so that its own answers show it. On a single node, or before the cluster has started, this node's only.
 * Stages complete on any thread.
 */
final class ClusterRegistrations {
    static final String TOPIC_METRICS = "topic-metrics";
    static final String TRACES = "traces";

    private final TopicMetrics metrics;
    private final Traces traces;
    private volatile SharedSets shared;

    ClusterRegistrations(TopicMetrics metrics, Traces traces) {
        this.metrics = metrics;
        this.traces = traces;
    }

    /** The cluster has started: from now on this node keeps the cluster's registrations and traces (blocks a little). */
    void clusterStarted(SharedSets sets) {
        sets.watch(TOPIC_METRICS, m -> {
            LinkedHashMap<String, Long> filters = new LinkedHashMap<>();
            m.forEach((filter, since) -> filters.put(filter, (Long) since));
            metrics.sync(filters);
        });
        sets.watch(TRACES, m -> {
            List<TraceSpec> specs = new ArrayList<>(m.size());
            m.values().forEach(v -> specs.add((TraceSpec) v));
            traces.sync(specs);
        });
        this.shared = sets;
    }

    /** Starts counting for a (valid) topic filter on every node. */
    CompletionStage<TopicMetrics.Registration> registerTopic(String filter, long nowMillis) {
        SharedSets s = shared;
        if (s == null) {
            return CompletableFuture.completedFuture(metrics.register(filter, nowMillis));
        }
        return s.add(TOPIC_METRICS, filter, nowMillis, Long.MAX_VALUE, TopicMetrics.MAX, nowMillis).thenApply(a ->
                switch (a) {
                    case ADDED -> {
                        metrics.register(filter, nowMillis);
                        yield TopicMetrics.Registration.ADDED;
                    }
                    case ALREADY -> TopicMetrics.Registration.ALREADY;
                    case FULL -> TopicMetrics.Registration.FULL;
                });
    }

    /** Stops counting for a filter on every node. @return a stage completing with whether it was registered */
    CompletionStage<Boolean> unregisterTopic(String filter) {
        SharedSets s = shared;
        if (s == null) {
            return CompletableFuture.completedFuture(metrics.unregister(filter));
        }
        return s.remove(TOPIC_METRICS, filter).thenApply(had -> metrics.unregister(filter) || had);
    }

    /**
     * Starts a trace on every node.
     *
     * @return a stage completing with this node's trace, or null if {@link Traces#MAX_TRACES} run already
     */
    CompletionStage<Trace> startTrace(Trace.Kind kind, String value, boolean payloads, long durationSeconds,
                                      long nowMillis) {
        SharedSets s = shared;
        if (s == null) {
            return CompletableFuture.completedFuture(traces.start(kind, value, payloads, durationSeconds, nowMillis));
        }
        TraceSpec spec = new TraceSpec(traces.newId(), kind, value, payloads, nowMillis,
                nowMillis + durationSeconds * 1000);
        return s.add(TRACES, spec.id(), spec, spec.endsAtMillis(), Traces.MAX_TRACES, nowMillis)
                .thenApply(a -> a == SharedSets.Added.ADDED ? traces.adopt(spec) : null);
    }

    /** Stops and forgets a trace on every node. @return a stage completing with whether it existed */
    CompletionStage<Boolean> removeTrace(String id) {
        SharedSets s = shared;
        if (s == null) {
            return CompletableFuture.completedFuture(traces.remove(id));
        }
        return s.remove(TRACES, id).thenApply(had -> traces.remove(id) || had);
    }
}
