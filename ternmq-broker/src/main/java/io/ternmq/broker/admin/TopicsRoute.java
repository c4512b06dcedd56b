package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.ternmq.broker.service.BrokerService;
import io.ternmq.broker.service.BrokerService.ActiveTopic;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code GET /api/v1/topics?like=&cursor=&limit=}: the topics in use, from the retained index and the subscriptions
 * (a filter with wildcards is listed as it was subscribed), in order, a page at a time: each with its retained
 * message's size (if any) and its number of subscribers.
 */
final class TopicsRoute implements AdminRoute {
    private final BrokerService service;

    TopicsRoute(BrokerService service) {
        this.service = service;
    }

    @Override
    public String path() {
        return "/api/v1/topics";
    }

    @Override
    public Access access() {
        return Access.USER;
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        int limit = ClientsRoute.limit(request.param("limit"));
        String after = ClientsRoute.cursor(request.param("cursor"));
        List<ActiveTopic> found = service.topics(after, request.param("like"), limit + 1);
        List<ActiveTopic> page = found.size() > limit ? found.subList(0, limit) : found;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("topics", page.stream().map(t -> {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("topic", t.topic());
            j.put("retained", t.retainedBytes() >= 0);
            if (t.retainedBytes() >= 0) {
                j.put("retainedBytes", t.retainedBytes());
            }
            j.put("subscribers", t.subscribers());
            return j;
        }).toList());
        m.put("next", found.size() > limit ? ClientsRoute.encodeCursor(page.get(page.size() - 1).topic()) : null);
        return CompletableFuture.completedFuture(AdminResponses.json(HttpResponseStatus.OK, m));
    }
}
