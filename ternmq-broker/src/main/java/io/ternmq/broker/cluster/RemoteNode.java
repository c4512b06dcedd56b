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
    private volatile boolean gone;
    /** Its routes snapshot has arrived on an inbound connection: this node routes to it correctly. */
    private volatile boolean routesReceived;

    private final ClusterShared shared;
    /** The stream of held messages this node receives from that node, and the last id routed of it. */
    private long heldStream;
    private long heldRouted;

    private final OrphanedForwards orphans;
    /**
     * The run (membership id) this object stands for: a node restarted on its data gets another object, and a copy
     * routed to this one before it died is an orphan of this run, not of a later run of the node that died since.
     */
    private volatile String run;

    RemoteNode(String nodeId, PeerLink link, SubscriptionTable table, ClusterShared shared,
               OrphanedForwards orphans) {
        this.orphans = orphans;
        this.nodeId = nodeId;
        this.shared = shared;
        this.clientId = "$node/" + nodeId;
        this.link = link;
        this.table = table;
    }

    PeerLink link() {
        return link;
    }

    /** The membership says which run of the node this is (before its link connects). */
    void run(String memberId) {
        run = memberId;
        link.run(memberId);
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

    /**
     * The node left the membership: its links close. Its routes stay until {@link #forget}: until its sessions are
     * adopted elsewhere, QoS 1/2 messages for them are orphans ({@link OrphanedForwards}), which the adopters get.
     */
    void left() {
        synchronized (routes) {
            gone = true;
        }
        link.close();
        inbound.forEach(Channel::close);
    }

    /** Whether the node left the cluster (its routes may still be here, see {@link #left}). */
    boolean isGone() {
        return gone;
    }

    @Override
    public boolean isDeparted() {
        return gone;
    }

    /** Its sessions are adopted elsewhere (or the node is back as a new run): its routes go. */
    void forget() {
        synchronized (routes) {
            gone = true;
            for (String f : routes) {
                table.unsubscribe(this, f);
            }
            routes.clear();
        }
    }

    @Override
    public String clientId() {
        return clientId;
    }

    @Override
    public void deliver(Delivery delivery) {
        if (gone && delivery.sharedGroup() == null) {
            return; // QoS 0 for a node that left (its routes wait for its sessions' adoption)
        }
        if (delivery.sharedGroup() != null) {
            shared.send(this, link, delivery);
        } else {
            link.forward(delivery.message());
        }
    }

    /** QoS 1/2: {@code held} runs once the node confirms it holds the message (or, if it dies, its adopters do). */
    @Override
    public void deliver(Delivery delivery, Runnable held) {
        if (delivery.sharedGroup() != null) {
            deliver(delivery);
            held.run(); // a shared group's copy is kept by ClusterShared until its member's node confirms it
        } else if (gone) {
            // its sessions are being adopted: straight to the members, in this publisher's order
            orphans.orphanedNow(nodeId, run, link.stream(), delivery.message(), held);
        } else {
            link.forwardHeld(delivery.message(), held);
        }
    }

    /**
     * A QoS 1/2 message this node forwarded as {@code id} of the sending node's {@code stream} arrived on one of its
     * links: false if it was routed here already (sent again on a new connection, not confirmed in time).
     */
    synchronized boolean firstArrival(long stream, long id) {
        if (stream != heldStream) {
            heldStream = stream; // a new link of that node: an earlier one's cannot send any more
            heldRouted = 0;
        }
        if (id <= heldRouted) {
            return false;
        }
        heldRouted = id;
        return true;
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
