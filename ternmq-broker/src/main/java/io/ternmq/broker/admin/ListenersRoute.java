package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.ternmq.broker.config.ListenerConfig;
import io.ternmq.broker.transport.MqttServer;

import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code GET /api/v1/listeners}: the MQTT listeners, each with its address (port 0 resolved), transport, TLS
 * certificate expiry and open connections; empty until they are bound (the admin listener opens first).
 */
final class ListenersRoute implements AdminRoute {
    private volatile MqttServer server;
    private volatile List<InetSocketAddress> bound = List.of();

    /** The MQTT listeners are bound. Any thread. */
    void started(MqttServer server, List<InetSocketAddress> bound) {
        this.bound = List.copyOf(bound);
        this.server = server;
    }

    @Override
    public String path() {
        return "/api/v1/listeners";
    }

    @Override
    public Access access() {
        return Access.USER;
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        MqttServer s = server;
        List<Map<String, Object>> out = new ArrayList<>();
        if (s != null) {
            List<InetSocketAddress> addresses = bound;
            for (int i = 0; i < addresses.size(); i++) {
                ListenerConfig l = s.listener(i);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("address", l.bindAddress());
                m.put("port", addresses.get(i).getPort());
                m.put("transport", l.transport().name().toLowerCase(Locale.ROOT));
                if (l.isWebSocket()) {
                    m.put("websocketPath", l.webSocket().path());
                }
                m.put("proxyProtocol", l.proxyProtocol() == 0 ? null : l.proxyProtocol());
                m.put("maxConnections", l.maxConnections() < 0 ? null : l.maxConnections());
                m.put("connections", s.connections(i));
                if (l.isTls()) {
                    Instant expiry = s.certificateExpiry(i);
                    m.put("certificateExpiry", expiry == null ? null : expiry.toString());
                }
                out.add(m);
            }
        }
        return CompletableFuture.completedFuture(AdminResponses.json(HttpResponseStatus.OK, Map.of("listeners", out)));
    }
}
