package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.ternmq.broker.service.BrokerService;
import io.ternmq.broker.service.BrokerService.ClientSubscription;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * {@code GET /api/v1/subscriptions?like=&cursor=&limit=}: every session's subscriptions, in client id then filter
 * order, a page at a time; {@code like} is a part of the filter, {@code cursor} the previous page's {@code next}.
 */
final class SubscriptionsRoute implements AdminRoute {
    private final BrokerService service;

    SubscriptionsRoute(BrokerService service) {
        this.service = service;
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
        return service.subscriptions(after[0], after[1], request.param("like"), limit + 1).thenApply(found -> {
            List<ClientSubscription> page = found.size() > limit ? found.subList(0, limit) : found;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("subscriptions", page.stream().map(c -> {
                Map<String, Object> j = new LinkedHashMap<>();
                j.put("clientId", c.clientId());
                j.putAll(ClientJson.subscription(c.subscription()));
                return j;
            }).toList());
            ClientSubscription last = page.isEmpty() ? null : page.get(page.size() - 1);
            m.put("next", found.size() > limit ? encode(last) : null);
            return AdminResponses.json(HttpResponseStatus.OK, m);
        });
    }

    // a client id cannot hold U+0000 [MQTT-1.5.4-2], so it separates the two halves
    private static String encode(ClientSubscription c) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString((c.clientId() + "\0"
                + c.subscription().filter()).getBytes(StandardCharsets.UTF_8));
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
