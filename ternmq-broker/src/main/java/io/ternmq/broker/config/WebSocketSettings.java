package io.ternmq.broker.config;

import java.util.List;
import java.util.Objects;

/**
 * MQTT over WebSocket on a listener ({@code protocol websockets}).
 *
 * @param path           the request path the upgrade is accepted on ({@code websocket_path}); other paths get 404
 * @param trustedProxies peers whose {@code X-Forwarded-For} names the client ({@code websocket_trusted_proxies});
 *                       empty: the header is never read
 */
public record WebSocketSettings(String path, List<Cidr> trustedProxies) {
    public static final String DEFAULT_PATH = "/mqtt";

    public WebSocketSettings {
        Objects.requireNonNull(path, "path");
        if (!path.startsWith("/") || path.chars().anyMatch(c -> c <= ' ' || c == '?' || c == '#')) {
            throw new IllegalArgumentException("websocket_path must start with / and hold no spaces, ? or #: '"
                    + path + "'");
        }
        trustedProxies = List.copyOf(trustedProxies);
    }
}
