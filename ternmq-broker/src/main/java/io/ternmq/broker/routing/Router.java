package io.ternmq.broker.routing;

import io.netty.util.concurrent.EventExecutor;
import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.retain.RetainedStore;
import io.ternmq.broker.session.Session;
import io.ternmq.broker.session.SessionEvents;
import io.ternmq.broker.session.SessionLimits;
import io.ternmq.broker.session.Subscription;
import io.ternmq.broker.store.QueueEntry;
import io.ternmq.broker.store.Store;
import io.ternmq.broker.store.StoreOp;
import io.ternmq.broker.store.StoreWriter;
import io.ternmq.broker.store.StoredEntry;
import io.ternmq.codec.QoS;
import io.ternmq.codec.TopicSyntax;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;

/**
 * Takes a published message to every session whose subscriptions match it, once per session at the highest
 * matching QoS (capped by the message's QoS), and to one member of every matching shared subscription group; keeps
 * the retained store current. Runs on the publisher's event loop.
 *
 * <p>Deliveries that need no store go straight to the target session's inbox. QoS 1/2 deliveries to stored
 * (persistent) sessions, retained changes, held shared-group messages and the publisher's inbound QoS 2 state are
 * written in one {@link StoreOp}: the message once, an entry per session queue. Only when that op is durable are
 * the entries handed to their sessions (in the store's order, which numbers them) and is the publisher told, so that
 * its PUBACK/PUBREC never promises what a crash could lose.
 */
public final class Router implements SessionEvents {
    private static final int[] NO_IDS = new int[0];

    /** What the publisher's side learns once its message is routed and stored; runs on the publisher's loop. */
    @FunctionalInterface
    public interface PublishCallback {
        /**
         * @param matched       sessions and shared groups the message went to
         * @param quotaExceeded true if it matched but every stored target refused it for its queue limits
         */
        void routed(int matched, boolean quotaExceeded);
    }

    /** Where a PUBLISH came from: its session (for inbound QoS 2 state), packet id (QoS 2) and event loop. */
    public record Origin(Session publisher, int qos2PacketId, EventExecutor loop) {
    }

    private final SubscriptionTable subscriptions;
    private final RetainedStore retained;
    private final Store store;
    private final SessionLimits limits;
    private final long retainedMaxCount;
    private final long retainedMaxBytes;
    private final BrokerMetrics metrics;

    public Router(SubscriptionTable subscriptions, RetainedStore retained, Store store, SessionLimits limits,
                  long retainedMaxCount, long retainedMaxBytes, BrokerMetrics metrics) {
        this.subscriptions = subscriptions;
        this.retained = retained;
        this.store = store;
        this.limits = limits;
        this.retainedMaxCount = retainedMaxCount;
        this.retainedMaxBytes = retainedMaxBytes;
        this.metrics = metrics;
    }

    public RetainedStore retained() {
        return retained;
    }

    public SubscriptionTable subscriptions() {
        return subscriptions;
    }

    /**
     * Routes a message; with RETAIN set it also replaces (or, with an empty payload, clears) the retained one.
     * {@code callback} (may be null) runs on {@code origin.loop()} when everything that must be stored is.
     *
     * @return a target session that falls behind while its client keeps consuming (its queue filling, counting
     *         what still waits to be written, or its socket backed up), or null: the publisher should wait for it
     *         rather than have the broker drop what it already acknowledged
     */
    public Session publish(Message message, Origin origin, PublishCallback callback) {
        boolean retainChanged = message.retain() && updateRetained(message);
        Session congested = null;
        Targets targets = new Targets(message.publisherId());
        subscriptions.match(message.topic(), targets);
        Storing storing = null;
        for (int i = 0; i < targets.size; i++) {
            // [MQTT-3.3.1-9] RETAIN is 0 on delivery to established subscriptions unless retain-as-published
            boolean retainFlag = message.retain() && targets.retainAsPublished[i];
            QoS qos = QoS.min(message.qos(), targets.qos[i]);
            Session session = targets.sessions[i];
            if (congested == null && session.wantsBackpressure()) {
                congested = session;
            }
            Delivery d = new Delivery(message, qos, retainFlag, targets.subscriptionIds(i));
            if (qos != QoS.AT_MOST_ONCE && session.isStored()) {
                storing = storing == null ? new Storing(message) : storing;
                storing.add(session, d);
            } else {
                session.submit(d);
            }
        }
        int matched = targets.size;
        if (targets.groups != null) {
            for (SharedGroup group : targets.groups) {
                matched++;
                SharedGroup.Member member = group.pick(message.publisherId());
                if (member == null) {
                    if (!group.reserveHold()) {
                        metrics.queueOverflowDrops.increment();
                    } else if (store.persistent()) {
                        storing = storing == null ? new Storing(message) : storing;
                        storing.held.add(group);
                    } else {
                        group.hold(new SharedGroup.Held(0, 0, message));
                        drainIfMemberOnline(group, message.publisherId());
                    }
                    continue;
                }
                Delivery d = sharedDelivery(group, member, message);
                if (congested == null && member.session().wantsBackpressure()) {
                    congested = member.session();
                }
                if (d.qos() != QoS.AT_MOST_ONCE && member.session().isStored()) {
                    storing = storing == null ? new Storing(message) : storing;
                    storing.add(member.session(), d);
                } else {
                    member.session().submit(d);
                }
            }
        }
        boolean storeRetained = retainChanged && store.persistent();
        boolean storeInbound = origin != null && origin.qos2PacketId() != 0 && origin.publisher().isStored();
        if (storing == null && !storeRetained && !storeInbound) {
            if (callback != null) {
                callback.routed(matched, false);
            }
            return congested;
        }
        if (storing == null) {
            storing = new Storing(message);
        }
        storing.retained = storeRetained;
        storing.origin = storeInbound ? origin : null;
        storing.callback = callback;
        storing.callbackLoop = origin == null ? null : origin.loop();
        storing.matched = matched;
        store.submit(storing);
        return congested;
    }

    /** Updates the in-memory retained index now (so that new subscribers see it at once); @return if it changed */
    private boolean updateRetained(Message message) {
        boolean clearing = message.payload().length == 0;
        if (!clearing && retained.get(message.topic()) == null
                && ((retainedMaxCount >= 0 && retained.size() >= retainedMaxCount)
                || (retainedMaxBytes >= 0 && retained.bytes() + message.payload().length > retainedMaxBytes))) {
            metrics.retainedRefused.increment();
            return false;
        }
        if (clearing && retained.get(message.topic()) == null) {
            return false;
        }
        retained.put(message);
        return true;
    }

    /** One target session of a stored publish. */
    private record Target(Session session, Delivery delivery) {
    }

    /** The store operation of one publish. */
    private final class Storing implements StoreOp {
        final Message message;
        final List<Target> targets = new ArrayList<>(2);
        final List<SharedGroup> held = new ArrayList<>(0);
        boolean retained;
        Origin origin;
        PublishCallback callback;
        EventExecutor callbackLoop;
        int matched;
        private final List<Object[]> accepted = new ArrayList<>(2);
        private final List<SharedGroup.Held> heldEntries = new ArrayList<>(0);
        private int refused;

        Storing(Message message) {
            this.message = message;
        }

        /** A stored session's delivery: it counts towards the session's congestion until {@link #prepare} takes it. */
        void add(Session session, Delivery d) {
            targets.add(new Target(session, d));
            session.storeSubmittedDelivery();
        }

        @Override
        public void prepare(StoreWriter w) {
            long messageId = 0;
            int references = 0;
            int size = message.payload().length;
            for (Target t : targets) {
                Session s = t.session();
                if (s.isEnded()) {
                    s.storeTookDelivery();
                    continue; // it ended since the match; its state is being purged
                }
                if (overLimits(s, size)) {
                    if (!limits.dropOldest()) {
                        s.countRefused();
                        s.storeTookDelivery();
                        refused++;
                        continue;
                    }
                    s.dropOldestStored();
                }
                if (messageId == 0) {
                    messageId = w.newMessageId();
                }
                Delivery d = t.delivery();
                QueueEntry entry = new QueueEntry(s.nextStoreSeq(), messageId, d.qos(), d.retain(),
                        d.subscriptionIds(), d.sharedGroup() == null ? "" : d.sharedGroup(), false, size);
                w.putQueueEntry(s.storeOwner(), entry);
                s.countStored(size);
                s.storeTookDelivery();
                references++;
                accepted.add(new Object[] {s, entry});
            }
            for (SharedGroup group : held) {
                if (messageId == 0) {
                    messageId = w.newMessageId();
                }
                long seq = group.nextHeldSeq();
                w.putHeld(group.key(), seq, messageId);
                references++;
                heldEntries.add(new SharedGroup.Held(seq, messageId, message));
            }
            if (references > 0) {
                w.putMessage(messageId, message, references);
            }
            if (retained) {
                if (message.payload().length == 0) {
                    w.deleteRetained(message.topic());
                } else {
                    w.putRetained(message);
                }
            }
            if (origin != null) {
                w.putInboundQos2(origin.publisher().storeOwner(), origin.qos2PacketId());
            }
        }

        @Override
        public void applied() {
            for (Object[] a : accepted) {
                ((Session) a[0]).post(new StoredEntry((QueueEntry) a[1], message));
            }
            for (int i = 0; i < heldEntries.size(); i++) {
                SharedGroup group = held.get(i);
                group.hold(heldEntries.get(i));
                drainIfMemberOnline(group, message.publisherId());
            }
            if (callback != null) {
                boolean quotaExceeded = refused > 0 && refused == matched;
                if (callbackLoop == null) {
                    callback.routed(matched, quotaExceeded);
                } else {
                    callbackLoop.execute(() -> callback.routed(matched, quotaExceeded));
                }
            }
        }
    }

    private boolean overLimits(Session s, int size) {
        return s.storedQueued() >= limits.maxQueuedMessages()
                || (limits.maxQueuedBytes() > 0 && s.storedBytes() + size > limits.maxQueuedBytes());
    }

    // ------------------------------------------------------------------ subscriptions

    /** Adds the session's subscription to routing (the session's own map is updated by the caller). */
    public boolean subscribe(Session session, Subscription subscription) {
        boolean added = subscriptions.subscribe(session, subscription);
        if (TopicSyntax.isSharedSubscription(subscription.filter())) {
            drainHeld(subscriptions.sharedGroup(subscription.filter()), session);
        }
        return added;
    }

    public boolean unsubscribe(Session session, String filter) {
        return subscriptions.unsubscribe(session, filter);
    }

    /**
     * Sends the retained messages matching a new subscription to its session, with RETAIN set [MQTT-3.3.1-6]: QoS
     * 1/2 ones through the store for a stored session, like any other delivery. Runs on the session's owner loop.
     */
    public void sendRetained(Session session, Subscription sub) {
        int[] ids = sub.subscriptionId() == 0 ? NO_IDS : new int[] {sub.subscriptionId()};
        long now = System.currentTimeMillis();
        List<Delivery> stored = new ArrayList<>();
        retained.match(sub.filter(), m -> {
            if (m.isExpired(now)) {
                return; // an expired retained message is not delivered [MQTT-3.3.2-5]
            }
            Delivery d = new Delivery(m, QoS.min(m.qos(), sub.qos()), true, ids);
            if (d.qos() != QoS.AT_MOST_ONCE && session.isStored()) {
                stored.add(d);
            } else {
                session.deliver(d);
            }
        });
        for (Delivery d : stored) {
            Storing op = new Storing(d.message());
            op.add(session, d);
            store.submit(op);
        }
    }

    /** A session came online: it takes what its shared groups held while no member was online. Owner loop. */
    public void sessionOnline(Session session) {
        for (Subscription s : session.subscriptions()) {
            if (TopicSyntax.isSharedSubscription(s.filter())) {
                drainHeld(subscriptions.sharedGroup(s.filter()), session);
            }
        }
    }

    @Override
    public void sessionEnded(Session session, List<Delivery> sharedLeftovers) {
        for (Subscription s : session.subscriptions()) {
            subscriptions.unsubscribe(session, s.filter());
        }
        for (Delivery d : sharedLeftovers) {
            redirectShared(d);
        }
    }

    @Override
    public void redirectShared(Delivery delivery) {
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
        // a member may have come online between the pick and the hold, and drained before the hold
        SharedGroup.Member member = group.pick(publisherId);
        if (member != null) {
            drainHeld(group, member.session());
        }
    }

    private void drainHeld(SharedGroup group, Session session) {
        if (group == null) {
            return;
        }
        SharedGroup.Member member = group.memberOf(session);
        if (member == null) {
            return;
        }
        SharedGroup.Held h;
        while ((h = group.nextHeld()) != null) {
            deliverShared(group, member, h);
        }
    }

    private void deliverShared(SharedGroup group, SharedGroup.Member member, SharedGroup.Held held) {
        Delivery d = sharedDelivery(group, member, held.message());
        Session s = member.session();
        boolean toStore = d.qos() != QoS.AT_MOST_ONCE && s.isStored();
        if (!toStore && !held.stored()) {
            s.submit(d);
            return;
        }
        if (toStore) {
            s.storeSubmittedDelivery();
        }
        store.submit(new StoreOp() {
            private QueueEntry entry;

            @Override
            public void prepare(StoreWriter w) {
                int size = held.message().payload().length;
                if (toStore) {
                    long messageId = held.stored() ? held.messageId() : w.newMessageId();
                    entry = new QueueEntry(s.nextStoreSeq(), messageId, d.qos(), d.retain(), d.subscriptionIds(),
                            group.key(), false, size);
                    w.putQueueEntry(s.storeOwner(), entry);
                    s.countStored(size);
                    s.storeTookDelivery();
                    w.putMessage(messageId, held.message(), 1);
                }
                if (held.stored()) {
                    w.deleteHeld(group.key(), held.seq(), held.messageId());
                }
            }

            @Override
            public void applied() {
                if (entry != null) {
                    s.post(new StoredEntry(entry, held.message()));
                } else {
                    s.post(d);
                }
            }
        });
    }

    private static Delivery sharedDelivery(SharedGroup group, SharedGroup.Member member, Message message) {
        Subscription sub = member.subscription();
        int[] ids = sub.subscriptionId() == 0 ? NO_IDS : new int[] {sub.subscriptionId()};
        boolean retainFlag = message.retain() && sub.retainAsPublished();
        return new Delivery(message, QoS.min(message.qos(), sub.qos()), retainFlag, ids, group.key());
    }

    /**
     * The sessions one message goes to. Overlapping subscriptions of one session merge into one entry with the
     * highest QoS and all their subscription identifiers: we send one copy, which the standard allows.
     */
    private static final class Targets implements SubscriptionTable.MatchVisitor {
        private static final int LINEAR_SCAN_LIMIT = 8;

        private final String publisherId;
        Session[] sessions = new Session[4];
        QoS[] qos = new QoS[4];
        boolean[] retainAsPublished = new boolean[4];
        int[][] ids = new int[4][];
        int size;
        List<SharedGroup> groups;
        private IdentityHashMap<Session, Integer> index;

        Targets(String publisherId) {
            this.publisherId = publisherId;
        }

        @Override
        public void visit(Session session, Subscription sub) {
            // no local: not to the connection that published it
            if (sub.noLocal() && session.clientId().equals(publisherId)) {
                return;
            }
            int i = indexOf(session);
            if (i < 0) {
                add(session, sub);
                return;
            }
            qos[i] = QoS.max(qos[i], sub.qos());
            retainAsPublished[i] |= sub.retainAsPublished();
            if (sub.subscriptionId() != 0) {
                int[] old = ids[i];
                int[] grown = Arrays.copyOf(old, old.length + 1);
                grown[old.length] = sub.subscriptionId();
                ids[i] = grown;
            }
        }

        @Override
        public void visitShared(SharedGroup group) {
            if (groups == null) {
                groups = new ArrayList<>(2);
            }
            groups.add(group);
        }

        private int indexOf(Session session) {
            if (index != null) {
                Integer i = index.get(session);
                return i == null ? -1 : i;
            }
            for (int i = 0; i < size; i++) {
                if (sessions[i] == session) {
                    return i;
                }
            }
            return -1;
        }

        private void add(Session session, Subscription sub) {
            if (size == sessions.length) {
                int n = size * 2;
                sessions = Arrays.copyOf(sessions, n);
                qos = Arrays.copyOf(qos, n);
                retainAsPublished = Arrays.copyOf(retainAsPublished, n);
                ids = Arrays.copyOf(ids, n);
            }
            sessions[size] = session;
            qos[size] = sub.qos();
            retainAsPublished[size] = sub.retainAsPublished();
            ids[size] = sub.subscriptionId() == 0 ? NO_IDS : new int[] {sub.subscriptionId()};
            if (index != null) {
                index.put(session, size);
            } else if (size == LINEAR_SCAN_LIMIT) {
                index = new IdentityHashMap<>();
                for (int i = 0; i <= size; i++) {
                    index.put(sessions[i], i);
                }
            }
            size++;
        }

        int[] subscriptionIds(int i) {
            return ids[i];
        }
    }
}
