package io.ternmq.broker.routing;

import io.ternmq.broker.message.Subscription;

/**
 * Topic filters to the targets subscribed with them, and shared subscription groups. {@link SubscriptionTree} holds
 * this node's; a cluster-wide table implements the same contract later.
 */
public interface SubscriptionTable {

    /** What {@link #match} reports. */
    interface MatchVisitor {
        /** An ordinary subscription that matches (a target with overlapping filters is visited per filter). */
        void visit(DeliveryTarget target, Subscription subscription);

        /** A shared subscription group whose filter matches: exactly one of its members gets the message. */
        default void visitShared(SharedGroup group) {
        }
    }

    /**
     * Adds or replaces the target's subscription; a {@code $share/{group}/{filter}} one joins that group.
     *
     * @return true if the target had no subscription to this filter before
     */
    boolean subscribe(DeliveryTarget target, Subscription subscription);

    /** @return true if the target had a subscription to this filter */
    boolean unsubscribe(DeliveryTarget target, String filter);

    /** Visits every subscription and shared group whose filter matches the topic name; safe from any thread. */
    void match(String topic, MatchVisitor visitor);

    /** @return the shared group of a {@code $share/...} filter, or null if it has no members */
    SharedGroup sharedGroup(String sharedFilter);

    /** Ordinary subscriptions plus shared group memberships. */
    long size();

    /** Shared group memberships alone. */
    long sharedSize();

    /** Visits every filter with its number of this node's subscribers (a shared group counts once); for listings. */
    void forEachFilter(java.util.function.ObjIntConsumer<String> visitor);
}
