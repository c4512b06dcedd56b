package io.ternmq.broker.cluster;

import io.netty.channel.Channel;
import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.routing.DeliveryTarget;
import io.ternmq.broker.routing.SubscriptionTable;
import io.ternmq.broker.store.StoredQueue;
import io.ternmq.codec.QoS;
import io.ternmq.codec.TopicSyntax;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Another node, as this node's routing sees it: one subscriber holding a proxy subscription for each filter that
 * node's sessions subscribe (its routes, which it sends), so that a PUBLISH here yields one delivery per node with
 * matching subscribers, carrying the message at its own QoS and RETAIN. That node matches again and delivers to its
 * subscribers, so overlapping subscriptions, subscription identifiers, retain-as-published and no-local work there
 * as on one node. Delivering means writing the message on this node's {@link PeerLink} to it.
 */
final class RemoteNode implements DeliveryTarget {
    private final String nodeId;
    private final String clientId;
    private final PeerLink link;
    private final SubscriptionTable table;
    /** Filters it routes; guarded by itself (inbound connections of that node change it). */
    private final Set<String> routes = new HashSet<>();
    private final Set<Channel> inbound = ConcurrentHashMap.newKeySet();
    private boolean gone;
    /** Its routes snapshot has arrived on an inbound connection: this node routes to it correctly. */
    private volatile boolean routesReceived;

    private final ClusterShared shared;

    RemoteNode(String nodeId, PeerLink link, SubscriptionTable table, ClusterShared shared) {
        this.nodeId = nodeId;
        this.shared = shared;
        this.clientId = "$node/" + nodeId;
        this.link = link;
        this.table = table;
    }

    PeerLink link() {
        return link;
    }

    String nodeId() {
        return nodeId;
    }

    /** The node's sessions subscribe this filter. */
    void addRoute(String filter) {
        if (!TopicSyntax.isValidTopicFilter(filter)) {
            throw new IllegalArgumentException("'" + filter + "' is not a topic filter");
        }
        synchronized (routes) {
            if (!gone && routes.add(filter)) {
                // QoS 2 and retain-as-published: the message goes on as published; the other node applies the
                // subscribers' own options. No-local is theirs to apply too. A shared filter makes this node a
                // member of that group.
                table.subscribe(this, new Subscription(filter, QoS.EXACTLY_ONCE, false, true, 2, 0));
            }
        }
    }

    void removeRoute(String filter) {
        synchronized (routes) {
            if (routes.remove(filter)) {
                table.unsubscribe(this, filter);
            }
        }
    }

    /** After a snapshot: the routes it no longer has go. */
    void keepOnly(Set<String> current) {
        synchronized (routes) {
            for (String f : routes.toArray(new String[0])) {
                if (!current.contains(f)) {
                    removeRoute(f);
                }
            }
        }
    }

    /** How many filters it routes now (the admin API's node listing). */
    int routeCount() {
        synchronized (routes) {
            return routes.size();
        }
    }

    void routesReceived() {
        routesReceived = true;
    }

    /** Whether the node has connected its link to this one and sent its routes. */
    boolean ready() {
        return routesReceived && !inbound.isEmpty();
    }

    void attach(Channel ch) {
        inbound.add(ch);
        synchronized (routes) {
            if (gone) {
                ch.close();
            }
        }
    }

    void detach(Channel ch) {
        inbound.remove(ch);
    }

    /** The node left the membership: its routes go, its links close. */
    void left() {
        synchronized (routes) {
            gone = true;
            for (String f : routes) {
                table.unsubscribe(this, f);
            }
            routes.clear();
        }
        link.close();
        inbound.forEach(Channel::close);
    }

    @Override
    public String clientId() {
        return clientId;
    }

    @Override
    public void deliver(Delivery delivery) {
        if (delivery.sharedGroup() != null) {
            shared.send(this, link, delivery);
        } else {
            link.forward(delivery.message());
        }
    }

    /** None: what it gets is written on the link, not stored here. */
    @Override
    public StoredQueue storedQueue() {
        return null;
    }

    @Override
    public boolean isOnline() {
        return link.isEstablished();
    }

    /** The node's link is up and its queue is filling: publishers wait rather than have messages dropped. */
    @Override
    public boolean wantsBackpressure() {
        return link.isCongested();
    }

    @Override
    public boolean isNode() {
        return true;
    }

    @Override
    public String toString() {
        return "node " + nodeId;
    }
}
