package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.ternmq.broker.cluster.NodeQueries;
import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.session.SessionInfo;
import io.ternmq.broker.service.BrokerService;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.TopicSyntax;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One client, {@code /api/v1/clients/{id}} (the id percent-encoded UTF-8): {@code GET} its session,
 * {@code DELETE ?will=false&session=discard} kicks it (MQTT 5 clients get DISCONNECT 0x98, Administrative action;
 * its will is published unless {@code will=false}, as for any connection the server closes [MQTT-3.1.2-8];
 * {@code session=discard} ends its session too); {@code /subscriptions}: {@code GET} them, {@code POST}
 * {@code {"filter","qos"}} adds one, {@code DELETE ?filter=} removes one. In a cluster each of these is done on the
 * node holding the client (this one, else the one the session directory names); GETs and the kick's answer name it.
 */
final class ClientRoute implements AdminRoute {
    private static final String SUBSCRIPTIONS = "subscriptions";

    private final BrokerService service;
    private final ClusterListings listings;

    ClientRoute(BrokerService service, ClusterListings listings) {
        this.service = service;
        this.listings = listings;
    }

    @Override
    public String path() {
        return "/api/v1/clients/";
    }

    @Override
    public boolean prefix() {
        return true;
    }

    @Override
    public Set<HttpMethod> methods() {
        return Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.DELETE);
    }

    @Override
    public Access access() {
        return Access.USER;
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        List<String> tail = request.tail();
        String id = tail.get(0);
        if (tail.size() == 1) {
            if (request.method().equals(HttpMethod.GET)) {
                return show(id);
            }
            if (request.method().equals(HttpMethod.DELETE)) {
                return kick(id, request);
            }
            return notAllowed(request.method(), "DELETE, GET");
        }
        if (tail.size() == 2 && tail.get(1).equals(SUBSCRIPTIONS)) {
            if (request.method().equals(HttpMethod.GET)) {
                return subscriptions(id);
            }
            if (request.method().equals(HttpMethod.POST)) {
                return subscribe(id, request);
            }
            return unsubscribe(id, request);
        }
        throw AdminException.notFound("no such path under /api/v1/clients/");
    }

    /** The client's session, from the node holding it (in a cluster, the one the session directory names). */
    private CompletionStage<FullHttpResponse> show(String id) {
        return listings.<SessionInfo>locate(id, "client", id, () -> service.session(id)).thenApply(a -> {
            Map<String, Object> m = ClientJson.session(found(id, a));
            m.put("node", a.nodeId());
            return AdminResponses.json(HttpResponseStatus.OK, m);
        });
    }

    /**
     * The value of a node's answer about a client: 404 if no node holds it, 503 naming the node that holds it if it
     * did not answer.
     */
    private static <T> T found(String id, NodeQueries.Answer<T> a) {
        if (a == null) {
            throw unknown(id);
        }
        if (!a.answered()) {
            throw new AdminException(HttpResponseStatus.SERVICE_UNAVAILABLE, "client '" + id + "' is on node "
                    + a.nodeId() + ", which did not answer: " + a.error());
        }
        return a.value();
    }

    private CompletionStage<FullHttpResponse> kick(String id, AdminRequest request) {
        Boolean will = ClientsRoute.bool("will", request.param("will"));
        String session = request.param("session");
        if (session != null && !session.equals("keep") && !session.equals("discard")) {
            throw AdminException.badRequest("session must be keep or discard, not '" + session + "'");
        }
        boolean discard = "discard".equals(session);
        ClusterListings.KickRequest k = new ClusterListings.KickRequest(id, ReasonCode.ADMINISTRATIVE_ACTION,
                "kicked by admin user '" + request.user() + "'", will == null || will, discard);
        // here if this node holds the client, else on the node the session directory names
        return listings.<BrokerService.KickOutcome>locate(id, "kick", k,
                () -> service.kick(id, k.reasonCode(), k.why(), k.publishWill(), k.endSession())
                        .thenApply(o -> o.found() ? o : null)).thenApply(a -> {
                            BrokerService.KickOutcome outcome = found(id, a);
                            if (!outcome.found()) {
                                throw unknown(id);
                            }
                            // says what happened: an offline client is not kicked, its session kept or ended as asked
                            Map<String, Object> m = new java.util.LinkedHashMap<>();
                            m.put("clientId", id);
                            m.put("node", a.nodeId());
                            m.put("kicked", outcome.disconnected());
                            m.put("sessionDiscarded", outcome.sessionEnded());
                            m.put("willDiscarded", outcome.willDiscarded());
                            return AdminResponses.json(HttpResponseStatus.OK, m);
                        });
    }

    private CompletionStage<FullHttpResponse> subscriptions(String id) {
        return listings.subscriptions(id).thenApply(a -> {
            List<Subscription> subs = found(id, a);
            return AdminResponses.json(HttpResponseStatus.OK, Map.of("clientId", id, "node", a.nodeId(),
                    "subscriptions", subs.stream().sorted(java.util.Comparator.comparing(Subscription::filter))
                            .map(ClientJson::subscription).toList()));
        });
    }

    private CompletionStage<FullHttpResponse> subscribe(String id, AdminRequest request) {
        Map<String, Object> body = request.jsonBody();
        String filter = filter(body.get("filter"));
        QoS qos = qos(body.get("qos"));
        Subscription sub = new Subscription(filter, qos, flag(body, "noLocal"), flag(body, "retainAsPublished"),
                retainHandling(body.get("retainHandling")), 0);
        // on the node holding the client (its owner loop there), as its own SUBSCRIBE
        return listings.<Boolean>locate(id, "subscribe", new ClusterListings.SubscribeRequest(id, sub),
                () -> service.subscribe(id, List.of(sub)).thenApply(found -> found ? Boolean.TRUE : null))
                .thenApply(a -> {
                    found(id, a);
                    return AdminResponses.json(HttpResponseStatus.CREATED, ClientJson.subscription(sub));
                });
    }

    private CompletionStage<FullHttpResponse> unsubscribe(String id, AdminRequest request) {
        String filter = filter(request.param("filter"));
        return listings.<List<Boolean>>locate(id, "unsubscribe", new ClusterListings.UnsubscribeRequest(id, filter),
                () -> service.unsubscribe(id, List.of(filter))).thenApply(a -> {
            List<Boolean> had = found(id, a);
            if (!had.get(0)) {
                throw AdminException.notFound("client '" + id + "' has no subscription to '" + filter + "'");
            }
            return AdminResponses.json(HttpResponseStatus.OK, Map.of("clientId", id, "unsubscribed", filter));
        });
    }

    static String filter(Object value) {
        if (!(value instanceof String f) || !TopicSyntax.isValidTopicFilter(f)) {
            throw AdminException.badRequest("filter must be a valid MQTT topic filter, not " + describe(value));
        }
        return f;
    }

    static QoS qos(Object value) {
        if (value == null) {
            return QoS.AT_MOST_ONCE;
        }
        if (!(value instanceof Long n) || n < 0 || n > 2) {
            throw AdminException.badRequest("qos must be 0, 1 or 2, not " + describe(value));
        }
        return QoS.of(n.intValue());
    }

    private static boolean flag(Map<String, Object> body, String name) {
        Object v = body.get(name);
        if (v == null) {
            return false;
        }
        if (!(v instanceof Boolean b)) {
            throw AdminException.badRequest(name + " must be true or false, not " + describe(v));
        }
        return b;
    }

    private static int retainHandling(Object value) {
        if (value == null) {
            return 0;
        }
        if (!(value instanceof Long n) || n < 0 || n > 2) {
            throw AdminException.badRequest("retainHandling must be 0, 1 or 2, not " + describe(value));
        }
        return n.intValue();
    }

    static String describe(Object value) {
        return value == null ? "missing" : value instanceof String s ? "'" + s + "'" : String.valueOf(value);
    }

    private static AdminException unknown(String id) {
        return AdminException.notFound("no client '" + id + "'");
    }

    private static CompletionStage<FullHttpResponse> notAllowed(HttpMethod method, String allow) {
        FullHttpResponse r = AdminResponses.error(HttpResponseStatus.METHOD_NOT_ALLOWED,
                method + " is not allowed here");
        r.headers().set(HttpHeaderNames.ALLOW, allow);
        return CompletableFuture.completedFuture(r);
    }
}
