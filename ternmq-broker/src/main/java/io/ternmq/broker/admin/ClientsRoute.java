package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.ternmq.broker.cluster.NodeQueries;
import io.ternmq.broker.session.SessionInfo;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * {@code GET /api/v1/clients?like=&username=&ip=&connected=&node=&cursor=&limit=}: sessions in client id order
 * ({@link String#compareTo}), a page at a time, of every node of the cluster (of {@code node} only, if given), each
 * with the node that holds it. {@code like} is a part of the client id; {@code cursor} is the {@code next} of the
 * previous page; {@code unanswered} names the nodes that did not answer in time (their clients are missing).
 */
final class ClientsRoute implements AdminRoute {
    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;

    private final ClusterListings listings;

    ClientsRoute(ClusterListings listings) {
        this.listings = listings;
    }

    @Override
    public String path() {
        return "/api/v1/clients";
    }

    @Override
    public Access access() {
        return Access.USER;
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        int limit = limit(request.param("limit"));
        String after = cursor(request.param("cursor"));
        // one more than asked tells whether there is a next page
        ClusterListings.ClientsQuery q = new ClusterListings.ClientsQuery(after, request.param("like"),
                request.param("username"), request.param("ip"), bool("connected", request.param("connected")),
                limit + 1);
        return listings.<List<SessionInfo>>listed(request.param("node"), "clients", q, () -> listings.localClients(q))
                .thenApply(answers -> {
                    // each node's page is in client id order: merged, they are the cluster's page (NodeMerge.page)
                    NodeRows<SessionInfo> rows = NodeRows.of(answers);
                    return AdminResponses.json(HttpResponseStatus.OK, rows.paged("clients",
                            rows.page(SessionInfo::clientId, limit), ClientJson::session,
                            s -> encodeCursor(s.clientId())));
                });
    }

    /** {@code limit}: 1 to {@value #MAX_LIMIT}, default {@value #DEFAULT_LIMIT}; 400 otherwise. */
    static int limit(String value) {
        if (value == null) {
            return DEFAULT_LIMIT;
        }
        int n;
        try {
            n = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw AdminException.badRequest("limit must be a number from 1 to " + MAX_LIMIT + ", not '" + value
                    + "'");
        }
        if (n < 1 || n > MAX_LIMIT) {
            throw AdminException.badRequest("limit must be from 1 to " + MAX_LIMIT + ", not " + n);
        }
        return n;
    }

    static Boolean bool(String name, String value) {
        if (value == null) {
            return null;
        }
        return switch (value) {
            case "true" -> true;
            case "false" -> false;
            default -> throw AdminException.badRequest(name + " must be true or false, not '" + value + "'");
        };
    }

    static String encodeCursor(String clientId) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(clientId.getBytes(StandardCharsets.UTF_8));
    }

    static String cursor(String value) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        try {
            return new String(Base64.getUrlDecoder().decode(value), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw AdminException.badRequest("cursor is not one this API gave");
        }
    }

}
