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
 * {@code GET /api/v1/nodes}: every member of the cluster in node id order (on a single node, that node): its id,
 * addresses, version, uptime, counts and message rates as it reports them ({@link ClusterListings#report}), whether
 * it is this node, and how this node sees it (member, data link up, routes received). A member that did not answer
 * in time is listed with {@code error} and what this node knows of it.
 */
final class NodesRoute implements AdminRoute {
    private final ClusterListings listings;

    NodesRoute(ClusterListings listings) {
        this.listings = listings;
    }

    @Override
    public String path() {
        return "/api/v1/nodes";
    }

    @Override
    public Access access() {
        return Access.USER;
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        return listings.<Map<String, Object>>everyNode("node", null,
                () -> CompletableFuture.completedFuture(listings.report())).thenApply(answers -> {
                    List<Object> nodes = new ArrayList<>();
                    for (NodeQueries.Answer<Map<String, Object>> a : answers) {
                        Map<String, Object> n = new LinkedHashMap<>();
                        n.put("node", a.nodeId());
                        boolean self = a.nodeId().equals(listings.nodeId());
                        n.put("self", self);
                        NodeQueries.PeerState p = listings.peer(a.nodeId());
                        n.put("member", self || p == null || p.member());
                        n.put("linkUp", self ? null : p != null && p.linkUp());
                        n.put("routesReceived", self ? null : p != null && p.routesReceived());
                        if (a.answered()) {
                            a.value().forEach(n::putIfAbsent);
                        } else {
                            n.put("error", a.error());
                        }
                        nodes.add(n);
                    }
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("clustered", listings.clustered());
                    m.put("nodes", nodes);
                    return AdminResponses.json(HttpResponseStatus.OK, m);
                });
    }
}
