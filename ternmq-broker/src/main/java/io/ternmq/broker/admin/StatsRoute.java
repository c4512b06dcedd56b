package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.ternmq.broker.cluster.NodeQueries;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code GET /api/v1/stats}: the broker's counters since it started, as {@code /metrics} has them, in JSON; in a
 * cluster summed over the nodes that answered, and {@code nodes} has each node's (or why it has none).
 */
final class StatsRoute implements AdminRoute {
    private final ClusterListings listings;

    StatsRoute(ClusterListings listings) {
        this.listings = listings;
    }

    @Override
    public String path() {
        return "/api/v1/stats";
    }

    @Override
    public Access access() {
        return Access.USER;
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        return listings.<Map<String, Object>>everyNode("stats", null,
                () -> CompletableFuture.completedFuture(listings.stats()))
                .thenApply(answers -> AdminResponses.json(HttpResponseStatus.OK,
                        summed(listings.stats(), answers, k -> true)));
    }

    /**
     * {@code local} with the {@code summed} keys summed over the nodes that answered, and {@code nodes}: each node's
     * answer with its id, or its id and why it has none.
     */
    static Map<String, Object> summed(Map<String, Object> local, List<NodeQueries.Answer<Map<String, Object>>> answers,
                                      java.util.function.Predicate<String> summed) {
        List<Map<String, Object>> values = new ArrayList<>();
        List<Object> nodes = new ArrayList<>();
        for (NodeQueries.Answer<Map<String, Object>> a : answers) {
            if (a.answered()) {
                values.add(a.value());
                Map<String, Object> n = new LinkedHashMap<>();
                n.put("node", a.nodeId());
                n.putAll(a.value());
                nodes.add(n);
            } else {
                nodes.add(NodeRows.unanswered(a));
            }
        }
        Map<String, Object> total = NodeMerge.sum(local, values, summed);
        total.put("nodes", nodes);
        return total;
    }
}
