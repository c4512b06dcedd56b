package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.ternmq.broker.service.BrokerService;
import io.ternmq.broker.session.Session;
import io.ternmq.broker.session.SessionInfo;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;

/**
 * {@code GET /api/v1/clients?like=&username=&ip=&connected=&cursor=&limit=}: sessions in client id order, a page
 * at a time. {@code like} is a part of the client id; {@code cursor} is the {@code next} of the previous page.
 */
final class ClientsRoute implements AdminRoute {
    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;

    private final BrokerService service;

    ClientsRoute(BrokerService service) {
        this.service = service;
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
        String like = request.param("like");
        String username = request.param("username");
        String ip = request.param("ip");
        Boolean connected = bool("connected", request.param("connected"));
        // checked on every session without asking its loop; the state filter below checks again, consistently
        Predicate<Session> sessionFilter = s -> (like == null || s.clientId().contains(like))
                && (connected == null || connected == s.isOnline());
        Predicate<SessionInfo> filter = s -> (connected == null || connected == (s.connection() != null))
                && (username == null || (s.connection() != null && username.equals(s.connection().username())))
                && (ip == null || (s.connection() != null
                && ip.equals(ClientJson.host(s.connection().remoteAddress()))));
        // one more than asked tells whether there is a next page
        return service.sessions(after, sessionFilter, filter, limit + 1).thenApply(found -> {
            List<SessionInfo> page = found.size() > limit ? found.subList(0, limit) : found;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("clients", page.stream().map(ClientJson::session).toList());
            m.put("next", found.size() > limit ? encodeCursor(page.get(page.size() - 1).clientId()) : null);
            return AdminResponses.json(HttpResponseStatus.OK, m);
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
