package io.ternmq.broker.routing;

import io.ternmq.broker.session.Session;
import io.ternmq.broker.session.Subscription;

/**
 * Topic filters to the sessions subscribed with them. {@link SubscriptionTree} holds this node's subscriptions; a
 * cluster-wide table implements the same contract later.
 */
public interface SubscriptionTable {

    /** @return true if the session had no subscription to this filter before (otherwise it is replaced) */
    boolean subscribe(Session session, Subscription subscription);

    /** @return true if the session had a subscription to this filter */
    boolean unsubscribe(Session session, String filter);

    /** Visits every subscription whose filter matches the topic name; safe from any thread. */
    void match(String topic, SubscriptionTree.MatchVisitor visitor);

    long size();
}
