package io.ternmq.broker.routing;

import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.config.SharedSubscriptionStrategy;
import io.ternmq.codec.TopicSyntax;

import java.util.concurrent.atomic.AtomicLong;

/**
 * This node's subscriptions: one {@link TopicFilterTree} of targets for ordinary subscriptions and one of shared
 * groups (keyed by group name) for {@code $share/{group}/{filter}} subscriptions. Matching is lock-free.
 */
public final class SubscriptionTree implements SubscriptionTable {

    private final TopicFilterTree<DeliveryTarget, Subscription> targets = new TopicFilterTree<>();
    private final TopicFilterTree<String, SharedGroup> groups = new TopicFilterTree<>();
    private final Object groupLock = new Object();
    private final AtomicLong sharedMembers = new AtomicLong();
    private final SharedSubscriptionStrategy strategy;
    private final int maxHeldPerGroup;

    public SubscriptionTree() {
        this(SharedSubscriptionStrategy.ROUND_ROBIN, 1000);
    }

    public SubscriptionTree(SharedSubscriptionStrategy strategy, int maxHeldPerGroup) {
        this.strategy = strategy;
        this.maxHeldPerGroup = maxHeldPerGroup;
    }

    @Override
    public boolean subscribe(DeliveryTarget target, Subscription subscription) {
        String filter = subscription.filter();
        if (!TopicSyntax.isSharedSubscription(filter)) {
            return targets.put(filter, target, subscription) == null;
        }
        SharedFilter sf = SharedFilter.parse(filter);
        synchronized (groupLock) {
            SharedGroup group = groups.get(sf.filter, sf.group);
            if (group == null) {
                group = new SharedGroup(sf.group, sf.filter, strategy, maxHeldPerGroup);
                groups.put(sf.filter, sf.group, group);
            }
            boolean added = group.memberOf(target) == null;
            group.put(target, subscription);
            if (added) {
                sharedMembers.incrementAndGet();
            }
            return added;
        }
    }

    @Override
    public boolean unsubscribe(DeliveryTarget target, String filter) {
        if (!TopicSyntax.isSharedSubscription(filter)) {
            return targets.remove(filter, target) != null;
        }
        SharedFilter sf = SharedFilter.parse(filter);
        synchronized (groupLock) {
            SharedGroup group = groups.get(sf.filter, sf.group);
            if (group == null || !group.remove(target)) {
                return false;
            }
            sharedMembers.decrementAndGet();
            if (group.isEmpty()) {
                groups.remove(sf.filter, sf.group);
            }
            return true;
        }
    }

    @Override
    public void match(String topic, MatchVisitor visitor) {
        targets.match(topic, visitor::visit);
        if (!groups.isEmpty()) {
            groups.match(topic, (name, group) -> visitor.visitShared(group));
        }
    }

    @Override
    public SharedGroup sharedGroup(String sharedFilter) {
        SharedFilter sf = SharedFilter.parse(sharedFilter);
        return groups.get(sf.filter, sf.group);
    }

    @Override
    public long size() {
        return targets.size() + sharedMembers.get();
    }

    @Override
    public long sharedSize() {
        return sharedMembers.get();
    }

    /**
     * Visits every filter this node's sessions subscribe to with their number; a shared group with a member here
     * counts as one subscriber of its filter. Other nodes (their routes' proxies) are not counted: in a cluster each
     * node lists its own. For listings (the admin API's topics): weakly consistent with concurrent writes.
     */
    @Override
    public void forEachFilter(java.util.function.ObjIntConsumer<String> visitor) {
        targets.forEachFilter((filter, entries) -> {
            int local = 0;
            for (DeliveryTarget t : entries.keySet()) {
                if (!t.isNode()) {
                    local++;
                }
            }
            if (local > 0) {
                visitor.accept(filter, local);
            }
        });
        groups.forEachFilter((filter, byName) -> {
            int local = 0;
            for (SharedGroup g : byName.values()) {
                if (g.isLocal()) {
                    local++;
                }
            }
            if (local > 0) {
                visitor.accept(filter, local);
            }
        });
    }

    /** {@code $share/{group}/{filter}} split into its parts. */
    private record SharedFilter(String group, String filter) {
        static SharedFilter parse(String shared) {
            return new SharedFilter(TopicSyntax.shareName(shared), TopicSyntax.messageFilter(shared));
        }
    }
}
