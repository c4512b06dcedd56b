package io.ternmq.broker.routing;

import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.store.HeldHandover;
import io.ternmq.broker.store.PublishTransaction;
import io.ternmq.broker.store.Store;
import io.ternmq.broker.store.StoredQueue;
import io.ternmq.codec.QoS;

/**
 * Deliveries to shared subscription groups beyond the pick {@link Router} makes for each publish: what a group holds
 * while no member is online (in the store when it survives a restart), handed to the first member that comes online;
 * deliveries a member could not take any more, given to another; messages another node forwarded for a group. One
 * per router; runs on whichever loop calls it, as the router does.
 */
final class SharedDeliveries {
    private final SubscriptionTable subscriptions;
    private final Store store;
    private final BrokerMetrics metrics;

    SharedDeliveries(SubscriptionTable subscriptions, Store store, BrokerMetrics metrics) {
        this.subscriptions = subscriptions;
        this.store = store;
        this.metrics = metrics;
    }

    /** What a publish's transaction writes for a group with no member online: held in the store. */
    PublishTransaction.HeldGroup heldFor(SharedGroup group, String publisherId) {
        return new HeldFor(group, publisherId);
    }

    /** A group with no member online holds the message in memory (a store that does not survive a restart). */
    void holdInMemory(SharedGroup group, Message message) {
        group.hold(new SharedGroup.Held(0, 0, message));
        drainIfMemberOnline(group, message.publisherId());
    }

    /**
     * A shared-subscription delivery reached a target that had already ended: another member gets it (this node
     * answers for it from here on: whoever waits for it to be settled is told).
     */
    void redirect(Delivery delivery) {
        delivery.settle();
        SharedGroup group = subscriptions.sharedGroup(delivery.sharedGroup());
        if (group == null) {
            return; // the group has no members left
        }
        SharedGroup.Member member = group.pick(delivery.message().publisherId());
        if (member == null) {
            if (group.reserveHold()) {
                group.hold(new SharedGroup.Held(0, 0, delivery.message()));
                drainIfMemberOnline(group, delivery.message().publisherId());
            } else {
                metrics.queueOverflowDrops.increment();
            }
            return;
        }
        deliverShared(group, member, new SharedGroup.Held(0, 0, delivery.message()));
    }

    private void drainIfMemberOnline(SharedGroup group, String publisherId) {
        // a member may have come online between the pick and the hold, and drained before the hold; held messages
        // go to members on this node only
        SharedGroup.Member member = group.pickLocal(publisherId);
        if (member != null) {
            drainHeld(group, member.target());
        }
    }

    void drainHeld(SharedGroup group, DeliveryTarget target) {
        if (group == null) {
            return;
        }
        SharedGroup.Member member = group.memberOf(target);
        if (member == null) {
            return;
        }
        SharedGroup.Held h;
        while ((h = group.nextHeld()) != null) {
            deliverShared(group, member, h);
        }
    }

    /**
     * A message another node forwarded to this one for a shared group, after picking this node among the group's
     * nodes: to one online member here. With none online here (they went offline meanwhile) the group holds it here
     * until one comes back, as on one node. {@code settled} (null for QoS 0) runs once the member has taken it, or
     * once it is held. Runs on the data link's loop.
     */
    void deliverForwarded(String groupKey, Message message, Runnable settled) {
        SharedGroup group = subscriptions.sharedGroup(groupKey);
        SharedGroup.Member member = group == null ? null : group.pickLocal(message.publisherId());
        if (member == null) {
            if (group == null || !group.isLocal()) {
                metrics.queueOverflowDrops.increment(); // no member here any more: nowhere to hold it
            } else if (group.reserveHold()) {
                group.hold(new SharedGroup.Held(0, 0, message));
                drainIfMemberOnline(group, message.publisherId());
            } else {
                metrics.queueOverflowDrops.increment();
            }
            if (settled != null) {
                settled.run();
            }
            return;
        }
        deliverShared(group, member, new SharedGroup.Held(0, 0, message), settled);
    }

    private void deliverShared(SharedGroup group, SharedGroup.Member member, SharedGroup.Held held) {
        deliverShared(group, member, held, null);
    }

    private void deliverShared(SharedGroup group, SharedGroup.Member member, SharedGroup.Held held,
                               Runnable settled) {
        Delivery d = sharedDelivery(group, member, held.message(), settled);
        DeliveryTarget target = member.target();
        StoredQueue queue = d.qos() != QoS.AT_MOST_ONCE ? target.storedQueue() : null;
        if (queue == null && !held.stored()) {
            target.deliver(d);
            return;
        }
        store.submit(new HeldHandover(queue, d, group.key(), held.seq(), held.messageId(), () -> target.deliver(d)));
    }

    Delivery delivery(SharedGroup group, SharedGroup.Member member, Message message) {
        return sharedDelivery(group, member, message, null);
    }

    private static Delivery sharedDelivery(SharedGroup group, SharedGroup.Member member, Message message,
                                           Runnable settled) {
        Subscription sub = member.subscription();
        int[] ids = sub.subscriptionId() == 0 ? MatchedTargets.NO_IDS : new int[] {sub.subscriptionId()};
        boolean retainFlag = message.retain() && sub.retainAsPublished();
        QoS qos = QoS.min(message.qos(), sub.qos());
        if (settled != null && qos == QoS.AT_MOST_ONCE) {
            settled.run(); // nothing to acknowledge
            settled = null;
        }
        return new Delivery(message, qos, retainFlag, ids, group.key(), settled);
    }

    /** A shared group holding a message in the store while no member is online; hands it on once it is durable. */
    private final class HeldFor implements PublishTransaction.HeldGroup {
        private final SharedGroup group;
        private final String publisherId;

        HeldFor(SharedGroup group, String publisherId) {
            this.group = group;
            this.publisherId = publisherId;
        }

        @Override
        public String key() {
            return group.key();
        }

        @Override
        public long nextHeldSeq() {
            return group.nextHeldSeq();
        }

        @Override
        public void held(long seq, long messageId, Message message) {
            group.hold(new SharedGroup.Held(seq, messageId, message));
            drainIfMemberOnline(group, publisherId);
        }
    }
}
