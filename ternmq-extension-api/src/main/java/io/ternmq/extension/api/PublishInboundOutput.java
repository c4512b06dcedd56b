package io.ternmq.extension.api;

import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * A client's PUBLISH as the broker will route it; starts as the client sent it (topic alias resolved). Later
 * interceptors see earlier ones' changes. Broker-owned: do not implement.
 *
 * @since 0.1
 */
public interface PublishInboundOutput extends MessageProperties {
    /** @since 0.1 */
    String topic();

    /** Replaces the topic; a name with wildcards or beyond the topic limits prevents delivery with 0x90. @since 0.1 */
    void topic(String topic);

    /** The payload, read-only; valid during the call (and until {@link Async#resume()}). @since 0.1 */
    ByteBuffer payload();

    /** Replaces the payload with a copy of the buffer's remaining bytes. @since 0.1 */
    void payload(ByteBuffer payload);

    /** 0, 1 or 2. @since 0.1 */
    int qos();

    /** Lowers (or raises, up to {@code max_qos}) the QoS the message is routed with. @since 0.1 */
    void qos(int qos);

    /** @since 0.1 */
    boolean retain();

    /** @since 0.1 */
    void retain(boolean retain);

    /**
     * Prevents delivery: MQTT 5 clients get this PUBACK/PUBREC reason code (0x80 and above; at QoS 0 nothing);
     * MQTT 3.x clients are acknowledged as usual and the message is discarded. Counted.
     *
     * @since 0.1
     */
    void preventDelivery(int reasonCode, String reasonString);

    /**
     * Moves the decision elsewhere: the PUBLISH and the client's later packets wait until {@link Async#resume()}, or
     * until {@code timeout}, when {@code fallback} applies. Call at most once, before returning from the interceptor.
     *
     * @since 0.1
     */
    Async async(Duration timeout, Fallback fallback);
}
