package io.ternmq.broker.admin;

import io.ternmq.broker.json.Json;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A request as a route sees it: method, the path segments after the route's own path (each percent-decoded as
 * UTF-8, so that a client id or topic may hold any character, '/' included), the query and the body.
 *
 * @param user       who made it (null on a public route)
 * @param remoteHost the client's address, without port
 */
record AdminRequest(FullHttpRequest http, List<String> tail, Map<String, List<String>> query, String user,
                    String remoteHost) {

    static AdminRequest of(FullHttpRequest http, String routePath, String user, String remoteHost) {
        QueryStringDecoder q = new QueryStringDecoder(http.uri());
        String raw = q.rawPath();
        List<String> tail = new ArrayList<>();
        if (raw.length() > routePath.length()) {
            for (String segment : raw.substring(routePath.length()).split("/", -1)) {
                tail.add(decode(segment));
            }
        }
        Map<String, List<String>> query;
        try {
            query = q.parameters();
        } catch (IllegalArgumentException e) {
            throw AdminException.badRequest("bad percent-encoding in the query");
        }
        return new AdminRequest(http, List.copyOf(tail), query, user, remoteHost);
    }

    HttpMethod method() {
        return http.method();
    }

    /** A query parameter's last value, or null. */
    String param(String name) {
        List<String> v = query.get(name);
        return v == null || v.isEmpty() ? null : v.get(v.size() - 1);
    }

    /** The body as a JSON object; 400 if it is not one. */
    Map<String, Object> jsonBody() {
        String body;
        try {
            body = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(http.content().nioBuffer()).toString();
        } catch (CharacterCodingException e) {
            throw AdminException.badRequest("the body is not UTF-8");
        }
        try {
            return Json.parseObject(body);
        } catch (Json.JsonException e) {
            throw AdminException.badRequest(e.getMessage());
        }
    }

    /** A path segment percent-decoded as UTF-8; 400 if it is not valid UTF-8 or has a bad escape. */
    static String decode(String segment) {
        if (segment.indexOf('%') < 0) {
            return segment;
        }
        byte[] out = new byte[segment.length()];
        int n = 0;
        for (int i = 0; i < segment.length(); i++) {
            char c = segment.charAt(i);
            if (c == '%') {
                if (i + 2 >= segment.length()) {
                    throw AdminException.badRequest("bad percent-encoding in the path");
                }
                int hi = Character.digit(segment.charAt(i + 1), 16);
                int lo = Character.digit(segment.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw AdminException.badRequest("bad percent-encoding in the path");
                }
                out[n++] = (byte) (hi * 16 + lo);
                i += 2;
            } else if (c < 0x80) {
                out[n++] = (byte) c;
            } else {
                throw AdminException.badRequest("the path must be ASCII, other characters percent-encoded");
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(out, 0, n)).toString();
        } catch (CharacterCodingException e) {
            throw AdminException.badRequest("a path segment is not percent-encoded UTF-8");
        }
    }
}
