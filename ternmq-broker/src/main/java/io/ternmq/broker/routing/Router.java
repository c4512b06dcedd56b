package io.ternmq.broker.routing;

import io.ternmq.broker.message.Subscription;
import io.netty.util.concurrent.EventExecutor;
import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.retain.RetainedReplication;
import io.ternmq.broker.retain.RetainedStore;
import io.ternmq.broker.store.PublishTransaction;
import io.ternmq.broker.store.QueueLimits;
import io.ternmq.broker.store.Store;
import io.ternmq.broker.store.StoredQueue;
import io.ternmq.codec.QoS;
import io.ternmq.codec.TopicSyntax;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * Takes a published message to every target whose subscriptions match it, once per target at the highest matching
 * QoS (capped by the message's QoS), and to one member of every matching shared subscription group; keeps the
 * retained store current. Runs on the publisher's event loop.
 *
 * <p>Deliveries that need no store go straight to the target. QoS 1/2 deliveries to targets with a stored queue,
 * retained changes, held shared-group messages and the publisher's inbound QoS 2 state are written in one
 * {@link PublishTransaction}: the message once, an entry per queue. Only when it is durable are the entries handed to
 * their targets (in the store's order, which numbers them) and is the publisher told, so that its PUBACK/PUBREC never
 * promises what a crash could lose.
 */
public final class Router {
    /** What reaches adopted sessions, for chaos runs ({@code -Dternmq.orphans.log=DEBUG}). */
    private static final org.slf4j.Logger TRACE =
            org.slf4j.LoggerFactory.getLogger("io.ternmq.broker.session.AdoptedTrace");
    /**
     * What a QoS 1/2 copy for another node is confirmed to (its {@code held}, {@link DeliveryTarget#deliver(Delivery,
     * Runnable)}) knows of the publish: which other targets (nodes, this node's subscribers) it went to. A node that
     * dies before confirming its copy leaves it to the members adopting its sessions, who must know whether the
     * message reached them anyway.
     */
    public interface NodeCopies {
        boolean wentTo(DeliveryTarget target);

        /** The publisher's packet id of a QoS 2 message (0 for none), which the nodes remember it by. */
        int publisherPacketId();

        /** For a resend after its publisher's node died ({@link #publishResent}), that node; else null. */
        String resentFrom();
    }

    /** What the publisher's side learns once its message is routed and stored; runs on the publisher's loop. */
    @FunctionalInterface
    public interface PublishCallback {
        /**
         * @param matched       targets and shared groups the message went to
         * @param quotaExceeded true if it matched but every stored target refused it for its queue limits
         */
        void routed(int matched, boolean quotaExceeded);
    }

    /**
     * Where a PUBLISH came from: the publisher's stored queue (null if it has none; its inbound QoS 2 id is stored
     * there), the packet id (QoS 2) and the publisher's event loop.
     */
    public record Origin(StoredQueue publisher, int qos2PacketId, EventExecutor loop) {
    }

    private final SubscriptionTable subscriptions;
    private final RetainedStore retained;
    private final Store store;
    private final QueueLimits limits;
    private final long retainedMaxCount;
    private final long retainedMaxBytes;
    private final BrokerMetrics metrics;
    /** In a cluster, this node's routes as the other nodes learn them; null on a single node. */
    private final LocalRoutes routes;
    /**
     * QoS 2 publishes whose copies for other nodes (live or dead) or for adopted sessions wait for their packet id to
     * be durable ({@link #deliver}) and have not gone yet: while any has not, a later copy for an adopted session
     * waits as well, or it would overtake them. A copy for a node that dies before it leaves becomes an orphan then,
     * given to the sessions adopted here from that node: a chaos run saw pub-q2:29112 stored in an adopted session's
     * queue ahead of 29067-29111, routed to its node while it lived and orphaned 5 s later, when their packet ids
     * were replicated. Only adopted sessions ever wait for it.
     */
    private final AtomicInteger awaitingPacketIds = new AtomicInteger();
    /** In a cluster, where clients' retained changes go instead of this node's index; null on a single node. */
    private volatile RetainedReplication replication;
    /** In a cluster, what tells a resent QoS 2 message's targets apart; null on a single node. */
    private volatile ResentPublishes resends;
    /** The retained messages (and their payload bytes) of {@link #publishLocal}, which the retained bounds leave out. */
    private final AtomicLong nodeRetainedCount = new AtomicLong();
    private final AtomicLong nodeRetainedBytes = new AtomicLong();
    private final SharedDeliveries shared;

    public Router(SubscriptionTable subscriptions, RetainedStore retained, Store store, QueueLimits limits,
                  long retainedMaxCount, long retainedMaxBytes, BrokerMetrics metrics) {
        this(subscriptions, retained, store, limits, retainedMaxCount, retainedMaxBytes, metrics, null);
    }

    /** @param routes in a cluster, this node's routes, told of every local subscription added or ended; else null */
    public Router(SubscriptionTable subscriptions, RetainedStore retained, Store store, QueueLimits limits,
                  long retainedMaxCount, long retainedMaxBytes, BrokerMetrics metrics, LocalRoutes routes) {
        this.routes = routes;
        this.subscriptions = subscriptions;
        this.retained = retained;
        this.store = store;
        this.limits = limits;
        this.retainedMaxCount = retainedMaxCount;
        this.retainedMaxBytes = retainedMaxBytes;
        this.metrics = metrics;
        this.shared = new SharedDeliveries(subscriptions, store, metrics);
    }

    public RetainedStore retained() {
        return retained;
    }

    public SubscriptionTable subscriptions() {
        return subscriptions;
    }

    /** In a cluster, this node's routes; null on a single node. */
    public LocalRoutes routes() {
        return routes;
    }

    /**
     * Routes a message; with RETAIN set it also replaces (or, with an empty payload, clears) the retained one.
     * {@code callback} (may be null) runs on {@code origin.loop()} when everything that must be stored is.
     *
     * @return a target that falls behind while its client keeps consuming (its queue filling, counting what still
     *         waits to be written, or its socket backed up), or null: the publisher should wait for it rather than
     *         have the broker drop what it already acknowledged
     */
    public DeliveryTarget publish(Message message, Origin origin, PublishCallback callback) {
        return route(message, origin, callback, Scope.EVERYWHERE, Provenance.NONE);
    }

    /**
     * Routes a message about this node itself ({@code $SYS}) to its own subscribers, never to other nodes; a
     * retained one is kept in memory only (it is published again after a restart, not recovered).
     */
    public void publishLocal(Message message) {
        route(message, null, null, Scope.THIS_NODE, Provenance.NONE);
    }

    /** Where a message goes, and whether its retained copy is kept and stored. */
    private enum Scope {
        /** A client's message: every node, retained kept and (with a persistent store) stored. */
        EVERYWHERE,
        /** Forwarded by another node: this node's subscribers only, retained left alone. */
        FORWARDED,
        /** About this node ($SYS): its subscribers only, retained kept in memory. */
        THIS_NODE,
        /** A QoS 2 resend after its node died ({@link #publishResent}): every node, retained and groups left alone. */
        RESENT
    }

    /**
     * Routes a message another node forwarded (its publisher is connected there) to this node's own subscribers
     * only: it is never forwarded again, and the retained index is left as it is (retained changes travel on their
     * own, {@link RetainedReplication}). Returns a subscriber that is falling behind, or null: the link it came on
     * then pauses, as a local publisher would be held back.
     */
    public DeliveryTarget publishForwarded(Message message) {
        return route(message, null, null, Scope.FORWARDED, Provenance.NONE);
    }

    /** Like {@link #publishForwarded(Message)}, to the subscribers {@code only} lets through. */
    public DeliveryTarget publishForwarded(Message message, Predicate<DeliveryTarget> only) {
        return route(message, null, null, Scope.FORWARDED, new Provenance(0, 0, 0, null, only));
    }

    /**
     * Routes a QoS 1/2 message another node forwarded as {@code id} of its stream {@code stream} and waits to hear
     * that it is here for good: {@code stored} runs on {@code loop} once every copy this node must store is (and, in
     * a cluster, is replicated), each queue entry marked with the stream and id in its session's replica.
     */
    public DeliveryTarget publishForwarded(Message message, long stream, long id, EventExecutor loop,
                                           PublishCallback stored) {
        return route(message, new Origin(null, 0, loop), stored, Scope.FORWARDED,
                new Provenance(stream, id, 0, null, null));
    }

    /**
     * Like {@link #publishForwarded(Message, long, long, EventExecutor, PublishCallback)}, for a QoS 2 message its
     * publisher sent again after its node died ({@link #publishResent}): only to the subscribers {@code only} lets
     * through (those that lack it).
     */
    public DeliveryTarget publishForwarded(Message message, long stream, long id, EventExecutor loop,
                                           PublishCallback stored, Predicate<DeliveryTarget> only) {
        return route(message, new Origin(null, 0, loop), stored, Scope.FORWARDED,
                new Provenance(stream, id, 0, null, only));
    }

    /**
     * A QoS 2 PUBLISH its publisher sent again (its packet id still awaiting PUBREL) after the node it was published
     * on died, that node having routed it (its packet id was durable) but perhaps not yet sent it to every other node:
     * routed again, to the targets that lack it ({@link ResentPublishes}, the cluster's), the other nodes told which
     * message it is ({@code packetId}, its creation time, {@code deadNode}) so that theirs too are given it only if
     * they lack it. {@code callback} runs once every copy is held.
     */
    public DeliveryTarget publishResent(Message message, int packetId, String deadNode, Origin origin,
                                        PublishCallback callback) {
        ResentPublishes r = resends;
        if (r == null) {
            callback.routed(0, false);
            return null;
        }
        return route(message, origin, callback, Scope.RESENT,
                new Provenance(0, 0, packetId, deadNode, r.lacking(message, packetId, deadNode)));
    }

    /** In a cluster, which targets a QoS 2 message resent after its node's death still lacks. */
    public interface ResentPublishes {
        Predicate<DeliveryTarget> lacking(Message message, int packetId, String deadNode);
    }

    /** In a cluster, what tells resent QoS 2 messages' targets apart; set once, before the listeners open. */
    public void resendsWith(ResentPublishes resends) {
        this.resends = resends;
    }

    /**
     * What a routing knows beyond the message: for a QoS 1/2 copy another node forwarded, that node's stream and id
     * (its entries are marked with them); for a resend after a node's death, the publisher's packet id and the dead
     * node; and which targets only it goes to (null: all).
     */
    private record Provenance(long forwardStream, long forwardId, int packetId, String resentFrom,
                              Predicate<DeliveryTarget> only) {
        static final Provenance NONE = new Provenance(0, 0, 0, null, null);
    }

    /**
     * One delivery to one target, made outside routing (a QoS 1/2 message that reached a session another way):
     * through the store for a target with a stored queue, as routing does; any thread.
     */
    public void deliverStored(DeliveryTarget target, Delivery delivery) {
        StoredQueue queue = target.storedQueue();
        if (delivery.qos() != QoS.AT_MOST_ONCE && queue != null) {
            PublishTransaction tx = new PublishTransaction(delivery.message(), limits);
            tx.deliver(queue, delivery);
            store.submit(tx);
        } else {
            target.deliver(delivery);
        }
    }

    /**
     * Runs {@code then} on {@code loop} once every write submitted to the store before this call is durable (and, in
     * a cluster, replicated): the store completes its writes in order, and what waited for an earlier one (a QoS 2
     * copy for another node waits for its packet id) has been sent.
     */
    public void afterEarlierWrites(EventExecutor loop, Runnable then) {
        afterEarlierWrites(BARRIER, loop, then);
    }

    /** What a barrier with no message of its own carries (nothing of it is written). */
    private static final Message BARRIER = new Message("", QoS.AT_MOST_ONCE, false, new byte[0],
            io.ternmq.codec.MqttProperties.EMPTY, "", 0);

    /** Like {@link #afterEarlierWrites(EventExecutor, Runnable)}, {@code message} being any message. */
    public void afterEarlierWrites(Message message, EventExecutor loop, Runnable then) {
        PublishTransaction nothing = new PublishTransaction(message, limits);
        nothing.whenStored(refused -> loop.execute(then));
        store.submit(nothing);
    }

    private DeliveryTarget route(Message message, Origin origin, PublishCallback publisherCallback, Scope scope,
                                 Provenance prov) {
        PublishCallback callback = publisherCallback;
        RetainedReplication replicating = null;
        boolean retainChanged = false;
        if (message.retain()) {
            switch (scope) {
                case EVERYWHERE -> {
                    RetainedReplication r = replication;
                    if (r == null) {
                        retainChanged = updateRetained(message);
                    } else if (retainAllowed(message)) {
                        replicating = r; // the cluster applies it everywhere, this node's index and store included
                    }
                }
                case FORWARDED, RESENT -> { }
                case THIS_NODE -> retainChanged = updateNodeRetained(message);
            }
        }
        PublishCompletion completion = null;
        if (replicating != null) {
            completion = new PublishCompletion(callback, origin == null ? null : origin.loop());
            completion.expect();
            callback = completion;
            replicating.replicate(message, completion);
        }
        return deliver(message, origin, callback, completion, scope, retainChanged, prov);
    }

    /**
     * @param completion the publisher's callback wrapped to wait for other parts too, or null (made here if another
     *                   node must confirm a copy)
     */
    private DeliveryTarget deliver(Message message, Origin origin, PublishCallback callback,
                                   PublishCompletion completion, Scope scope, boolean retainChanged,
                                   Provenance prov) {
        DeliveryTarget congested = null;
        // a forwarded message skips shared groups: the publishing node picked one member per group, and sent it to
        // that member's node apart ({@link #deliverSharedForwarded})
        MatchedTargets targets = new MatchedTargets(message.publisherId(),
                scope != Scope.EVERYWHERE && scope != Scope.RESENT, scope == Scope.EVERYWHERE || scope == Scope.THIS_NODE,
                prov.only());
        subscriptions.match(message.topic(), targets);
        PublishTransaction tx = null;
        boolean storeInbound = origin != null && origin.qos2PacketId() != 0 && origin.publisher() != null;
        // a QoS 2 PUBLISH goes to other nodes once its packet id is durable here: were this node to die before, its
        // publisher would send it again to another node, which would not know it had been routed
        List<Runnable> afterInbound = null;
        // copies for a departed node go last: an adopter meets them after the copy its own node got, if any
        List<Runnable> departed = null;
        // a QoS 2 copy for a dead node whose routes are kept: it reaches the sessions adopted here as an orphan once
        // the packet id is durable, so this message's copies for adopted sessions wait as long (see below)
        boolean orphaning = false;
        boolean awaiting = false;
        for (int i = 0; i < targets.size; i++) {
            // every node a QoS 1/2 copy goes to, known before any is sent (see NodeCopies)
            if (targets.targets[i].isNode() && message.qos() != QoS.AT_MOST_ONCE
                    && targets.qos[i] != QoS.AT_MOST_ONCE) {
                if (completion == null) {
                    completion = new PublishCompletion(callback, origin == null ? null : origin.loop());
                    callback = completion;
                }
                completion.provenance(storeInbound ? origin.qos2PacketId() : prov.packetId(), prov.resentFrom());
                orphaning |= storeInbound && targets.targets[i].isDeparted();
            }
        }
        if (completion != null) {
            completion.reached(Arrays.copyOf(targets.targets, targets.size));
        }
        for (int i = 0; i < targets.size; i++) {
            // [MQTT-3.3.1-9] RETAIN is 0 on delivery to established subscriptions unless retain-as-published
            boolean retainFlag = message.retain() && targets.retainAsPublished[i];
            QoS qos = QoS.min(message.qos(), targets.qos[i]);
            DeliveryTarget target = targets.targets[i];
            if (congested == null && target.wantsBackpressure()) {
                congested = target;
            }
            Delivery d = new Delivery(message, qos, retainFlag, targets.subscriptionIds(i));
            StoredQueue queue = target.storedQueue();
            if (qos != QoS.AT_MOST_ONCE && queue != null && target.holdsDeliveries()) {
                // a session just moved here: stored once its old node carried it everything (publisher waits)
                if (completion == null) {
                    completion = new PublishCompletion(callback, origin == null ? null : origin.loop());
                    completion.reached(Arrays.copyOf(targets.targets, targets.size));
                    callback = completion;
                }
                completion.expect();
                if (!target.hold(d, completion)) {
                    completion.run(); // the hold just ended: stored with the rest
                    tx = tx == null ? new PublishTransaction(message, limits) : tx;
                    tx.deliver(queue, d);
                }
            } else if (qos != QoS.AT_MOST_ONCE && queue != null && storeInbound && target.isAdopted()
                    && (orphaning || awaitingPacketIds.get() > 0)) {
                // this publisher's earlier messages, published before the session was routed here, may still be on
                // their way to it as orphans (given after their packet id is durable): this one follows them
                if (completion == null) {
                    completion = new PublishCompletion(callback, origin.loop());
                    completion.reached(Arrays.copyOf(targets.targets, targets.size));
                    callback = completion;
                }
                completion.expect(); // the publisher waits for it
                PublishCompletion held = completion;
                awaiting = true;
                afterInbound = afterInbound == null ? new ArrayList<>(2) : afterInbound;
                afterInbound.add(() -> {
                    if (TRACE.isDebugEnabled()) {
                        TRACE.debug("adopted {}: routed {} after its packet id", target.clientId(), message.topic()
                                + " " + new String(message.payload(), 0, Math.min(40, message.payload().length),
                                java.nio.charset.StandardCharsets.ISO_8859_1));
                    }
                    PublishTransaction alone = new PublishTransaction(message, limits);
                    alone.deliver(queue, d);
                    alone.whenStored(refused -> held.run());
                    store.submit(alone);
                });
            } else if (qos != QoS.AT_MOST_ONCE && queue != null) {
                if (TRACE.isDebugEnabled() && target.isAdopted()) {
                    TRACE.debug("adopted {}: routed {} with the publish ({}, storeInbound {}, orphaning {}, awaiting {})",
                            target.clientId(), message.topic() + " " + new String(message.payload(), 0,
                                    Math.min(40, message.payload().length), java.nio.charset.StandardCharsets.ISO_8859_1),
                            scope, storeInbound, orphaning, awaitingPacketIds.get());
                }
                tx = tx == null ? new PublishTransaction(message, limits) : tx;
                tx.deliver(queue, d);
            } else if (qos != QoS.AT_MOST_ONCE && target.isNode()) {
                // acknowledged to the publisher only once that node holds it for good (docs/cluster.md)
                completion.expect();
                if (target.isDeparted()) {
                    departed = departed == null ? new ArrayList<>(1) : departed;
                    PublishCompletion held = completion;
                    departed.add(() -> target.deliver(d, held));
                } else if (storeInbound) {
                    PublishCompletion held = completion;
                    afterInbound = afterInbound == null ? new ArrayList<>(2) : afterInbound;
                    afterInbound.add(() -> target.deliver(d, held));
                    awaiting = true; // that node may die before the copy leaves: an orphan for adopted sessions then
                } else {
                    target.deliver(d, completion);
                }
            } else {
                target.deliver(d);
            }
        }
        if (departed != null) {
            if (storeInbound) {
                afterInbound = afterInbound == null ? new ArrayList<>(departed.size()) : afterInbound;
                afterInbound.addAll(departed);
                awaiting = true;
            } else {
                departed.forEach(Runnable::run);
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
                    } else if (store.survivesRestart()) {
                        tx = tx == null ? new PublishTransaction(message, limits) : tx;
                        tx.hold(shared.heldFor(group, message.publisherId()));
                    } else {
                        shared.holdInMemory(group, message);
                    }
                    continue;
                }
                Delivery d = shared.delivery(group, member, message);
                DeliveryTarget target = member.target();
                if (congested == null && target.wantsBackpressure()) {
                    congested = target;
                }
                StoredQueue queue = target.storedQueue();
                if (d.qos() != QoS.AT_MOST_ONCE && queue != null) {
                    tx = tx == null ? new PublishTransaction(message, limits) : tx;
                    tx.deliver(queue, d);
                } else {
                    target.deliver(d);
                }
            }
        }
        boolean storeRetained = retainChanged && scope == Scope.EVERYWHERE && store.survivesRestart();
        if (tx == null && !storeRetained && !storeInbound) {
            if (callback != null) {
                callback.routed(matched, false);
            }
            return congested;
        }
        if (tx == null) {
            tx = new PublishTransaction(message, limits);
        }
        if (prov.forwardId() != 0) {
            tx.forwardedAs(prov.forwardStream(), prov.forwardId());
        }
        if (storeRetained) {
            tx.retain();
        }
        if (storeInbound) {
            tx.inboundQos2(origin.publisher(), origin.qos2PacketId());
        }
        if (callback != null || afterInbound != null) {
            int total = matched;
            EventExecutor loop = origin == null ? null : origin.loop();
            PublishCallback then = callback;
            List<Runnable> toNodes = afterInbound;
            boolean counted = awaiting;
            if (counted) {
                awaitingPacketIds.incrementAndGet();
            }
            tx.whenStored(refused -> {
                if (toNodes != null) {
                    toNodes.forEach(Runnable::run);
                }
                if (counted) {
                    awaitingPacketIds.decrementAndGet(); // what it gave adopted sessions is submitted: in order
                }
                if (then == null) {
                    return;
                }
                boolean quotaExceeded = refused > 0 && refused == total;
                if (loop == null) {
                    then.routed(total, quotaExceeded);
                } else {
                    loop.execute(() -> then.routed(total, quotaExceeded));
                }
            });
        }
        store.submit(tx);
        return congested;
    }

    /**
     * A retained message about this node ($SYS): kept without the clients' bounds, and left out of what they count.
     * Only ever called from one thread (the $SYS tree's), so the counts need no more than visibility.
     */
    private boolean updateNodeRetained(Message message) {
        Message old = retained.get(message.topic());
        retained.put(message);
        nodeRetainedCount.addAndGet((old == null ? 1 : 0) - (message.payload().length == 0 ? 1 : 0));
        nodeRetainedBytes.addAndGet(message.payload().length - (old == null ? 0 : old.payload().length));
        return true;
    }

    /** Updates the in-memory retained index now (so that new subscribers see it at once); @return if it changed */
    private boolean updateRetained(Message message) {
        if (!retainAllowed(message)) {
            return false;
        }
        if (message.payload().length == 0 && retained.get(message.topic()) == null) {
            return false;
        }
        retained.put(message);
        return true;
    }

    /**
     * Whether the retained bounds let this message be retained: a new topic must fit {@code retained_max_count} and
     * {@code retained_max_bytes}; replacing or clearing always works. In a cluster the index holds every node's
     * retained messages, so the bounds are the cluster's.
     */
    private boolean retainAllowed(Message message) {
        // retained_max_count and retained_max_bytes bound the clients' retained messages, not the broker's own
        if (message.payload().length != 0 && retained.get(message.topic()) == null
                && ((retainedMaxCount >= 0 && retained.size() - nodeRetainedCount.get() >= retainedMaxCount)
                || (retainedMaxBytes >= 0 && retained.bytes() - nodeRetainedBytes.get() + message.payload().length
                > retainedMaxBytes))) {
            metrics.retainedRefused.increment();
            return false;
        }
        return true;
    }

    /**
     * In a cluster, writes a retained change this node applied (its own clients' or another node's) to its store,
     * so that a restart of the whole cluster finds it.
     */
    public void storeRetained(Message message) {
        if (store.survivesRestart()) {
            PublishTransaction tx = new PublishTransaction(message, limits);
            tx.retain();
            store.submit(tx);
        }
    }

    /** In a cluster, how clients' retained changes reach every node; set once, before the listeners open. */
    public void replicateRetainedWith(RetainedReplication replication) {
        this.replication = replication;
    }

    // ------------------------------------------------------------------ subscriptions

    /** Adds a target's subscription to routing (a session's own map is updated by the caller). */
    public boolean subscribe(DeliveryTarget target, Subscription subscription) {
        boolean added = subscriptions.subscribe(target, subscription);
        if (added && routes != null && !target.isNode()) {
            routes.subscribed(subscription.filter());
        }
        if (TopicSyntax.isSharedSubscription(subscription.filter())) {
            shared.drainHeld(subscriptions.sharedGroup(subscription.filter()), target);
        }
        return added;
    }

    public boolean unsubscribe(DeliveryTarget target, String filter) {
        boolean removed = subscriptions.unsubscribe(target, filter);
        if (removed && routes != null && !target.isNode()) {
            routes.unsubscribed(filter);
        }
        return removed;
    }

    /**
     * Sends the retained messages matching a new subscription to its target, with RETAIN set [MQTT-3.3.1-6]: QoS
     * 1/2 ones through the store for a target with a stored queue, like any other delivery. Runs on the target's
     * loop.
     */
    public void sendRetained(DeliveryTarget target, Subscription sub) {
        int[] ids = sub.subscriptionId() == 0 ? MatchedTargets.NO_IDS : new int[] {sub.subscriptionId()};
        long now = System.currentTimeMillis();
        StoredQueue queue = target.storedQueue();
        retained.match(sub.filter(), m -> {
            if (m.isExpired(now)) {
                return; // an expired retained message is not delivered [MQTT-3.3.2-5]
            }
            Delivery d = new Delivery(m, QoS.min(m.qos(), sub.qos()), true, ids);
            if (d.qos() != QoS.AT_MOST_ONCE && queue != null) {
                PublishTransaction tx = new PublishTransaction(m, limits);
                tx.deliver(queue, d);
                store.submit(tx);
            } else {
                target.deliver(d);
            }
        });
    }

    /**
     * A target came online: it takes what its shared groups held while no member was online. Runs on its loop.
     *
     * @param subscriptions its subscriptions
     */
    public void targetOnline(DeliveryTarget target, Collection<Subscription> subscriptions) {
        for (Subscription s : subscriptions) {
            if (TopicSyntax.isSharedSubscription(s.filter())) {
                shared.drainHeld(this.subscriptions.sharedGroup(s.filter()), target);
            }
        }
    }

    /**
     * A target's session ended: its subscriptions leave routing, and what it held through shared subscriptions
     * (queued messages, QoS 1 in flight) goes to other members. Runs on its loop.
     */
    public void targetEnded(DeliveryTarget target, Collection<Subscription> subscriptions,
                            List<Delivery> sharedLeftovers) {
        for (Subscription s : subscriptions) {
            unsubscribe(target, s.filter());
        }
        for (Delivery d : sharedLeftovers) {
            shared.redirect(d);
        }
    }

    /**
     * A shared-subscription delivery reached a target that had already ended: another member gets it (this node
     * answers for it from here on: whoever waits for it to be settled is told).
     */
    public void redirectShared(Delivery delivery) {
        shared.redirect(delivery);
    }

    /**
     * A message another node forwarded to this one for a shared group, after picking this node among the group's
     * nodes: to one online member here, or held here until one comes back. {@code settled} (null for QoS 0) runs
     * once the member has taken it, or once it is held. Runs on the data link's loop.
     */
    public void deliverSharedForwarded(String groupKey, Message message, Runnable settled) {
        shared.deliverForwarded(groupKey, message, settled);
    }
}
