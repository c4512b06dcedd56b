package io.ternmq.extension.api;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Publishes messages of the extension's own. They go to subscribers and the retained store like any client's, but
 * skip the {@link PublishInboundInterceptor}s and authorization (the extension is trusted). Broker-owned: do not
 * implement. Callable from any thread.
 *
 * @since 0.1
 */
public interface PublishService {
    /**
     * @param payload copied; the buffer is not kept
     * @return completes with the number of subscribers (and shared groups) it went to, once every QoS 1/2 copy is
     * stored
     * @throws IllegalArgumentException for a topic name that is not valid or a QoS not 0..2
     * @since 0.1
     */
    CompletionStage<Integer> publish(String topic, ByteBuffer payload, int qos, boolean retain,
                                     List<UserProperty> userProperties);
}
