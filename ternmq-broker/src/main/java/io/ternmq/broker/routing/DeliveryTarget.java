package io.ternmq.broker.routing;

import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.store.StoredQueue;

/**
 * Whom routing delivers to: a subscriber, as the subscription table holds it. The local session is the first
 * implementation; a subscriber whose session lives on another node is the next. Every method is safe from any thread:
 * routing runs on the publisher's loop.
 */
public interface DeliveryTarget {

    String clientId();

    /** Hands over a delivery that needs no store: QoS 0, or any QoS for a target without a stored queue. */
    void deliver(Delivery delivery);

    /**
     * The target's queue in this node's store, or null: QoS 1/2 deliveries to a target with one are stored first
     * (a {@link io.ternmq.broker.store.PublishTransaction}) and reach it only once durable.
     */
    StoredQueue storedQueue();

    /** Whether a client is attached now; a hint that may be a moment stale (shared groups pick online members). */
    boolean isOnline();

    /**
     * Whether publishers to it should wait: its backlog fills while its client still consumes. One that stopped
     * consuming altogether holds nobody back; its queue overflows instead.
     */
    boolean wantsBackpressure();

    /**
     * Whether this is another node of the cluster, which routes what it gets to its own subscribers, rather than a
     * subscriber: a message another node forwarded goes to subscribers only, never to a node again.
     */
    default boolean isNode() {
        return false;
    }

    /**
     * Whether this is a node that left the cluster whose routes are kept while its sessions are adopted: its QoS 1/2
     * copies go to the adopters, after every other node's copy of the same message (an adopter pairs the two).
     */
    default boolean isDeparted() {
        return false;
    }

    /**
     * Takes a QoS 1/2 delivery to keep for later, if this target holds its deliveries for now (a session that just
     * moved here, while its old node may still carry it messages): {@code stored} runs, on any thread, once it is
     * stored. False (the default): the caller stores it as usual.
     */
    default boolean hold(Delivery delivery, Runnable stored) {
        return false;
    }

    /**
     * Whether this is a session adopted from a node that died, recently enough that messages routed to that node (to
     * its kept routes, or to it while it lived) may still reach the session as orphans, given once their QoS 2 packet
     * id is durable.
     */
    default boolean isAdopted() {
        return false;
    }

    /** Whether {@link #hold} may take deliveries now (checked first: most targets never do). */
    default boolean holdsDeliveries() {
        return false;
    }

    /**
     * A QoS 1/2 delivery to another node ({@link #isNode}): {@code held} runs, on any thread, once that node holds
     * it for good (stored and replicated there, or handed on when that node died), so that the publisher's
     * acknowledgement waits for it.
     */
    default void deliver(Delivery delivery, Runnable held) {
        deliver(delivery);
        held.run();
    }
}
