package io.ternmq.extension.api;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * One delivery of a message to one receiver. Broker-owned: do not implement.
 *
 * @since 0.1
 */
public interface PublishOutboundOutput {
    /** @since 0.1 */
    String topic();

    /** Read-only; valid during the call. @since 0.1 */
    ByteBuffer payload();

    /** The QoS of this delivery. @since 0.1 */
    int qos();

    /** @since 0.1 */
    List<UserProperty> userProperties();

    /** Replaces the User Properties this receiver gets (MQTT 5 receivers). @since 0.1 */
    void userProperties(List<UserProperty> properties);

    /**
     * This receiver does not get the message: QoS 0 is dropped, QoS 1/2 is taken off its queue as if acknowledged.
     * Counted.
     *
     * @since 0.1
     */
    void skip();
}
