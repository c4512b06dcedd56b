package io.ternmq.extension.api;

/**
 * Sees each PUBLISH a client sends, once it is valid and authorized, before the broker routes it; may change topic,
 * payload, QoS, retain flag and properties, or prevent its delivery. Messages injected with {@link PublishService}
 * and wills do not pass here. Implemented by the extension.
 *
 * <p>Threading: called on the publisher's event loop, in the order the client sent its packets; it must not block.
 * Work that waits goes elsewhere with {@link PublishInboundOutput#async}; the client's later packets wait meanwhile.
 * A throw prevents delivery with 0x80 (MQTT 3.x: acknowledged and discarded) and is counted as an error.
 *
 * @since 0.1
 */
@FunctionalInterface
public interface PublishInboundInterceptor {
    /** @since 0.1 */
    void onInboundPublish(ClientInfo client, PublishInboundOutput output);
}
