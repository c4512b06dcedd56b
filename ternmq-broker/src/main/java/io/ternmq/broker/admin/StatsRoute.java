package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.ternmq.broker.metrics.BrokerMetrics;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** {@code GET /api/v1/stats}: the broker's counters since it started, as {@code /metrics} has them, in JSON. */
final class StatsRoute implements AdminRoute {
    private final BrokerMetrics m;

    StatsRoute(BrokerMetrics metrics) {
        this.m = metrics;
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
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("connectionsAccepted", m.connectionsAccepted.sum());
        s.put("connectsAccepted", m.connectsAccepted.sum());
        s.put("connectsRefused", m.connectsRefused.sum());
        s.put("bytesReceived", m.bytesReceived.sum());
        s.put("bytesSent", m.bytesSent.sum());
        s.put("publishesReceived", m.publishesReceived.sum());
        s.put("publishesSent", m.publishesSent.sum());
        s.put("publishBytesReceived", m.publishBytesReceived.sum());
        s.put("publishBytesSent", m.publishBytesSent.sum());
        s.put("authSucceeded", m.authSucceeded.sum());
        s.put("authFailed", m.authFailed.sum());
        s.put("willsPublished", m.willsPublished.sum());
        s.put("sessionsExpired", m.sessionsExpired.sum());
        s.put("sessionTakeovers", m.sessionTakeovers.sum());
        s.put("keepAliveTimeouts", m.keepAliveTimeouts.sum());
        s.put("protocolViolations", m.protocolViolations.sum());
        s.put("serverDisconnects", m.serverDisconnects.sum());
        Map<String, Object> dropped = new LinkedHashMap<>();
        dropped.put("queueFull", m.queueOverflowDrops.sum());
        dropped.put("expired", m.expiredMessages.sum());
        dropped.put("oversized", m.oversizedDrops.sum());
        dropped.put("offlineQos0", m.offlineQos0Drops.sum());
        dropped.put("slowConsumer", m.slowConsumerDrops.sum());
        s.put("dropped", dropped);
        Map<String, Object> denied = new LinkedHashMap<>();
        denied.put("publish", m.publishesDenied.sum());
        denied.put("subscribe", m.subscriptionsDenied.sum());
        denied.put("deliver", m.deliveriesDenied.sum());
        s.put("denied", denied);
        return CompletableFuture.completedFuture(AdminResponses.json(HttpResponseStatus.OK, s));
    }
}
