package io.ternmq.extension.api;

/**
 * Sees each SUBSCRIBE of a connected client first, before the broker checks and authorizes its filters (so a changed
 * filter is checked and authorized as changed): may change a filter or its QoS, or refuse it. Synchronous only.
 * Implemented by the extension.
 *
 * <p>Threading: called on the client's event loop; it must not block. A throw refuses every filter of the SUBSCRIBE
 * with 0x80 and is counted as an error.
 *
 * @since 0.1
 */
@FunctionalInterface
public interface SubscribeInboundInterceptor {
    /** @since 0.1 */
    void onSubscribe(ClientInfo client, SubscribeInboundOutput output);
}
