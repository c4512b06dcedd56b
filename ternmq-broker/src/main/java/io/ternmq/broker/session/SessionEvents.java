package io.ternmq.broker.session;

import io.ternmq.broker.message.Delivery;

import java.util.List;

/** What routing must hear about sessions; the router implements it. */
public interface SessionEvents {

    /**
     * A session ended: drop its subscriptions, and send on what it held through shared subscriptions (queued
     * messages, QoS 1 in flight) to other members. Runs on the session's owner loop.
     */
    void sessionEnded(Session session, List<Delivery> sharedLeftovers);

    /** A shared-subscription delivery reached a session that had already ended: give it to another member. */
    void redirectShared(Delivery delivery);
}
