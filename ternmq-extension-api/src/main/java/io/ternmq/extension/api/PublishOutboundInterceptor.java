package io.ternmq.extension.api;

/**
 * Sees each delivery of a message to one receiver, just before it is written: may change the User Properties that
 * receiver gets, or skip the receiver. Synchronous only. Implemented by the extension.
 *
 * <p>Threading: called on the receiver's event loop, for every delivery: keep it cheap; it must not block. A throw
 * delivers the message unchanged and is counted as an error.
 *
 * @since 0.1
 */
@FunctionalInterface
public interface PublishOutboundInterceptor {
    /** @since 0.1 */
    void onOutboundPublish(String receiverClientId, PublishOutboundOutput output);
}
