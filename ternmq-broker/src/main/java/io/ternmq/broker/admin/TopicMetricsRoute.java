package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.ternmq.broker.metrics.TopicMetrics;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code /api/v1/topic-metrics}: {@code POST {"filter"}} starts counting messages and payload bytes in and out for a
 * topic filter (at most {@value TopicMetrics#MAX}), {@code GET} lists the counts, {@code DELETE ?filter=} stops.
 * Counting costs nothing while no filter is registered.
 */
final class TopicMetricsRoute implements AdminRoute {
    private final TopicMetrics metrics;

    TopicMetricsRoute(TopicMetrics metrics) {
        this.metrics = metrics;
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
        if (request.method().equals(HttpMethod.GET)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("topicMetrics", metrics.registered().stream().map(TopicMetricsRoute::json).toList());
            m.put("max", TopicMetrics.MAX);
            return done(AdminResponses.json(HttpResponseStatus.OK, m));
        }
        if (request.method().equals(HttpMethod.POST)) {
            String filter = ClientRoute.filter(request.jsonBody().get("filter"));
            return switch (metrics.register(filter, System.currentTimeMillis())) {
                case ADDED -> done(AdminResponses.json(HttpResponseStatus.CREATED, json(metrics.registered().stream()
                        .filter(c -> c.filter().equals(filter)).findFirst().orElseThrow())));
                case ALREADY -> throw new AdminException(HttpResponseStatus.CONFLICT,
                        "'" + filter + "' is already registered");
                case FULL -> throw AdminException.badRequest("at most " + TopicMetrics.MAX
                        + " topic filters can be registered; DELETE one first");
            };
        }
        String filter = ClientRoute.filter(request.param("filter"));
        if (!metrics.unregister(filter)) {
            throw AdminException.notFound("'" + filter + "' is not registered");
        }
        return done(AdminResponses.json(HttpResponseStatus.OK, Map.of("unregistered", filter)));
    }

    private static Map<String, Object> json(TopicMetrics.Counts c) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("filter", c.filter());
        j.put("registeredAt", Instant.ofEpochMilli(c.registeredAtMillis()).toString());
        j.put("messagesIn", c.messagesIn());
        j.put("bytesIn", c.bytesIn());
        j.put("messagesOut", c.messagesOut());
        j.put("bytesOut", c.bytesOut());
        return j;
    }

    private static CompletionStage<FullHttpResponse> done(FullHttpResponse r) {
        return CompletableFuture.completedFuture(r);
    }
}
