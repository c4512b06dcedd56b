package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.metrics.BuildInfo;
import io.ternmq.broker.service.BrokerCounts;
import io.ternmq.broker.service.BrokerService;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /api/v1/status}: the broker at a glance: version, uptime, connections, sessions, subscriptions and
 * retained messages (from {@link BrokerService#counts()}, which never waits for a loop).
 */
final class StatusRoute implements AdminRoute {
    private final BrokerService service;
    private final BrokerMetrics metrics;
    private final long startNanos = System.nanoTime();

    StatusRoute(BrokerService service, BrokerMetrics metrics) {
        this.service = service;
        this.metrics = metrics;
    }

    @Override
    public String path() {
        return "/api/v1/status";
    }

    @Override
    public Access access() {
        return Access.USER;
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        BrokerCounts c = service.counts();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", BuildInfo.version());
        m.put("commit", BuildInfo.commit());
        m.put("uptimeSeconds", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNanos));
        m.put("connections", metrics.connectionsOpen.get());
        m.put("clientsConnected", metrics.clientsConnected.get());
        m.put("clientsMaximum", metrics.clientsMaximum.get());
        m.put("sessions", c.sessions());
        m.put("sessionsOnline", c.sessionsOnline());
        m.put("subscriptions", c.subscriptions());
        m.put("sharedSubscriptions", c.sharedSubscriptions());
        m.put("retained", c.retainedMessages());
        m.put("retainedBytes", c.retainedBytes());
        m.put("queuedMessages", c.queuedMessages());
        m.put("inflightMessages", c.inflightMessages());
        return CompletableFuture.completedFuture(AdminResponses.json(HttpResponseStatus.OK, m));
    }
}
