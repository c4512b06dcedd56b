package io.ternmq.extension.api;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * The retained messages. Broker-owned: do not implement. Callable from any thread. To set one, publish it retained
 * with {@link PublishService}.
 *
 * @since 0.1
 */
public interface RetainedService {
    /** A retained message; its payload is read-only. A value type. @since 0.1 */
    record RetainedMessage(String topic, ByteBuffer payload, int qos) {
    }

    /** The retained messages a topic filter matches. @since 0.1 */
    List<RetainedMessage> matching(String filter);

    /**
     * Removes the retained message of a topic, if any, as MQTT does: an empty retained message, which current
     * subscribers of the topic receive.
     *
     * @since 0.1
     */
    void remove(String topic);
}
