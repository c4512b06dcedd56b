package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.ternmq.broker.cluster.NodeQueries;
import io.ternmq.broker.service.BrokerService.ClientSubscription;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * {@code GET /api/v1/subscriptions?like=&node=&cursor=&limit=}: every session's subscriptions, of every node of the
 * cluster (of {@code node} only, if given), in client id then filter order, a page at a time, each with its node;
 * {@code like} is a part of the filter, {@code cursor} the previous page's {@code next}; {@code unanswered} names
 * the nodes that did not answer in time.
 */
final class SubscriptionsRoute implements AdminRoute {
    private final ClusterListings listings;

    SubscriptionsRoute(ClusterListings listings) {
        this.listings = listings;
    }

    @Override
    public String path() {
        return "/api/v1/subscriptions";
    }

    @Override
    public Access access() {
        return Access.USER;
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        int limit = ClientsRoute.limit(request.param("limit"));
        String[] after = cursor(request.param("cursor"));
        // one more than asked tells whether there is a next page
        ClusterListings.SubscriptionsQuery q = new ClusterListings.SubscriptionsQuery(after[0], after[1],
                request.param("like"), limit + 1);
        return listings.<List<ClientSubscription>>listed(request.param("node"), "subscription-page", q,
                () -> listings.localSubscriptions(q)).thenApply(answers -> {
                    NodeRows<ClientSubscription> rows = NodeRows.of(answers);
                    // (client id, filter) order is the order of "client id U+0000 filter": no client id holds U+0000
                    return AdminResponses.json(HttpResponseStatus.OK, rows.paged("subscriptions",
                            rows.page(SubscriptionsRoute::key, limit), c -> {
                                Map<String, Object> j = new LinkedHashMap<>();
                                j.put("clientId", c.clientId());
                                j.putAll(ClientJson.subscription(c.subscription()));
                                return j;
                            }, SubscriptionsRoute::encode));
                });
    }

    private static String key(ClientSubscription c) {
        return c.clientId() + "\0" + c.subscription().filter();
    }

    // a client id cannot hold U+0000 [MQTT-1.5.4-2], so it separates the two halves
    private static String encode(ClientSubscription c) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(key(c).getBytes(StandardCharsets.UTF_8));
    }

    private static String[] cursor(String value) {
        if (value == null || value.isEmpty()) {
            return new String[2];
        }
        String decoded;
        try {
            decoded = new String(Base64.getUrlDecoder().decode(value), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw AdminException.badRequest("cursor is not one this API gave");
        }
        int zero = decoded.indexOf('\0');
        if (zero < 0) {
            throw AdminException.badRequest("cursor is not one this API gave");
        }
        return new String[] {decoded.substring(0, zero), decoded.substring(zero + 1)};
    }
}
