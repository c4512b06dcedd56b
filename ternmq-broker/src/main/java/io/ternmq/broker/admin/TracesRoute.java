package io.ternmq.broker.admin;

import io.ternmq.broker.json.Json;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.ternmq.broker.admin.ClusterListings.Located;
import io.ternmq.broker.cluster.NodeQueries;
import io.ternmq.broker.trace.Trace;
import io.ternmq.broker.trace.TraceEvent;
import io.ternmq.broker.trace.Traces;
import io.ternmq.codec.TopicSyntax;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * Traces ({@link Traces}), on every node of the cluster: {@code GET /api/v1/traces} lists them, each with the events
 * recorded summed over the nodes ({@code nodes}: each node's); {@code POST} with one of {@code clientId},
 * {@code topic} (a filter) or {@code ip}, and {@code durationSeconds} (1 to 1800, default 300) and {@code payloads}
 * (default false) starts one on every node ({@link ClusterRegistrations}); {@code GET /api/v1/traces/{id}} downloads
 * what every node recorded (JSON, each event naming its node); {@code GET /api/v1/traces/{id}/live} follows it as
 * Server-Sent Events from every node until it ends; {@code DELETE} stops and forgets it everywhere. One instance
 * serves the collection ({@link #collection}), another each trace ({@link #one}).
 */
final class TracesRoute implements AdminRoute {
    static final long DEFAULT_DURATION_SECONDS = 300;
    private static final long POLL_MILLIS = 250;
    private static final long KEEP_ALIVE_NANOS = TimeUnit.SECONDS.toNanos(15);
    /** The most events one node's answer to a live view carries (the next poll asks for more). */
    static final int EVENTS_PER_POLL = 500;

    private final ClusterListings listings;
    private final Traces traces;
    private final EventExecutor loop;
    private final boolean one;

    private TracesRoute(ClusterListings listings, Traces traces, EventExecutor loop, boolean one) {
        this.listings = listings;
        this.traces = traces;
        this.loop = loop;
        this.one = one;
    }

    static TracesRoute collection(ClusterListings listings, Traces traces, EventExecutor loop) {
        return new TracesRoute(listings, traces, loop, false);
    }

    static TracesRoute one(ClusterListings listings, Traces traces, EventExecutor loop) {
        return new TracesRoute(listings, traces, loop, true);
    }

    @Override
    public String path() {
        return one ? "/api/v1/traces/" : "/api/v1/traces";
    }

    @Override
    public boolean prefix() {
        return one;
    }

    @Override
    public Set<HttpMethod> methods() {
        return one ? Set.of(HttpMethod.GET, HttpMethod.DELETE) : Set.of(HttpMethod.GET, HttpMethod.POST);
    }

    @Override
    public Access access() {
        return Access.USER;
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        NodeOperations here = listings.operations();
        if (!one) {
            if (request.method().equals(HttpMethod.POST)) {
                return start(request);
            }
            return listings.<Map<String, Long>>everyNode("traces", null,
                    () -> CompletableFuture.completedFuture(here.traceCounts())).thenApply(answers ->
                    AdminResponses.json(HttpResponseStatus.OK, listed(traces.list(), answers)));
        }
        List<String> tail = request.tail();
        Trace t = traces.get(tail.get(0));
        if (t == null || tail.size() > 2 || (tail.size() == 2 && !tail.get(1).equals("live"))) {
            throw AdminException.notFound("no trace '" + tail.get(0) + "'" + (tail.size() > 1 ? " or no such path"
                    : ""));
        }
        if (request.method().equals(HttpMethod.DELETE)) {
            if (tail.size() == 2) {
                FullHttpResponse r = AdminResponses.error(HttpResponseStatus.METHOD_NOT_ALLOWED,
                        "DELETE the trace, not its live view");
                r.headers().set(HttpHeaderNames.ALLOW, "GET");
                return done(r);
            }
            return listings.onAdminLoop(listings.registrations().removeTrace(t.id())).thenApply(had ->
                    AdminResponses.json(HttpResponseStatus.OK, Map.of("id", t.id(), "deleted", true)));
        }
        if (tail.size() == 2) {
            return done(new StreamingResponse("text/event-stream; charset=utf-8", ctx -> new LiveView(t, ctx)
                    .start()));
        }
        NodeOperations.TraceQuery q = new NodeOperations.TraceQuery(t.id(), new HashMap<>(), Trace.MAX_EVENTS);
        return listings.<NodeOperations.TraceEvents>everyNode("trace-events", q,
                () -> CompletableFuture.completedFuture(here.traceEvents(q))).thenApply(answers -> {
                    FullHttpResponse r = AdminResponses.json(HttpResponseStatus.OK, download(t, answers));
                    r.headers().set(HttpHeaderNames.CONTENT_DISPOSITION, "attachment; filename=\"trace-" + t.id()
                            + ".json\"");
                    return r;
                });
    }

    /**
     * {@code GET traces}: this node's traces (every node keeps the cluster's), each with the events recorded summed
     * over the nodes that answered and {@code nodes}, each node's count; then {@code unanswered}.
     */
    static Map<String, Object> listed(List<Trace> kept, List<NodeQueries.Answer<Map<String, Long>>> answers) {
        NodeRows<Map<String, Long>> rows = NodeRows.of(answers.stream().map(a -> new NodeQueries.Answer<>(
                a.nodeId(), a.value() == null ? null : List.of(a.value()), a.error())).toList());
        List<Map<String, Object>> out = new ArrayList<>();
        for (Trace t : kept) {
            Map<String, Object> m = meta(t);
            Map<String, Long> nodes = new TreeMap<>();
            for (Located<Map<String, Long>> l : rows.all()) {
                Long n = l.value().get(t.id());
                if (n != null) {
                    nodes.put(l.nodeId(), n);
                }
            }
            m.put("recorded", nodes.values().stream().mapToLong(Long::longValue).sum());
            m.put("nodes", nodes);
            out.add(m);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("traces", out);
        m.put("unanswered", rows.unanswered());
        return m;
    }

    /**
     * A trace's download: its description, {@code recorded} summed over the nodes that answered, {@code events}
     * ({@link #merged}), {@code nodes} (each node's {@code recorded} and events {@code kept}), {@code unanswered}.
     */
    static Map<String, Object> download(Trace t, List<NodeQueries.Answer<NodeOperations.TraceEvents>> answers) {
        Map<String, Object> m = meta(t);
        Map<String, Object> nodes = new TreeMap<>();
        List<Map<String, Object>> unanswered = new ArrayList<>();
        long recorded = 0;
        for (NodeQueries.Answer<NodeOperations.TraceEvents> a : answers) {
            if (!a.answered()) {
                unanswered.add(NodeRows.unanswered(a));
            } else if (a.value() != null) {
                recorded += a.value().recorded();
                Map<String, Object> n = new LinkedHashMap<>();
                n.put("recorded", a.value().recorded());
                n.put("kept", a.value().events().size());
                nodes.put(a.nodeId(), n);
            }
        }
        m.put("recorded", recorded);
        m.put("events", merged(answers).stream().map(l -> {
            Map<String, Object> j = event(l.value());
            j.put("node", l.nodeId());
            return j;
        }).toList());
        m.put("nodes", nodes);
        m.put("unanswered", unanswered);
        return m;
    }

    /**
     * The events of every node that answered, in time order: each node's in the order it recorded them (its clock),
     * the nodes' interleaved by time (ties in node order). Nodes' clocks may differ a little; each event names its
     * node and its number there.
     */
    static List<Located<TraceEvent>> merged(List<NodeQueries.Answer<NodeOperations.TraceEvents>> answers) {
        List<List<TraceEvent>> lists = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (NodeQueries.Answer<NodeOperations.TraceEvents> a : answers) {
            if (a.answered() && a.value() != null) {
                lists.add(a.value().events());
                ids.add(a.nodeId());
            }
        }
        int[] next = new int[lists.size()];
        List<Located<TraceEvent>> out = new ArrayList<>();
        while (true) {
            int pick = -1;
            for (int n = 0; n < lists.size(); n++) {
                if (next[n] < lists.get(n).size() && (pick < 0
                        || lists.get(n).get(next[n]).atMillis() < lists.get(pick).get(next[pick]).atMillis())) {
                    pick = n;
                }
            }
            if (pick < 0) {
                return out;
            }
            out.add(new Located<>(ids.get(pick), lists.get(pick).get(next[pick]++)));
        }
    }

    private CompletionStage<FullHttpResponse> start(AdminRequest request) {
        Map<String, Object> body = request.jsonBody();
        Trace.Kind kind = null;
        String value = null;
        for (Map.Entry<String, Trace.Kind> k : Map.of("clientId", Trace.Kind.CLIENT_ID, "topic", Trace.Kind.TOPIC,
                "ip", Trace.Kind.IP).entrySet()) {
            Object v = body.get(k.getKey());
            if (v == null) {
                continue;
            }
            if (kind != null) {
                throw AdminException.badRequest("give one of clientId, topic and ip, not several");
            }
            if (!(v instanceof String s) || s.isEmpty()) {
                throw AdminException.badRequest(k.getKey() + " must be a non-empty string, not "
                        + ClientRoute.describe(v));
            }
            kind = k.getValue();
            value = s;
        }
        if (kind == null) {
            throw AdminException.badRequest("give what to trace: clientId, topic (a filter) or ip");
        }
        if (kind == Trace.Kind.TOPIC && !TopicSyntax.isValidTopicFilter(value)) {
            throw AdminException.badRequest("topic must be a valid MQTT topic filter, not '" + value + "'");
        }
        if (kind == Trace.Kind.IP) {
            value = ipLiteral(value);
        }
        long duration = DEFAULT_DURATION_SECONDS;
        Object d = body.get("durationSeconds");
        if (d != null) {
            if (!(d instanceof Long n) || n < 1 || n > Traces.MAX_DURATION_SECONDS) {
                throw AdminException.badRequest("durationSeconds must be from 1 to " + Traces.MAX_DURATION_SECONDS
                        + " (30 minutes), not " + ClientRoute.describe(d));
            }
            duration = n;
        }
        Object p = body.get("payloads");
        if (p != null && !(p instanceof Boolean)) {
            throw AdminException.badRequest("payloads must be true or false, not " + ClientRoute.describe(p));
        }
        long seconds = duration;
        return listings.onAdminLoop(listings.registrations().startTrace(kind, value, Boolean.TRUE.equals(p),
                duration, System.currentTimeMillis())).thenApply(t -> {
                    if (t == null) {
                        throw new AdminException(HttpResponseStatus.CONFLICT, "at most " + Traces.MAX_TRACES
                                + " traces run at once; DELETE one first");
                    }
                    // the live views see it end at once (the other nodes stop recording at its end by their clocks)
                    loop.schedule(() -> traces.stop(t.id()), seconds, TimeUnit.SECONDS);
                    return AdminResponses.json(HttpResponseStatus.CREATED, meta(t));
                });
    }

    /** An IP address as connections show it; 400 for anything else (a literal only: no name is looked up). */
    private static String ipLiteral(String value) {
        if (!io.netty.util.NetUtil.isValidIpV4Address(value) && !io.netty.util.NetUtil.isValidIpV6Address(value)) {
            throw AdminException.badRequest("ip must be an IPv4 or IPv6 address, not '" + value + "'");
        }
        return io.netty.util.NetUtil.createInetAddressFromIpAddressString(value).getHostAddress();
    }

    static Map<String, Object> meta(Trace t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", t.id());
        m.put(switch (t.kind()) {
            case CLIENT_ID -> "clientId";
            case TOPIC -> "topic";
            case IP -> "ip";
        }, t.value());
        m.put("payloads", t.payloads());
        m.put("startedAt", Instant.ofEpochMilli(t.startedAtMillis()).toString());
        m.put("endsAt", Instant.ofEpochMilli(t.endsAtMillis()).toString());
        m.put("running", !t.stopped());
        m.put("recorded", t.recorded());
        return m;
    }

    static Map<String, Object> event(TraceEvent e) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("seq", e.seq());
        j.put("at", Instant.ofEpochMilli(e.atMillis()).toString());
        j.put("type", e.type());
        j.put("clientId", e.clientId());
        j.put("address", e.address());
        if (e.topic() != null) {
            j.put("topic", e.topic());
            j.put("qos", e.qos());
            j.put("retain", e.retain());
            j.put("bytes", e.bytes());
        }
        if (!e.filters().isEmpty()) {
            j.put("filters", e.filters());
        }
        if (e.payload() != null) {
            String text = utf8(e.payload());
            if (text != null) {
                j.put("payload", text);
            } else {
                j.put("payloadBase64", Base64.getEncoder().encodeToString(e.payload()));
            }
            if (e.payload().length < e.bytes()) {
                j.put("payloadTruncated", true);
            }
        }
        if (e.detail() != null) {
            j.put("detail", e.detail());
        }
        return j;
    }

    private static String utf8(byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static CompletionStage<FullHttpResponse> done(FullHttpResponse r) {
        return CompletableFuture.completedFuture(r);
    }

    /**
     * One live view of a trace: every {@value #POLL_MILLIS} ms on the admin loop, each node (this one too) is asked
     * for the events it recorded since the last one sent from it, unless its previous answer is still awaited (so a
     * slow or dead node holds at most one question and delays nobody else's events; it is named once in an
     * {@code unanswered} event). The events go out as {@code id:}/{@code event:}/{@code data:} blocks, each naming its
     * node; a comment now and then keeps the idle timeout and proxies from closing the connection; once the trace has
     * ended and each node gave what it recorded until then, an {@code end} event and the close. A client that does
     * not read falls behind: nobody is asked meanwhile, each node's ring keeps its newest events and a
     * {@code dropped} event says how many of a node's it missed, so the view holds no more memory than one answer per
     * node.
     */
    private final class LiveView {
        private final Trace trace;
        private final ChannelHandlerContext ctx;
        private final NodeOperations here = listings.operations();
        /** Per node, the number of the last event sent from it. */
        private final Map<String, Long> lastSeq = new HashMap<>();
        /** Per node, how many events it recorded, as it last answered (for the {@code end} event). */
        private final Map<String, Long> recorded = new TreeMap<>();
        /** The nodes whose answer is awaited. */
        private final Set<String> asking = new HashSet<>();
        /** The nodes that did not answer last time (said once). */
        private final Set<String> silent = new HashSet<>();
        /** Once the trace has ended: the nodes yet to answer a question asked after that. */
        private Set<String> lastRound;
        private long lastWriteNanos = System.nanoTime();
        private ScheduledFuture<?> poll;
        private boolean ended;

        LiveView(Trace trace, ChannelHandlerContext ctx) {
            this.trace = trace;
            this.ctx = ctx;
        }

        void start() {
            write(": trace " + trace.id() + "\n\n");
            ctx.flush();
            poll = ctx.executor().scheduleWithFixedDelay(this::poll, 0, POLL_MILLIS, TimeUnit.MILLISECONDS);
            ctx.channel().closeFuture().addListener(f -> poll.cancel(false));
        }

        private void poll() {
            if (!ctx.channel().isActive() || ended) {
                poll.cancel(false);
                return;
            }
            if (!ctx.channel().isWritable()) {
                return; // the client is behind: the rings keep the newest, the next answers say what was missed
            }
            List<String> nodes = listings.nodes();
            if (lastRound == null && trace.stopped()) {
                lastRound = new HashSet<>(nodes);
            }
            for (String node : nodes) {
                if (!asking.add(node)) {
                    continue;
                }
                boolean afterEnd = lastRound != null;
                HashMap<String, Long> after = new HashMap<>();
                after.put(node, lastSeq.getOrDefault(node, 0L));
                NodeOperations.TraceQuery q = new NodeOperations.TraceQuery(trace.id(), after, EVENTS_PER_POLL);
                listings.<NodeOperations.TraceEvents>oneNode(node, "trace-events", q,
                        () -> CompletableFuture.completedFuture(here.traceEvents(q))).whenComplete((a, e) -> {
                            asking.remove(node);
                            answered(node, e == null ? a : new NodeQueries.Answer<>(node, null, String.valueOf(e)),
                                    afterEnd);
                        });
            }
            if (lastRound != null) {
                lastRound.retainAll(nodes); // a node that left has nothing more to say
                if (lastRound.isEmpty()) {
                    end();
                    return;
                }
            }
            if (System.nanoTime() - lastWriteNanos > KEEP_ALIVE_NANOS) {
                write(": keep-alive\n\n");
            }
            ctx.flush();
        }

        /** A node's answer, on the admin loop. */
        private void answered(String node, NodeQueries.Answer<NodeOperations.TraceEvents> a, boolean afterEnd) {
            if (ended || !ctx.channel().isActive()) {
                return;
            }
            boolean complete = true;
            if (!a.answered()) {
                if (silent.add(node)) {
                    write("event: unanswered\ndata: " + Json.write(NodeRows.unanswered(a)) + "\n\n");
                }
            } else {
                silent.remove(node);
            }
            if (a.answered() && a.value() != null) { // null: it keeps no such trace (not yet, or no longer)
                List<TraceEvent> events = a.value().events();
                recorded.put(node, a.value().recorded());
                long last = lastSeq.getOrDefault(node, 0L);
                if (!events.isEmpty() && events.get(0).seq() > last + 1) {
                    Map<String, Object> dropped = new LinkedHashMap<>();
                    dropped.put("node", node);
                    dropped.put("missed", events.get(0).seq() - last - 1);
                    write("event: dropped\ndata: " + Json.write(dropped) + "\n\n");
                }
                for (TraceEvent e : events) {
                    Map<String, Object> j = event(e);
                    j.put("node", node);
                    write("id: " + node + ":" + e.seq() + "\nevent: " + e.type() + "\ndata: " + Json.write(j)
                            + "\n\n");
                    lastSeq.put(node, e.seq());
                }
                complete = events.size() < EVENTS_PER_POLL;
            }
            if (afterEnd && complete && lastRound != null) {
                lastRound.remove(node);
                if (lastRound.isEmpty()) {
                    end();
                    return;
                }
            }
            ctx.flush();
        }

        private void end() {
            ended = true;
            poll.cancel(false);
            Map<String, Object> m = meta(trace);
            m.put("recorded", recorded.values().stream().mapToLong(Long::longValue).sum());
            m.put("nodes", recorded);
            write("event: end\ndata: " + Json.write(m) + "\n\n");
            ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
        }

        private void write(String text) {
            ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(text.getBytes(StandardCharsets.UTF_8))));
            lastWriteNanos = System.nanoTime();
        }
    }
}
