package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** {@code GET /metrics}: the Prometheus scrape ({@link PrometheusMetrics}). */
final class MetricsRoute implements AdminRoute {
    private final PrometheusMetrics metrics;

    MetricsRoute(PrometheusMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public String path() {
        return "/metrics";
    }

    @Override
    public Access access() {
        return Access.METRICS;
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        return CompletableFuture.completedFuture(
                AdminResponses.text(HttpResponseStatus.OK, PrometheusMetrics.CONTENT_TYPE, metrics.scrape()));
    }
}
