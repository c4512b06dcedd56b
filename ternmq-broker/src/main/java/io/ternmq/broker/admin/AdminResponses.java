package io.ternmq.broker.admin;

import io.ternmq.broker.json.Json;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** How the admin listener's answers are built: a body of text or JSON, and the headers every answer carries. */
final class AdminResponses {
    private AdminResponses() {
    }

    static FullHttpResponse text(HttpResponseStatus status, String contentType, String body) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.wrappedBuffer(body.getBytes(StandardCharsets.UTF_8)));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        return r;
    }

    /** A JSON answer of maps, lists and values ({@link Json#write}). */
    static FullHttpResponse json(HttpResponseStatus status, Object body) {
        return text(status, "application/json", Json.write(body) + "\n"); // a line: curl's output ends cleanly
    }

    /** An error as {@code {"code":..., "message":...}}; the message is ours, never a stack trace. */
    static FullHttpResponse error(HttpResponseStatus status, String message) {
        // the message may quote what the request said (a client id, a path): written as JSON, escaped
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("code", status.code());
        body.put("message", message);
        return json(status, body);
    }

    /** Headers of every answer: nothing is cached, sniffed or framed by a browser. */
    static FullHttpResponse secured(FullHttpResponse r) {
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store")
                .set("X-Content-Type-Options", "nosniff")
                .set("X-Frame-Options", "DENY")
                .set("Content-Security-Policy", "default-src 'self'");
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
        return r;
    }
}
