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
import io.ternmq.broker.trace.Trace;
import io.ternmq.broker.trace.TraceEvent;
import io.ternmq.broker.trace.Traces;
import io.ternmq.codec.TopicSyntax;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * Traces ({@link Traces}): {@code GET /api/v1/traces} lists them; {@code POST} with one of {@code clientId},
 * {@code topic} (a filter) or {@code ip}, and {@code durationSeconds} (1 to 1800, default 300) and {@code payloads}
 * (default false) starts one; {@code GET /api/v1/traces/{id}} downloads what it recorded (JSON);
 * {@code GET /api/v1/traces/{id}/live} follows it as Server-Sent Events until it ends; {@code DELETE} stops and
 * forgets it. One instance serves the collection ({@link #collection}), another each trace ({@link #one}).
 */
final class TracesRoute implements AdminRoute {
    static final long DEFAULT_DURATION_SECONDS = 300;
    private static final long POLL_MILLIS = 200;
    private static final long KEEP_ALIVE_NANOS = TimeUnit.SECONDS.toNanos(15);
    private static final int EVENTS_PER_POLL = 500;

    private final Traces traces;
    private final EventExecutor loop;
    private final boolean one;

    private TracesRoute(Traces traces, EventExecutor loop, boolean one) {
        this.traces = traces;
        this.loop = loop;
        this.one = one;
    }

    static TracesRoute collection(Traces traces, EventExecutor loop) {
        return new TracesRoute(traces, loop, false);
    }

    static TracesRoute one(Traces traces, EventExecutor loop) {
        return new TracesRoute(traces, loop, true);
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
        if (!one) {
            return done(request.method().equals(HttpMethod.POST) ? start(request) : AdminResponses.json(
                    HttpResponseStatus.OK, Map.of("traces", traces.list().stream().map(TracesRoute::meta).toList())));
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
            traces.remove(t.id());
            return done(AdminResponses.json(HttpResponseStatus.OK, Map.of("id", t.id(), "deleted", true)));
        }
        if (tail.size() == 2) {
            return done(new StreamingResponse("text/event-stream; charset=utf-8", ctx -> new LiveView(t, ctx)
                    .start()));
        }
        Map<String, Object> m = meta(t);
        m.put("events", t.eventsAfter(0, Trace.MAX_EVENTS).stream().map(TracesRoute::event).toList());
        FullHttpResponse r = AdminResponses.json(HttpResponseStatus.OK, m);
        r.headers().set(HttpHeaderNames.CONTENT_DISPOSITION, "attachment; filename=\"trace-" + t.id() + ".json\"");
        return done(r);
    }

    private FullHttpResponse start(AdminRequest request) {
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
        Trace t = traces.start(kind, value, Boolean.TRUE.equals(p), duration, System.currentTimeMillis());
        if (t == null) {
            throw new AdminException(HttpResponseStatus.CONFLICT, "at most " + Traces.MAX_TRACES
                    + " traces run at once; DELETE one first");
        }
        loop.schedule(() -> traces.stop(t.id()), duration, TimeUnit.SECONDS);
        return AdminResponses.json(HttpResponseStatus.CREATED, meta(t));
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
     * One live view of a trace: every {@value #POLL_MILLIS} ms on the admin loop, the events recorded since the
     * last one sent, as {@code id:}/{@code event:}/{@code data:} blocks; a comment now and then so that the idle
     * timeout and proxies leave the connection open; an {@code end} event and the close when the trace ends. A
     * client that does not read falls behind: the trace's ring keeps the newest events and a {@code dropped} event
     * says how many it missed, so the view holds no more memory than the trace.
     */
    private static final class LiveView {
        private final Trace trace;
        private final ChannelHandlerContext ctx;
        private long lastSeq;
        private long lastWriteNanos = System.nanoTime();
        private ScheduledFuture<?> poll;

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
            if (!ctx.channel().isActive()) {
                poll.cancel(false);
                return;
            }
            if (!ctx.channel().isWritable()) {
                return; // the client is behind: the ring keeps the newest, the next poll says what was missed
            }
            boolean ended = trace.stopped();
            List<TraceEvent> events = trace.eventsAfter(lastSeq, EVENTS_PER_POLL);
            if (!events.isEmpty() && events.get(0).seq() > lastSeq + 1) {
                write("event: dropped\ndata: {\"missed\":" + (events.get(0).seq() - lastSeq - 1) + "}\n\n");
            }
            for (TraceEvent e : events) {
                write("id: " + e.seq() + "\nevent: " + e.type() + "\ndata: " + Json.write(event(e))
                        + "\n\n");
                lastSeq = e.seq();
            }
            if (ended && events.size() < EVENTS_PER_POLL) {
                write("event: end\ndata: " + Json.write(meta(trace)) + "\n\n");
                poll.cancel(false);
                ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            if (events.isEmpty() && System.nanoTime() - lastWriteNanos > KEEP_ALIVE_NANOS) {
                write(": keep-alive\n\n");
            }
            ctx.flush();
        }

        private void write(String text) {
            ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(text.getBytes(StandardCharsets.UTF_8))));
            lastWriteNanos = System.nanoTime();
        }
    }
}
