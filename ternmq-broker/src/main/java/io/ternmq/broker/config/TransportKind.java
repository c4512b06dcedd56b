package io.ternmq.broker.config;

/** What a listener speaks on its TCP port; each kind has its own pipeline of handlers. */
public enum TransportKind {
    /** MQTT directly on TCP. */
    TCP,
    /** MQTT over TLS. */
    TLS,
    /** MQTT over WebSocket ({@code ws://}). */
    WEBSOCKET,
    /** MQTT over WebSocket over TLS ({@code wss://}). */
    WEBSOCKET_TLS
}
