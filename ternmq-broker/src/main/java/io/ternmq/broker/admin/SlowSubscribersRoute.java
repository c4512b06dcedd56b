package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.ternmq.broker.service.BrokerService;
import io.ternmq.broker.session.ConnectionInfo;
import io.ternmq.broker.session.SessionInfo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;

/**
 * {@code GET /api/v1/slow-subscribers?cursor=&limit=}: sessions that do not keep up, in client id order, a page at
 * a time: with messages queued behind the in-flight window, with the window full (acknowledgements not coming), or
 * connected through a socket that has been unwritable (the client stopped reading) for {@code unwritableSeconds}.
 * Each session's state is read on its own loop, as the client listing does.
 */
final class SlowSubscribersRoute implements AdminRoute {
    private final BrokerService service;

    SlowSubscribersRoute(BrokerService service) {
        this.service = service;
    }

    @Override
    public String path() {
        return "/api/v1/slow-subscribers";
    }

    @Override
    public Access access() {
        return Access.USER;
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        int limit = ClientsRoute.limit(request.param("limit"));
        String after = ClientsRoute.cursor(request.param("cursor"));
        Predicate<SessionInfo> slow = s -> !reasons(s).isEmpty();
        return service.sessions(after, id -> true, slow, limit + 1).thenApply(found -> {
            List<SessionInfo> page = found.size() > limit ? found.subList(0, limit) : found;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("slowSubscribers", page.stream().map(SlowSubscribersRoute::json).toList());
            m.put("next", found.size() > limit ? ClientsRoute.encodeCursor(page.get(page.size() - 1).clientId())
                    : null);
            return AdminResponses.json(HttpResponseStatus.OK, m);
        });
    }

    private static List<String> reasons(SessionInfo s) {
        List<String> why = new ArrayList<>(3);
        if (s.queued() > 0) {
            why.add("queued");
        }
        ConnectionInfo c = s.connection();
        if (c != null && c.maxInflight() > 0 && s.inflight() >= c.maxInflight()) {
            why.add("inflight_full");
        }
        if (c != null && c.unwritableMillis() > 0) {
            why.add("unwritable");
        }
        return why;
    }

    private static Map<String, Object> json(SessionInfo s) {
        Map<String, Object> j = new LinkedHashMap<>();
        ConnectionInfo c = s.connection();
        j.put("clientId", s.clientId());
        j.put("connected", c != null);
        j.put("reasons", reasons(s));
        j.put("queued", s.queued());
        j.put("inflight", s.inflight());
        j.put("maxInflight", c == null ? null : c.maxInflight());
        j.put("unwritableSeconds", c == null ? 0 : c.unwritableMillis() / 1000);
        return j;
    }
}
