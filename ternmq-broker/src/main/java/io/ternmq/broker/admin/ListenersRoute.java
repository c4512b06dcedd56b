package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code GET /api/v1/listeners?node=}: the MQTT listeners of every node of the cluster (of {@code node} only, if
 * given), in node id order, each with its node, address (port 0 resolved), transport, TLS certificate expiry and
 * open connections ({@link NodeOperations#listeners}); a node lists none until they are bound (the admin listener
 * opens first). {@code unanswered} names the nodes that did not answer in time.
 */
final class ListenersRoute implements AdminRoute {
    private final ClusterListings listings;

    ListenersRoute(ClusterListings listings) {
        this.listings = listings;
    }

    @Override
    public String path() {
        return "/api/v1/listeners";
    }

    @Override
    public Access access() {
        return Access.USER;
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        NodeOperations here = listings.operations();
        return listings.<List<LinkedHashMap<String, Object>>>listed(request.param("node"), "listeners", null,
                () -> CompletableFuture.completedFuture(here.listeners())).thenApply(answers -> {
                    NodeRows<LinkedHashMap<String, Object>> rows = NodeRows.of(answers);
                    return AdminResponses.json(HttpResponseStatus.OK,
                            rows.json("listeners", rows.all(), l -> new LinkedHashMap<String, Object>(l)));
                });
    }
}
