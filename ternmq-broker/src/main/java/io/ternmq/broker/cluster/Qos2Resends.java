package io.ternmq.broker.cluster;

import io.ternmq.broker.message.Message;
import io.ternmq.broker.routing.DeliveryTarget;
import io.ternmq.broker.routing.Router;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Exactly once across a publisher's node dying: which QoS 2 messages this node received from other nodes, by
 * publisher client id and packet id (the message's creation time, which its publisher's node recorded with the packet
 * id in the session's replica), and, for a resend after that node died, which targets lack it.
 *
 * <p>A QoS 2 message goes to other nodes once its packet id is durable where it was published. If that node dies
 * after that but before every copy left it, the publisher sends it again to the node that adopted its session, which
 * finds the id already there: the message was routed, but some nodes may lack it. That node routes it again
 * ({@link Router#publishResent}) to every node but the dead one, naming the message: a node that received it before
 * confirms it and routes nothing; one that did not gives it to its subscribers, except the sessions it adopted from
 * the dead node whose replicas held it ({@link OrphanedForwards#hadFromReplica}) and those given it as an orphan
 * ({@link OrphanedForwards#gaveAsOrphan}).
 *
 * <p>One entry per publisher and packet id, replaced when the id comes again: a publisher reuses an id only after
 * its PUBCOMP, so the entry is the latest message of that id. Entries stay while the node runs; a publisher has at
 * most 65,535.
 */
final class Qos2Resends implements Router.ResentPublishes {
    /** Publisher client id to packet id to the creation time of the last QoS 2 message of that id received. */
    private final Map<String, Map<Integer, Long>> received = new ConcurrentHashMap<>();
    private final OrphanedForwards orphans;

    Qos2Resends(OrphanedForwards orphans) {
        this.orphans = orphans;
    }

    /** A QoS 2 message with its publisher's packet id arrived from another node. @return whether it had before */
    boolean received(Message m, int packetId) {
        Long before = received.computeIfAbsent(m.publisherId(), k -> new ConcurrentHashMap<>())
                .put(packetId, m.createdAtMillis());
        return before != null && before == m.createdAtMillis();
    }

    private boolean has(Message m, int packetId) {
        Map<Integer, Long> ids = received.get(m.publisherId());
        Long created = ids == null ? null : ids.get(packetId);
        return created != null && created == m.createdAtMillis();
    }

    /**
     * On the node that adopted the publisher's session: the dead node's routes are skipped (its sessions' copies have
     * it), and this node's own subscribers lack it unless the dead node had sent it here, the sessions adopted from
     * the dead node that have it aside.
     */
    @Override
    public Predicate<DeliveryTarget> lacking(Message message, int packetId, String deadNode) {
        boolean here = has(message, packetId);
        // a session adopted from the dead node itself was not here when the message came: its replica decides
        return t -> t.isNode() ? !(t instanceof RemoteNode r && r.isGone())
                : (!here || OrphanedForwards.adoptedFrom(deadNode, t)) && !orphans.hadFromReplica(deadNode, t, message)
                && !orphans.gaveAsOrphan(t, message);
    }
}
