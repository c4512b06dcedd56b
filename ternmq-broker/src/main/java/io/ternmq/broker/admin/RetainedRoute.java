package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.EventExecutor;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.service.BrokerService;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.QoS;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Retained messages: {@code GET /api/v1/retained?filter=&limit=} lists those a filter (default {@code #}) matches,
 * in topic order; {@code GET /api/v1/retained/{topic}} (percent-encoded UTF-8) shows one; {@code DELETE} clears it,
 * by publishing an empty retained message, as a client would (subscribers see it).
 */
final class RetainedRoute implements AdminRoute {
    private final BrokerService service;
    private final EventExecutor loop;
    private final boolean one;

    private RetainedRoute(BrokerService service, EventExecutor loop, boolean one) {
        this.service = service;
        this.loop = loop;
        this.one = one;
    }

    static RetainedRoute list(BrokerService service) {
        return new RetainedRoute(service, null, false);
    }

    static RetainedRoute topic(BrokerService service, EventExecutor loop) {
        return new RetainedRoute(service, loop, true);
    }

    @Override
    public String path() {
        return one ? "/api/v1/retained/" : "/api/v1/retained";
    }

    @Override
    public boolean prefix() {
        return one;
    }

    @Override
    public Set<HttpMethod> methods() {
        return one ? Set.of(HttpMethod.GET, HttpMethod.DELETE) : Set.of(HttpMethod.GET);
    }

    @Override
    public Access access() {
        return Access.USER;
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        if (!one) {
            String filter = request.param("filter") == null ? "#" : ClientRoute.filter(request.param("filter"));
            int limit = ClientsRoute.limit(request.param("limit"));
            List<Message> found = service.retained(filter);
            List<Map<String, Object>> page = found.stream().sorted(Comparator.comparing(Message::topic))
                    .limit(limit).map(RetainedRoute::json).toList();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("retained", page);
            m.put("total", found.size());
            return CompletableFuture.completedFuture(AdminResponses.json(HttpResponseStatus.OK, m));
        }
        // the topic is one segment, its '/' percent-encoded; or the rest of the path, its '/' as they are
        String topic = PublishRoute.topic(String.join("/", request.tail()));
        List<Message> found = service.retained(topic);
        if (found.isEmpty()) {
            throw AdminException.notFound("no retained message on '" + topic + "'");
        }
        if (request.method().equals(HttpMethod.GET)) {
            return CompletableFuture.completedFuture(AdminResponses.json(HttpResponseStatus.OK, json(found.get(0))));
        }
        Message clear = new Message(topic, QoS.AT_MOST_ONCE, true, new byte[0], MqttProperties.EMPTY, null,
                System.currentTimeMillis());
        return service.publish(clear, loop).thenApply(matched -> AdminResponses.json(HttpResponseStatus.OK,
                Map.of("topic", topic, "deleted", true)));
    }

    private static Map<String, Object> json(Message m) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("topic", m.topic());
        j.put("qos", m.qos().value());
        j.put("bytes", m.payload().length);
        String text = utf8(m.payload());
        if (text != null) {
            j.put("payload", text);
        } else {
            j.put("payloadBase64", Base64.getEncoder().encodeToString(m.payload()));
        }
        j.put("publishedAt", java.time.Instant.ofEpochMilli(m.createdAtMillis()).toString());
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
}
