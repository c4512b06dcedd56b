package io.ternmq.extension.api;

/**
 * Sees each SUBSCRIBE once its filters are valid and authorized, before the broker subscribes them: may change a
 * filter or its QoS, or refuse it. Synchronous only. Implemented by the extension.
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
