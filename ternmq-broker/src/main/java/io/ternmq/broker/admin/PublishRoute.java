package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.EventExecutor;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.service.BrokerService;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.QoS;
import io.ternmq.codec.TopicSyntax;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * {@code POST /api/v1/publish} with {@code {"topic", "payload" (text) or "payloadBase64", "qos", "retain",
 * "properties": {"contentType", "responseTopic", "correlationData", "messageExpiryInterval",
 * "payloadFormatIndicator", "userProperties": {name: value}}}}: publishes as a client would, through
 * {@link BrokerService}; answers once what must be stored is, with how many subscribers it reached.
 */
final class PublishRoute implements AdminRoute {
    private final BrokerService service;
    private final EventExecutor loop;

    PublishRoute(BrokerService service, EventExecutor loop) {
        this.service = service;
        this.loop = loop;
    }

    @Override
    public String path() {
        return "/api/v1/publish";
    }

    @Override
    public Set<HttpMethod> methods() {
        return Set.of(HttpMethod.POST);
    }

    @Override
    public Access access() {
        return Access.USER;
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        Map<String, Object> body = request.jsonBody();
        String topic = topic(body.get("topic"));
        byte[] payload = payload(body);
        QoS qos = ClientRoute.qos(body.get("qos"));
        Object retain = body.get("retain");
        if (retain != null && !(retain instanceof Boolean)) {
            throw AdminException.badRequest("retain must be true or false, not " + ClientRoute.describe(retain));
        }
        MqttProperties properties = properties(body.get("properties"));
        Message m = new Message(topic, qos, Boolean.TRUE.equals(retain), payload, properties, null,
                System.currentTimeMillis());
        return service.publish(m, loop).thenApply(matched -> AdminResponses.json(HttpResponseStatus.OK,
                Map.of("topic", topic, "matched", matched)));
    }

    /** A topic name a client could publish to: no wildcards, not under {@code $SYS}, not empty. */
    static String topic(Object value) {
        if (!(value instanceof String t) || !TopicSyntax.isValidTopicName(t)) {
            throw AdminException.badRequest("topic must be a valid MQTT topic name (no wildcards), not "
                    + ClientRoute.describe(value));
        }
        if (t.startsWith("$")) {
            throw AdminException.badRequest("topics beginning with $ are the broker's");
        }
        return t;
    }

    private static byte[] payload(Map<String, Object> body) {
        Object text = body.get("payload");
        Object base64 = body.get("payloadBase64");
        if (text != null && base64 != null) {
            throw AdminException.badRequest("give payload or payloadBase64, not both");
        }
        if (base64 != null) {
            if (!(base64 instanceof String b)) {
                throw AdminException.badRequest("payloadBase64 must be a string");
            }
            try {
                return Base64.getDecoder().decode(b);
            } catch (IllegalArgumentException e) {
                throw AdminException.badRequest("payloadBase64 is not base64");
            }
        }
        if (text == null) {
            return new byte[0];
        }
        if (!(text instanceof String t)) {
            throw AdminException.badRequest("payload must be a string (binary: payloadBase64)");
        }
        return t.getBytes(StandardCharsets.UTF_8);
    }

    private static MqttProperties properties(Object value) {
        if (value == null) {
            return MqttProperties.EMPTY;
        }
        if (!(value instanceof Map<?, ?> p)) {
            throw AdminException.badRequest("properties must be an object");
        }
        MqttProperties.Builder b = MqttProperties.builder();
        for (Map.Entry<?, ?> e : p.entrySet()) {
            String name = (String) e.getKey();
            Object v = e.getValue();
            switch (name) {
                case "contentType" -> b.set(PropertyId.CONTENT_TYPE, string(name, v));
                case "responseTopic" -> b.set(PropertyId.RESPONSE_TOPIC, topic(v));
                case "correlationData" -> b.set(PropertyId.CORRELATION_DATA,
                        string(name, v).getBytes(StandardCharsets.UTF_8));
                case "messageExpiryInterval" -> b.set(PropertyId.MESSAGE_EXPIRY_INTERVAL,
                        number(name, v, 0xFFFFFFFFL));
                case "payloadFormatIndicator" -> b.set(PropertyId.PAYLOAD_FORMAT_INDICATOR,
                        (int) number(name, v, 1));
                case "userProperties" -> {
                    if (!(v instanceof Map<?, ?> users)) {
                        throw AdminException.badRequest("userProperties must be an object of strings");
                    }
                    for (Map.Entry<?, ?> u : users.entrySet()) {
                        b.userProperty((String) u.getKey(), string("userProperties." + u.getKey(), u.getValue()));
                    }
                }
                default -> throw AdminException.badRequest("unknown property '" + name + "' (known: contentType, "
                        + "responseTopic, correlationData, messageExpiryInterval, payloadFormatIndicator, "
                        + "userProperties)");
            }
        }
        return b.build();
    }

    private static String string(String name, Object v) {
        if (!(v instanceof String s)) {
            throw AdminException.badRequest(name + " must be a string");
        }
        return s;
    }

    private static long number(String name, Object v, long max) {
        if (!(v instanceof Long n) || n < 0 || n > max) {
            throw AdminException.badRequest(name + " must be a whole number from 0 to " + max);
        }
        return n;
    }
}
