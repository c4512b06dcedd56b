package io.ternmq.extension.api;

/**
 * Told when clients connect, disconnect, fail to authenticate and when sessions expire. Implemented by the
 * extension; every method has a default that does nothing.
 *
 * <p>Threading: called on the client's (or, for an expired session, its last) event loop; it must not block: hand
 * work to {@link ExtensionExecutor}. A throw is counted as an error and otherwise ignored.
 *
 * @since 0.1
 */
public interface ClientLifecycleListener {
    /** CONNACK 0x00 was sent. @since 0.1 */
    default void onConnected(ClientInfo client) {
    }

    /**
     * A connected client's connection ended.
     *
     * @param graceful whether the client sent DISCONNECT first
     * @since 0.1
     */
    default void onDisconnected(ClientInfo client, boolean graceful) {
    }

    /** The CONNECT was refused by authentication (CONNACK {@code reasonCode}, in MQTT 5 terms). @since 0.1 */
    default void onAuthenticationFailed(ClientInfo client, int reasonCode) {
    }

    /** A session ended because its expiry interval elapsed while its client was away. @since 0.1 */
    default void onSessionExpired(String clientId) {
    }
}
