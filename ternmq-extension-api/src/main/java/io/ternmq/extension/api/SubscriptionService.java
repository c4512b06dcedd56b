package io.ternmq.extension.api;

import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Reads and changes the subscriptions of existing sessions (connected or not). Broker-owned: do not implement.
 * Callable from any thread; results complete on the session's event loop.
 *
 * @since 0.1
 */
public interface SubscriptionService {
    /** A subscription: its filter and maximum QoS. A value type. @since 0.1 */
    record TopicSubscription(String filter, int qos) {
    }

    /** The subscriptions of a client's session; empty if it has none or no session. @since 0.1 */
    CompletionStage<List<TopicSubscription>> subscriptions(String clientId);

    /**
     * Adds (or replaces) a subscription of an existing session, as if the client had subscribed; retained messages
     * are sent as for a SUBSCRIBE. Not authorized, not intercepted.
     *
     * @return whether the session exists
     * @throws IllegalArgumentException for an invalid filter or QoS
     * @since 0.1
     */
    CompletionStage<Boolean> subscribe(String clientId, String filter, int qos);

    /** @return whether the session had the subscription @since 0.1 */
    CompletionStage<Boolean> unsubscribe(String clientId, String filter);
}
