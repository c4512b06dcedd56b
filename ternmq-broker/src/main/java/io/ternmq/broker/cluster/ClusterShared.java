package io.ternmq.broker.cluster;

import io.netty.buffer.ByteBufAllocator;
import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.routing.Router;
import io.ternmq.codec.QoS;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Shared subscriptions cluster-wide: one delivery per group across all nodes. Each node announces
 * {@code $share/g/f} as a route of its own, so every node's group {@code g/f} has, besides its own sessions, one
 * member per other node with members ({@link RemoteNode}); the publishing node picks one member of the group as on
 * one node (its strategy, among its own sessions and the other nodes) and, if it is another node, sends it the
 * message for that group ({@link LinkFrame#SHARED}); that node gives it to one of its online members.
 *
 * <p>QoS 1 and 2 messages sent to another node are kept here until that node confirms that the member has taken
 * them (its PUBACK or PUBREC; {@link LinkFrame#SHARED_ACK}), or that the node holds them for the group. If the node
 * leaves the cluster first (it died), they go to another member of the group.
 */
final class ClusterShared {
    private final ClusterNode cluster;
    private final Router router;
    private final BrokerMetrics metrics;
    private final AtomicLong ids = new AtomicLong();
    /** Node id to the deliveries sent to it and not yet confirmed, by id. */
    private final Map<String, ConcurrentSkipListMap<Long, Delivery>> unconfirmed = new ConcurrentHashMap<>();

    ClusterShared(ClusterNode cluster, Router router, BrokerMetrics metrics) {
        this.cluster = cluster;
        this.router = router;
        this.metrics = metrics;
    }

    /** A delivery for a shared group whose picked member is that node; any thread (the publisher's loop). */
    void send(RemoteNode node, PeerLink link, Delivery d) {
        long id = 0;
        ConcurrentSkipListMap<Long, Delivery> waiting = null;
        if (d.qos() != QoS.AT_MOST_ONCE) {
            id = ids.incrementAndGet();
            waiting = unconfirmed.computeIfAbsent(node.nodeId(), k -> new ConcurrentSkipListMap<>());
            waiting.put(id, d);
        }
        if (!link.forwardShared(id, d.sharedGroup(), d.message()) && waiting != null) {
            waiting.remove(id); // dropped and counted: its link's queue is full
        }
        if (waiting != null && !cluster.isMember(node.nodeId())) {
            // the node left meanwhile: whoever removes the entry (this or peerLeft) hands it on
            if (waiting.remove(id) != null) {
                router.redirectShared(d);
            }
        }
    }

    /** A node confirmed deliveries this node sent it. */
    void confirmed(String from, long id) {
        Map<Long, Delivery> waiting = unconfirmed.get(from);
        if (waiting != null) {
            waiting.remove(id);
        }
    }

    /** A node left: what it had not confirmed goes to other members of each group. */
    void peerLeft(String nodeId) {
        ConcurrentSkipListMap<Long, Delivery> waiting = unconfirmed.remove(nodeId);
        if (waiting == null) {
            return;
        }
        for (Long id : waiting.keySet()) { // in the order they were sent
            Delivery d = waiting.remove(id);
            if (d != null) {
                metrics.sharedRedispatched.increment();
                router.redirectShared(d);
            }
        }
    }

    /** A message another node sent this one for a shared group (its inbound link's loop). */
    void received(String from, long id, String group, Message m) {
        router.deliverSharedForwarded(group, m, id == 0 ? null : () -> cluster.send(from,
                LinkFrame.seqFrame(ByteBufAllocator.DEFAULT, LinkFrame.SHARED_ACK, id)));
    }
}
