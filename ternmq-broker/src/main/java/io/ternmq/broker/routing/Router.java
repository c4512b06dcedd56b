package io.ternmq.broker.routing;

import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.retain.RetainedStore;
import io.ternmq.broker.session.Session;
import io.ternmq.broker.session.SessionEvents;
import io.ternmq.broker.session.Subscription;
import io.ternmq.codec.QoS;
import io.ternmq.codec.TopicSyntax;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;

/**
 * Takes a published message to every session whose subscriptions match it, once per session at the highest
 * matching QoS (capped by the message's QoS), and to one member of every matching shared subscription group; keeps
 * the retained store current. Runs on the publisher's event loop; hands each delivery to the target session's
 * inbox.
 */
public final class Router implements SessionEvents {
    private static final int[] NO_IDS = new int[0];

    private final SubscriptionTable subscriptions;
    private final RetainedStore retained;
    private final BrokerMetrics metrics;

    public Router(SubscriptionTable subscriptions, RetainedStore retained, BrokerMetrics metrics) {
        this.subscriptions = subscriptions;
        this.retained = retained;
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
     *
     * @return the number of sessions and shared groups it goes to
     */
    public int publish(Message message) {
        if (message.retain()) {
            retained.put(message);
        }
        Targets targets = new Targets(message.publisherId());
        subscriptions.match(message.topic(), targets);
        for (int i = 0; i < targets.size; i++) {
            // [MQTT-3.3.1-9] RETAIN is 0 on delivery to established subscriptions unless retain-as-published
            boolean retainFlag = message.retain() && targets.retainAsPublished[i];
            QoS qos = QoS.min(message.qos(), targets.qos[i]);
            targets.sessions[i].submit(new Delivery(message, qos, retainFlag, targets.subscriptionIds(i)));
        }
        List<SharedGroup> groups = targets.groups;
        if (groups == null) {
            return targets.size;
        }
        for (SharedGroup group : groups) {
            routeShared(group, message);
        }
        return targets.size + groups.size();
    }

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
        routeShared((SharedGroup) delivery.sharedGroup(), delivery.message());
    }

    private void routeShared(SharedGroup group, Message message) {
        SharedGroup.Member member = group.pick(message.publisherId());
        if (member != null) {
            deliverShared(group, member, message);
            return;
        }
        if (group.isEmpty()) {
            return; // the last member left: the group is gone
        }
        if (!group.hold(message)) {
            metrics.queueOverflowDrops.increment();
            return;
        }
        // a member may have come online between the pick and the hold, and drained before the hold
        member = group.pick(message.publisherId());
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
        Message m;
        while ((m = group.nextHeld()) != null) {
            deliverShared(group, member, m);
        }
    }

    private static void deliverShared(SharedGroup group, SharedGroup.Member member, Message message) {
        Subscription sub = member.subscription();
        int[] ids = sub.subscriptionId() == 0 ? NO_IDS : new int[] {sub.subscriptionId()};
        boolean retainFlag = message.retain() && sub.retainAsPublished();
        member.session().submit(new Delivery(message, QoS.min(message.qos(), sub.qos()), retainFlag, ids, group));
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
            // [MQTT-3.8.3-3] no local: not to the connection that published it
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
