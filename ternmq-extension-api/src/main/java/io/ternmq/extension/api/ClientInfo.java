package io.ternmq.extension.api;


/**
 * One client connection as an extension sees it. Broker-owned: do not implement.
 *
 * @since 0.1
 */
public interface ClientInfo {
    /** The client identifier (the broker's assignment for an empty one once CONNECT is accepted). @since 0.1 */
    String clientId();

    /** The user name, or null. @since 0.1 */
    String username();

    /** The MQTT protocol level: 3 (3.1), 4 (3.1.1) or 5 (5.0). @since 0.1 */
    int protocolLevel();

    /** The client's address as {@code host:port} (behind a proxy, the one the PROXY header or X-Forwarded-For names). @since 0.1 */
    String remoteAddress();

    /** The listener's name ({@code host:port}) the client connected through. @since 0.1 */
    String listenerName();
}
