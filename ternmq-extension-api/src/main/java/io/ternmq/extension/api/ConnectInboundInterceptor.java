package io.ternmq.extension.api;

/**
 * Sees each CONNECT before authentication and may change what the broker makes of it (client identifier, user name,
 * password, user properties) or refuse it. Implemented by the extension.
 *
 * <p>Threading: called on the client's event loop; it must not block. Work that waits goes elsewhere with
 * {@link ConnectInboundOutput#async}. Each call over {@code extension_slow_call_ms} is counted; a throw refuses the
 * connection with CONNACK 0x80 (MQTT 3.x: 0x03, server unavailable) and is counted as an error.
 *
 * @since 0.1
 */
@FunctionalInterface
public interface ConnectInboundInterceptor {
    /** @since 0.1 */
    void onConnect(ConnectInboundInput input, ConnectInboundOutput output);
}
