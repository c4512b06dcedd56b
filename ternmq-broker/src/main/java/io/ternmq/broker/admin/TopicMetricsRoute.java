package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.ternmq.broker.admin.ClusterListings.Located;
import io.ternmq.broker.admin.NodeOperations.TopicCounts;
import io.ternmq.broker.metrics.TopicMetrics;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code /api/v1/topic-metrics}: {@code POST {"filter"}} starts counting messages and payload bytes in and out for a
 * topic filter (at most {@value TopicMetrics#MAX}) on every node of the cluster, those that join later too;
 * {@code GET ?node=} lists the counts, each filter's summed over the nodes with each node's ({@code nodes}) and the
 * nodes that did not answer in time ({@code unanswered}); {@code DELETE ?filter=} stops it everywhere. Counting costs
 * nothing while no filter is registered.
 */
final class TopicMetricsRoute implements AdminRoute {
    private final ClusterListings listings;

    TopicMetricsRoute(ClusterListings listings) {
        this.listings = listings;
    }

    @Override
    public String path() {
        return "/api/v1/topic-metrics";
    }

    @Override
    public Set<HttpMethod> methods() {
        return Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.DELETE);
    }

    @Override
    public Access access() {
        return Access.USER;
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        NodeOperations here = listings.operations();
        if (request.method().equals(HttpMethod.GET)) {
            return listings.<List<TopicCounts>>listed(request.param("node"), "topic-metrics", null,
                    () -> CompletableFuture.completedFuture(here.topicCounts())).thenApply(answers -> {
                        NodeRows<TopicCounts> rows = NodeRows.of(answers);
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("topicMetrics", merged(rows.all()));
                        m.put("max", TopicMetrics.MAX);
                        m.put("unanswered", rows.unanswered());
                        return AdminResponses.json(HttpResponseStatus.OK, m);
                    });
        }
        if (request.method().equals(HttpMethod.POST)) {
            String filter = ClientRoute.filter(request.jsonBody().get("filter"));
            return listings.onAdminLoop(listings.registrations().registerTopic(filter, System.currentTimeMillis()))
                    .thenApply(r -> switch (r) {
                        case ADDED -> AdminResponses.json(HttpResponseStatus.CREATED, merged(here.topicCounts().stream()
                                .filter(c -> c.filter().equals(filter)).map(c -> new Located<>(listings.nodeId(), c))
                                .toList()).get(0));
                        case ALREADY -> throw new AdminException(HttpResponseStatus.CONFLICT,
                                "'" + filter + "' is already registered");
                        case FULL -> throw AdminException.badRequest("at most " + TopicMetrics.MAX
                                + " topic filters can be registered; DELETE one first");
                    });
        }
        String filter = ClientRoute.filter(request.param("filter"));
        return listings.onAdminLoop(listings.registrations().unregisterTopic(filter)).thenApply(had -> {
            if (!had) {
                throw AdminException.notFound("'" + filter + "' is not registered");
            }
            return AdminResponses.json(HttpResponseStatus.OK, Map.of("unregistered", filter));
        });
    }

    /**
     * The nodes' counts joined per filter, in the order the filters first appear (each node lists them in
     * registration order): the counts summed, and under {@code nodes} each node's, by node id. A node that has not
     * applied a registration yet (it joins, or learns of it a moment later) has no part in it.
     */
    static List<Map<String, Object>> merged(List<Located<TopicCounts>> rows) {
        Map<String, Map<String, Object>> byFilter = new LinkedHashMap<>();
        for (Located<TopicCounts> l : rows) {
            TopicCounts c = l.value();
            Map<String, Object> j = byFilter.computeIfAbsent(c.filter(), f -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("filter", f);
                m.put("registeredAt", Instant.ofEpochMilli(c.registeredAtMillis()).toString());
                m.put("messagesIn", 0L);
                m.put("bytesIn", 0L);
                m.put("messagesOut", 0L);
                m.put("bytesOut", 0L);
                m.put("nodes", new TreeMap<String, Object>());
                return m;
            });
            Map<String, Object> node = new LinkedHashMap<>();
            node.put("messagesIn", c.messagesIn());
            node.put("bytesIn", c.bytesIn());
            node.put("messagesOut", c.messagesOut());
            node.put("bytesOut", c.bytesOut());
            node.forEach((k, v) -> j.put(k, (Long) j.get(k) + (Long) v));
            @SuppressWarnings("unchecked")
            Map<String, Object> nodes = (Map<String, Object>) j.get("nodes");
            nodes.put(l.nodeId(), node);
        }
        return new ArrayList<>(byFilter.values());
    }
}
