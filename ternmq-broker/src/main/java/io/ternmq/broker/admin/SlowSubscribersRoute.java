package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.ternmq.broker.session.ConnectionInfo;
import io.ternmq.broker.session.SessionInfo;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * {@code GET /api/v1/slow-subscribers?node=&cursor=&limit=}: sessions that do not keep up, of every node of the
 * cluster (of {@code node} only, if given), in client id order, a page at a time, each with its node: with messages
 * queued behind the in-flight window, with the window full (acknowledgements not coming), or connected through a
 * socket that has been unwritable (the client stopped reading) for {@code unwritableSeconds}
 * ({@link NodeOperations#slowReasons}). Each session's state is read on its own loop, as the client listing does;
 * {@code unanswered} names the nodes that did not answer in time.
 */
final class SlowSubscribersRoute implements AdminRoute {
    private final ClusterListings listings;

    SlowSubscribersRoute(ClusterListings listings) {
        this.listings = listings;
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
        // one more than asked tells whether there is a next page
        NodeOperations.SlowQuery q = new NodeOperations.SlowQuery(ClientsRoute.cursor(request.param("cursor")),
                limit + 1);
        NodeOperations here = listings.operations();
        return listings.<List<SessionInfo>>listed(request.param("node"), "slow-subscribers", q,
                () -> here.slowSubscribers(q)).thenApply(answers -> {
                    NodeRows<SessionInfo> rows = NodeRows.of(answers);
                    return AdminResponses.json(HttpResponseStatus.OK, rows.paged("slowSubscribers",
                            rows.page(SessionInfo::clientId, limit), SlowSubscribersRoute::json,
                            s -> ClientsRoute.encodeCursor(s.clientId())));
                });
    }

    private static Map<String, Object> json(SessionInfo s) {
        Map<String, Object> j = new LinkedHashMap<>();
        ConnectionInfo c = s.connection();
        j.put("clientId", s.clientId());
        j.put("connected", c != null);
        j.put("reasons", NodeOperations.slowReasons(s));
        j.put("queued", s.queued());
        j.put("inflight", s.inflight());
        j.put("maxInflight", c == null ? null : c.maxInflight());
        j.put("unwritableSeconds", c == null ? 0 : c.unwritableMillis() / 1000);
        return j;
    }
}
