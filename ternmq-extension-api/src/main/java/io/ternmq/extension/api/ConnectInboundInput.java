package io.ternmq.extension.api;


/**
 * The CONNECT as the client sent it. Broker-owned: do not implement.
 *
 * @since 0.1
 */
public interface ConnectInboundInput {
    /** The client identifier as sent (may be empty). @since 0.1 */
    String clientId();

    /** 3 (3.1), 4 (3.1.1) or 5 (5.0). @since 0.1 */
    int protocolLevel();

    /** @since 0.1 */
    boolean cleanStart();

    /** @since 0.1 */
    int keepAliveSeconds();

    /** @since 0.1 */
    String remoteAddress();

    /** @since 0.1 */
    String listenerName();
}
