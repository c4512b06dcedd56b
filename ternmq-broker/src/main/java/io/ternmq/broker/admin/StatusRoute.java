package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code GET /api/v1/status}: the broker at a glance: version, uptime, connections, sessions, subscriptions and
 * retained messages (from {@code BrokerService.counts()}, which never waits for a loop). In a cluster the counts of
 * {@link ClusterListings#SUMMED_STATUS} are summed over the nodes that answered (retained messages are on every node,
 * so this node's count is the cluster's), and {@code nodes} has each node's status (or why it has none).
 */
final class StatusRoute implements AdminRoute {
    private final ClusterListings listings;

    StatusRoute(ClusterListings listings) {
        this.listings = listings;
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
        return listings.<Map<String, Object>>everyNode("status", null,
                () -> CompletableFuture.completedFuture(listings.status()))
                .thenApply(answers -> AdminResponses.json(HttpResponseStatus.OK, StatsRoute.summed(listings.status(),
                        answers, ClusterListings.SUMMED_STATUS::contains)));
    }
}
