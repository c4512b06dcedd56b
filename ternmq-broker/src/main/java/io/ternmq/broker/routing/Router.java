package io.ternmq.broker.routing;

import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.retain.RetainedStore;
import io.ternmq.broker.session.Session;
import io.ternmq.broker.session.Subscription;
import io.ternmq.codec.QoS;

import java.util.Arrays;
import java.util.IdentityHashMap;

/**
 * Takes a published message to every session whose subscriptions match it, once per session at the highest
 * matching QoS (capped by the message's QoS), and keeps the retained store current. Runs on the publisher's event
 * loop; hands each delivery to the target session's inbox.
 */
public final class Router {

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
     * @return the number of sessions it goes to
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
        return targets.size;
    }

    /** Adds the session's subscription to routing (the session's own map is updated by the caller). */
    public boolean subscribe(Session session, Subscription subscription) {
        return subscriptions.subscribe(session, subscription);
    }

    public boolean unsubscribe(Session session, String filter) {
        return subscriptions.unsubscribe(session, filter);
    }

    /** Drops every subscription of an ended session; runs on the session's owner loop. */
    public void removeAll(Session session) {
        for (Subscription s : session.subscriptions()) {
            subscriptions.unsubscribe(session, s.filter());
        }
    }

    /**
     * The sessions one message goes to. Overlapping subscriptions of one session merge into one entry with the
     * highest QoS and all their subscription identifiers: we send one copy, which the standard allows.
     */
    private static final class Targets implements SubscriptionTree.MatchVisitor {
        private static final int[] NO_IDS = new int[0];
        private static final int LINEAR_SCAN_LIMIT = 8;

        private final String publisherId;
        Session[] sessions = new Session[4];
        QoS[] qos = new QoS[4];
        boolean[] retainAsPublished = new boolean[4];
        int[][] ids = new int[4][];
        int size;
        private IdentityHashMap<Session, Integer> index;

        Targets(String publisherId) {
            this.publisherId = publisherId;
        }

        @Override
        public void visit(Session session, Subscription sub) {
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
