package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.ternmq.broker.admin.ClusterListings.Located;
import io.ternmq.broker.service.BrokerService.ActiveTopic;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code GET /api/v1/topics?like=&node=&cursor=&limit=}: the topics in use, from the retained index and the
 * subscriptions (a filter with wildcards is listed as it was subscribed), in order, a page at a time: each with its
 * retained message's size (if any), its number of subscribers and {@code nodes}: the subscribers on each node that
 * has some. Each node lists its own sessions' filters and the retained messages (which every node holds); a topic
 * listed by several nodes is one row. {@code node}: that node's topics only; {@code unanswered} names the nodes that
 * did not answer in time (their subscribers are missing).
 */
final class TopicsRoute implements AdminRoute {
    private final ClusterListings listings;

    TopicsRoute(ClusterListings listings) {
        this.listings = listings;
    }

    @Override
    public String path() {
        return "/api/v1/topics";
    }

    @Override
    public Access access() {
        return Access.USER;
    }

    /** A topic as the nodes listed it: its retained message's size (-1: none), each node's subscribers. */
    private record Row(String topic, long retainedBytes, Map<String, Integer> subscribers) {
        static Row of(Located<ActiveTopic> l) {
            ActiveTopic t = l.value();
            return new Row(t.topic(), t.retainedBytes(), t.subscribers() == 0 ? Map.of()
                    : Map.of(l.nodeId(), t.subscribers()));
        }

        /** This row and a later node's row of the same topic. */
        Row plus(Row later) {
            Map<String, Integer> both = new TreeMap<>(subscribers);
            both.putAll(later.subscribers);
            return new Row(topic, Math.max(retainedBytes, later.retainedBytes), both);
        }

        Map<String, Object> json() {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("topic", topic);
            j.put("retained", retainedBytes >= 0);
            if (retainedBytes >= 0) {
                j.put("retainedBytes", retainedBytes);
            }
            j.put("subscribers", subscribers.values().stream().mapToInt(Integer::intValue).sum());
            j.put("nodes", new TreeMap<>(subscribers));
            return j;
        }
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        int limit = ClientsRoute.limit(request.param("limit"));
        NodeOperations.TopicsQuery q = new NodeOperations.TopicsQuery(ClientsRoute.cursor(request.param("cursor")),
                request.param("like"), limit + 1);
        NodeOperations here = listings.operations();
        return listings.<List<ActiveTopic>>listed(request.param("node"), "topics", q,
                () -> CompletableFuture.completedFuture(here.topics(q))).thenApply(answers -> {
                    NodeRows<ActiveTopic> rows = NodeRows.of(answers);
                    List<List<Row>> perNode = rows.perNode().stream()
                            .map(l -> l.stream().map(Row::of).toList()).toList();
                    // a topic listed by several nodes (retained: by all) is one row
                    NodeMerge.Page<Row> page = NodeMerge.page(perNode, Row::topic, limit, Row::plus);
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("topics", page.items().stream().map(Row::json).toList());
                    m.put("next", page.hasMore()
                            ? ClientsRoute.encodeCursor(page.items().get(page.items().size() - 1).topic()) : null);
                    m.put("unanswered", rows.unanswered());
                    return AdminResponses.json(HttpResponseStatus.OK, m);
                });
    }
}
