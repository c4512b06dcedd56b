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
        String node = node(listings, request.param("node"));
        // one more than asked tells whether there is a next page
        ClusterListings.ClientsQuery q = new ClusterListings.ClientsQuery(after, request.param("like"),
                request.param("username"), request.param("ip"), bool("connected", request.param("connected")),
                limit + 1);
        CompletionStage<List<NodeQueries.Answer<List<SessionInfo>>>> answers = node == null
                ? listings.everyNode("clients", q, () -> listings.localClients(q))
                : listings.<List<SessionInfo>>oneNode(node, "clients", q, () -> listings.localClients(q))
                .thenApply(List::of);
        return answers.thenApply(nodes -> {
            // each node's page is in client id order: merged, they are the cluster's page (NodeMerge.page)
            List<List<Located>> pages = new ArrayList<>();
            List<Map<String, Object>> unanswered = new ArrayList<>();
            for (NodeQueries.Answer<List<SessionInfo>> a : nodes) {
                if (!a.answered()) {
                    unanswered.add(unanswered(a));
                    continue;
                }
                pages.add(a.value().stream().map(s -> new Located(a.nodeId(), s)).toList());
            }
            NodeMerge.Page<Located> page = NodeMerge.page(pages, l -> l.info().clientId(), limit);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("clients", page.items().stream().map(l -> {
                Map<String, Object> c = ClientJson.session(l.info());
                c.put("node", l.node());
                return c;
            }).toList());
            m.put("next", page.hasMore() ? encodeCursor(page.items().get(page.items().size() - 1).info().clientId())
                    : null);
            m.put("unanswered", unanswered);
            return AdminResponses.json(HttpResponseStatus.OK, m);
        });
    }

    private record Located(String node, SessionInfo info) {
    }

    /** {@code node}: a member's id, or null (every node); 404 for one that is no member. */
    static String node(ClusterListings listings, String node) {
        if (node != null && !listings.isNode(node)) {
            throw AdminException.notFound("no node '" + node + "' in the cluster");
        }
        return node;
    }

    /** A node that did not answer, as listings name it. */
    static Map<String, Object> unanswered(NodeQueries.Answer<?> a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("node", a.nodeId());
        m.put("error", a.error());
        return m;
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
