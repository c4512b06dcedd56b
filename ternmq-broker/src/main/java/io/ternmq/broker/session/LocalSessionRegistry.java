package io.ternmq.broker.session;

import io.ternmq.broker.message.Subscription;
import io.netty.util.concurrent.EventExecutor;
import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.routing.Router;
import io.ternmq.broker.store.QueueLimits;
import io.ternmq.broker.store.Recovered;
import io.ternmq.broker.store.SessionRecord;
import io.ternmq.broker.store.PublishTransaction;
import io.ternmq.broker.store.QueueAppend;
import io.ternmq.broker.store.SessionImport;
import io.ternmq.broker.store.Store;
import io.ternmq.broker.store.StoredEntry;
import io.ternmq.broker.store.StoredQueue;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Sessions of this process. The map's per-key atomic {@code compute} orders concurrent CONNECTs of one client id, and
 * the work each CONNECT implies (close the old connection, move ownership, attach) is queued to the session's inbox
 * inside that same compute, so the inbox sees takeovers in the order the map decided them.
 */
public final class LocalSessionRegistry implements SessionRegistry, SessionHost {
    private static final Logger LOG = LoggerFactory.getLogger(LocalSessionRegistry.class);

    private final ConcurrentHashMap<String, Session> sessions = new ConcurrentHashMap<>();
    private final QueueLimits limits;
    private final BrokerMetrics metrics;
    private final Router router;
    private final Consumer<Message> willPublisher;
    private final Store store;
    private Consumer<Session> endListener = s -> { };

    /**
     * @param router        told when a session ends, to drop its subscriptions and hand on its shared deliveries
     * @param willPublisher routes will messages
     * @param store         where sessions that outlive their connection are kept
     */
    /** Volatile: a loop started during recovery may run an expiry with no other hand-over from the setter. */
    private volatile Consumer<String> expired;

    public LocalSessionRegistry(QueueLimits limits, BrokerMetrics metrics, Router router,
                                Consumer<Message> willPublisher, Store store) {
        this.store = store;
        this.limits = limits;
        this.metrics = metrics;
        this.router = router;
        this.willPublisher = willPublisher;
    }

    /** Client ids of the broker's own sessions (bridges), with their queue bounds; fixed before listeners open. */
    private final java.util.Map<String, QueueLimits> reserved = new ConcurrentHashMap<>();

    /** Reserves a client id for a session of the broker's own (a bridge's), with bounds of its own. */
    public void reserve(String clientId, QueueLimits ownLimits) {
        reserved.put(clientId, ownLimits);
    }

    /** Whether no client may connect with this id: it is a bridge's. */
    public boolean isReserved(String clientId) {
        return reserved.containsKey(clientId);
    }

    private QueueLimits limits(String clientId) {
        return reserved.isEmpty() ? limits : reserved.getOrDefault(clientId, limits);
    }

    @Override
    public void connect(SessionRequest request, EventExecutor connectionLoop, SessionConnection connection) {
        connect(request, connectionLoop, connection, 0);
    }

    /**
     * As {@link #connect(SessionRequest, EventExecutor, SessionConnection)}, for the cluster's claim
     * {@code fence} (0: none): a session that honoured a later claim already refuses this connection.
     */
    public void connect(SessionRequest request, EventExecutor connectionLoop, SessionConnection connection,
                        long fence) {
        String clientId = request.clientId();
        boolean cleanStart = request.cleanStart();
        long expiryInterval = request.expiryInterval();
        // Tasks are post()ed, never run inline, because they may close channels and end sessions, which must not
        // happen inside the map's compute.
        sessions.compute(clientId, (id, existing) -> {
            if (existing != null && !cleanStart) {
                boolean[] fenced = new boolean[1];
                existing.post(() -> {
                    if (fence != 0 && !existing.isEnded() && !existing.raiseFence(fence)) {
                        fenced[0] = true;
                        return;
                    }
                    existing.held(fence);
                    existing.detachForTakeover();
                    existing.moveTo(connectionLoop);
                });
                existing.post(() -> {
                    if (fenced[0]) {
                        connectionLoop.execute(() -> connection.refuseSession(
                                "a later CONNECT of this client id elsewhere in the cluster took the session"));
                    } else if (existing.isEnded()) {
                        // it ended between this compute and now; end() has unregistered it, so start afresh
                        connect(request, connectionLoop, connection);
                    } else {
                        existing.attach(connection, true, expiryInterval, request.protocolLevel(), request.will(),
                                request.willDelaySeconds());
                    }
                });
                return existing;
            }
            if (existing != null) {
                existing.post(() -> {
                    existing.detachForTakeover();
                    finish(existing);
                });
            }
            Session fresh = new Session(id, expiryInterval, connectionLoop, limits(id), metrics, this, store);
            fresh.raiseFence(fence);
            fresh.held(fence);
            fresh.post(() -> fresh.attach(connection, false, expiryInterval, request.protocolLevel(),
                    request.will(), request.willDelaySeconds()));
            return fresh;
        });
    }

    @Override
    public void end(Session session) {
        sessions.remove(session.clientId(), session);
        finish(session);
    }

    private void finish(Session session) {
        if (session.isEnded()) {
            return;
        }
        List<Delivery> leftovers = session.takeSharedDeliveries();
        Message will = session.end();
        router.targetEnded(session, session.subscriptions(), leftovers);
        if (will != null) {
            willPublisher.accept(will);
        }
        endListener.accept(session);
    }

    /** Told of every session that ends (the cluster's directory forgets it). Set before clients connect. */
    public void onSessionEnded(Consumer<Session> listener) {
        this.endListener = listener;
    }

    // ------------------------------------------------------------------ handover between nodes (cluster)

    /**
     * Another node claimed this client's session (generation {@code fence}) for a new connection there: the
     * connection here is closed (0x8E) and, unless {@code cleanStart} or the session ends with its connection, the
     * session is handed over: {@code to} gets its state. {@code nothing} runs (on some loop) when there is nothing
     * to hand over (no session, or it ended now); {@code stale} when a later claim was honoured already.
     */
    public void handOver(String clientId, long fence, boolean cleanStart, SessionHandover to, Runnable nothing,
                         Runnable stale) {
        Session s = sessions.get(clientId);
        if (s == null) {
            nothing.run();
            return;
        }
        s.submit(() -> {
            if (s.isEnded()) {
                nothing.run();
            } else if (!s.raiseFence(fence)) {
                stale.run();
            } else if (cleanStart || s.storedQueue() == null) {
                s.detachForTakeover();
                end(s);
                nothing.run();
            } else {
                metrics.sessionsHandedOver.increment();
                s.handOver(to);
            }
        });
    }

    /**
     * The node that claimed {@code fence} has the session durably: this node's routes for it go, and once every
     * other node has applied that ({@code routesGone} runs its argument then), the session and its store go too;
     * until then whatever still arrives is carried to that node. Then {@code handingOn} is given the session (its
     * loop, before its store's barrier) and what it returns runs once everything routed to it before was carried.
     */
    public void handedOver(String clientId, long fence, Consumer<Runnable> routesGone,
                           java.util.function.Function<Session, Runnable> handingOn) {
        Session s = sessions.get(clientId);
        if (s == null) {
            return;
        }
        s.submit(() -> {
            // also when this node stopped the move meanwhile (a carried frame could not be sent): the other node
            // committed this claim, so the directory says it holds the session, and a copy here would be a stray
            if (s.isEnded() || s.fence() != fence) {
                return;
            }
            for (Subscription sub : List.copyOf(s.subscriptions())) {
                router.unsubscribe(s, sub.filter());
            }
            routesGone.accept(() -> s.submit(() -> {
                if (s.isEnded() || s.fence() != fence) {
                    return;
                }
                // a will waiting for its delay (an adopted or restored session's) is not published: the session
                // goes on elsewhere [MQTT-3.1.3-9]
                s.discardWill();
                // before the barrier: what is given to the session until now is stored before it, and so carried
                Runnable carriedAll = handingOn.apply(s);
                // ended once what was routed here before is stored, and so carried: ending first would drop it
                s.storedQueue().barrier(() -> {
                    if (!s.isEnded()) {
                        carriedAll.run(); // after the last carried entry (this loop), on the same link
                        s.handoverCompleted();
                        end(s);
                    }
                });
            }));
        });
    }

    /**
     * The node that claimed {@code fence} gave the handover up (or refused what it got): the session stays here and
     * resumes, unless a later claim took it meanwhile.
     */
    public void handoverAborted(String clientId, long fence) {
        Session s = sessions.get(clientId);
        if (s == null) {
            return;
        }
        s.submit(() -> {
            if (!s.isEnded() && s.handingOverFor(fence)) {
                s.handoverAborted();
            }
        });
    }

    /**
     * A session another node handed over: made here on {@code owner} (offline) and stored with its queue; once
     * durable, its subscriptions enter routing and {@code ready} runs on {@code owner}. A session of this client
     * already here (left from before the other node had it) is discarded first.
     */
    public Session importSession(String clientId, long fence, SessionSnapshot snapshot, List<StoredEntry> entries,
                                 EventExecutor owner, Runnable ready) {
        Session s = new Session(clientId, snapshot.expiryInterval(), owner, limits(clientId), metrics, this, store);
        s.raiseFence(fence);
        s.held(fence);
        long firstSeq = entries.isEmpty() ? 1 : entries.get(0).entry().seq();
        long nextSeq = entries.isEmpty() ? 1 : entries.get(entries.size() - 1).entry().seq() + 1;
        long bytes = 0;
        for (StoredEntry e : entries) {
            bytes += e.entry().payloadBytes();
        }
        StoredQueue q = s.storedQueue();
        // counted before the import is submitted, so that entries carried after it count on top
        q.recovered(entries.size(), bytes, firstSeq, nextSeq, snapshot.inflight());
        SessionRecord record = new SessionRecord(clientId, q.epoch(), snapshot.protocolLevel(),
                snapshot.expiryInterval(), System.currentTimeMillis(), null, 0);
        // in compute, like connect: a CONNECT here of this client id is ordered before or after the import, never
        // between the map's update and the old session's ending (post: never run inline inside the compute)
        sessions.compute(clientId, (id, before) -> {
            if (before != null) {
                before.post(() -> {
                    before.detachForTakeover();
                    finish(before);
                });
            }
            return s;
        });
        Map<Integer, Long> deadNodeCreated = new java.util.HashMap<>();
        snapshot.deadNodeInbound().forEach((id, dead) -> deadNodeCreated.put(id, dead.createdAtMillis()));
        Runnable stored = () -> {
            if (s.isEnded()) {
                return; // the claimant gave up while the store wrote (it discarded s): no routes for an ended session
            }
            s.imported(snapshot, firstSeq, nextSeq);
            s.beginHold(); // before any route: what the old node still carries goes first (endHold)
            for (Subscription sub : s.subscriptions()) {
                router.subscribe(s, sub);
            }
            ready.run();
        };
        store.submit(new SessionImport(q, record, snapshot.subscriptions(), snapshot.inboundQos2(), deadNodeCreated,
                entries, true, stored));
        return s;
    }

    /**
     * A session of a node that died, adopted from its replica (the cluster decided this node adopts it, under claim
     * generation {@code fence}): made here on {@code owner}, offline, as if restored from this node's own store
     * (queue entries with their seqs and PUBREC state, inbound QoS 2 ids, the will waiting for what is left of its
     * delay, counting from now if its client was connected, the expiry clock), stored here as one write, and
     * routed. Its will, when due, counts as a dead node's ({@code deadNodeWillsPublished}), unless a connection
     * attached first.
     */
    public Session adopt(long fence, SessionRecord replicated, List<Subscription> subscriptions,
                         List<Integer> inboundQos2, List<StoredEntry> entries, EventExecutor owner) {
        return adopt(fence, replicated, subscriptions, inboundQos2, entries, owner, null, Map.of(), null, s -> { });
    }

    /** {@link #adopt(long, SessionRecord, List, List, List, EventExecutor, Adoption, Map, java.util.function.BiConsumer,
     * Consumer)} without more writes for its replica. */
    public Session adopt(long fence, SessionRecord replicated, List<Subscription> subscriptions,
                         List<Integer> inboundQos2, List<StoredEntry> entries, EventExecutor owner, Adoption adoption,
                         Map<Integer, Long> inboundCreated, Consumer<Session> beforeRouting) {
        return adopt(fence, replicated, subscriptions, inboundQos2, entries, owner, adoption, inboundCreated, null,
                beforeRouting);
    }

    /**
     * @param adoption        the run (membership id) of the dead node it is adopted from, and what its replica held
     * @param inboundCreated  its inbound QoS 2 ids' messages' creation times there, for their resends
     *                        ({@link DeadNodeInbound})
     * @param replicaRecords  more writes for its replica, in the import's own store operation ({@link SessionImport});
     *                        null: none
     * @param beforeRouting   given the session once it is stored (submitted) and before its subscriptions are routed
     */
    public Session adopt(long fence, SessionRecord replicated, List<Subscription> subscriptions,
                         List<Integer> inboundQos2, List<StoredEntry> entries, EventExecutor owner, Adoption adoption,
                         Map<Integer, Long> inboundCreated,
                         java.util.function.BiConsumer<io.ternmq.broker.store.StoreWriter, String> replicaRecords,
                         Consumer<Session> beforeRouting) {
        String clientId = replicated.clientId();
        AdoptedHost adoptedHost = new AdoptedHost();
        Session s = new Session(clientId, replicated.expiryInterval(), owner, limits, metrics, adoptedHost, store);
        adoptedHost.session = s;
        s.raiseFence(fence);
        s.held(fence);
        StoredQueue q = s.storedQueue();
        SessionRecord record = new SessionRecord(clientId, q.epoch(), replicated.protocolLevel(),
                replicated.expiryInterval(), replicated.disconnectedAtMillis(), replicated.will(),
                replicated.willDelaySeconds());
        long firstSeq = entries.isEmpty() ? 1 : entries.get(0).entry().seq();
        long nextSeq = entries.isEmpty() ? 1 : entries.get(entries.size() - 1).entry().seq() + 1;
        long bytes = 0;
        for (StoredEntry e : entries) {
            bytes += e.entry().payloadBytes();
        }
        for (Subscription sub : subscriptions) {
            s.putSubscription(sub);
        }
        // not visible to any other thread yet: its state is set here, before the registry and routing know it
        s.recover(record, inboundQos2, entries.size(), bytes, firstSeq, nextSeq);
        s.adoptedFrom(adoption);
        for (Map.Entry<Integer, Long> e : inboundCreated.entrySet()) {
            if (inboundQos2.contains(e.getKey())) {
                s.deadNodeInbound(e.getKey(), new DeadNodeInbound(adoption.deadRun(), e.getValue()));
            }
        }
        sessions.compute(clientId, (id, before) -> {
            if (before != null) {
                before.post(() -> {
                    before.discardWill(); // a stale copy's will is not this session's
                    before.staleCopy(); // the replica is the dead run's, which this adoption replaces
                    before.detachForTakeover();
                    finish(before);
                });
            }
            return s;
        });
        // submitted before any route exists: whatever is published to the session from now on is queued after it
        store.submit(new SessionImport(q, record, subscriptions, inboundQos2, inboundCreated, entries, false,
                replicaRecords, () -> { }));
        beforeRouting.accept(s);
        for (Subscription sub : subscriptions) {
            router.subscribe(s, sub);
        }
        return s;
    }

    /** The host of an adopted session: counts the will it came with as a dead node's. */
    private final class AdoptedHost implements SessionHost {
        Session session;

        @Override
        public void endSession(Session s) {
            LocalSessionRegistry.this.endSession(s);
        }

        @Override
        public void publishWill(Message will) {
            if (session.attachGeneration() == 0) {
                metrics.deadNodeWillsPublished.increment();
            }
            LocalSessionRegistry.this.publishWill(will);
        }

        @Override
        public void redirectShared(Delivery delivery) {
            LocalSessionRegistry.this.redirectShared(delivery);
        }
    }

    /** A delivery the other node carried after the snapshot of a session moving here: to the end of its queue. */
    public void carry(Session s, Delivery delivery) {
        if (!s.isEnded()) {
            if (LOG.isDebugEnabled()) {
                LOG.debug("session of client '{}': carried {}", s.clientId(), delivery.message().topic() + " "
                        + new String(delivery.message().payload(), 0, Math.min(40, delivery.message().payload().length),
                        java.nio.charset.StandardCharsets.ISO_8859_1));
            }
            if (carried(s, delivery.message())) {
                store.submit(new QueueAppend(s.storedQueue(), delivery));
            }
        }
    }

    /**
     * The sessions restored from this node's store hold what is routed to them ({@link Session#beginHold}) until
     * {@link #endHold}: in a cluster, before the data links come up, as the orphans kept for one restored without a
     * replica go first. At start, before any connection.
     *
     * @return those now holding
     */
    public List<Session> holdRestored() {
        List<Session> all = new ArrayList<>(sessions.values());
        all.forEach(Session::beginHold);
        return all;
    }

    /**
     * What had to reach {@code s} first did: the node it moved here from carried it everything (or the move failed,
     * or that node is silent), or the orphans for a restored session were given. What was routed to it here
     * meanwhile joins its queue now, after them, and its publishers are told.
     */
    public void endHold(Session s) {
        int released = s.endHold(w -> storeHeld(s, w));
        if (LOG.isDebugEnabled()) {
            LOG.debug("session of client '{}': {} messages routed to it meanwhile join its queue now",
                    s.clientId(), released);
        }
    }

    /**
     * {@code m} reaches {@code s} by another path than routing (carried by its old node, or given as an orphan) and
     * is stored next: a copy routed to it while it holds is not stored again, and the held messages of its publisher
     * that must go before it are stored first ({@link DeliveryHold#carried}).
     *
     * @return whether to store {@code m}: false if its routed copy was stored already
     */
    public boolean carried(Session s, Message m) {
        List<DeliveryHold.Waiting> first = s.carried(m);
        if (first == null) {
            return false;
        }
        for (DeliveryHold.Waiting w : first) {
            storeHeld(s, w);
        }
        return true;
    }

    private void storeHeld(Session s, DeliveryHold.Waiting w) {
        PublishTransaction tx = new PublishTransaction(w.delivery().message(), limits);
        tx.deliver(s.storedQueue(), w.delivery());
        tx.whenStored(refused -> w.stored().run());
        store.submit(tx);
    }

    /** Attaches a connection to a session imported here ({@link #importSession}), on its owner loop. */
    public void attachImported(Session s, SessionRequest request, SessionConnection connection) {
        s.submit(() -> {
            if (s.isEnded()) {
                connection.refuseSession("the session ended while it moved here");
                return;
            }
            s.attach(connection, true, request.expiryInterval(), request.protocolLevel(), request.will(),
                    request.willDelaySeconds());
        });
    }

    /** Ends a session here without a will: another node's claim won, or it holds the session now. */
    public void discard(Session s) {
        s.submit(() -> {
            s.detachForTakeover();
            end(s);
        });
    }

    /**
     * Ends a stale copy here, without a will: another node holds the session now (it adopted it while this node was
     * dead, or took it over before this copy was dropped). Its deletion leaves the cluster's copy alone: that is
     * the holder's, which may not have replaced this incarnation there yet (a chaos run lost a session's copy when a
     * node back on its data dropped its restored copy while the adopter's import was still on its way).
     */
    public void discardStale(Session s) {
        s.submit(() -> {
            s.discardWill();
            s.staleCopy();
            s.detachForTakeover();
            end(s);
        });
    }

    /** Who hears of sessions that expired (extensions' lifecycle listeners); set before the listeners open. */
    public void onExpired(Consumer<String> listener) {
        this.expired = listener;
    }

    @Override
    public void endSession(Session session) {
        if (session.expiryInterval() != 0) {
            metrics.sessionsExpired.increment();
            Consumer<String> listener = expired;
            if (listener != null) {
                listener.accept(session.clientId());
            }
        }
        end(session);
    }

    @Override
    public void publishWill(Message will) {
        willPublisher.accept(will);
    }

    @Override
    public void redirectShared(Delivery delivery) {
        router.redirectShared(delivery);
    }

    /**
     * Re-creates a stored session at start-up, offline, owned by {@code owner}; the caller restores its
     * subscriptions into routing.
     */
    public Session restore(Recovered.StoredSession stored, EventExecutor owner) {
        SessionRecord r = stored.record();
        Session s = new Session(r.clientId(), r.expiryInterval(), owner, limits(r.clientId()), metrics, this, store, r.epoch());
        sessions.put(r.clientId(), s);
        for (Subscription sub : stored.subscriptions()) {
            s.putSubscription(sub);
        }
        s.post(() -> s.recover(r, stored.inboundQos2(), stored.queuedCount(), stored.queuedBytes(),
                stored.firstSeq(), stored.nextSeq()));
        return s;
    }

    @Override
    public Session get(String clientId) {
        return sessions.get(clientId);
    }

    @Override
    public java.util.Collection<Session> all() {
        return List.copyOf(sessions.values());
    }

    @Override
    public int size() {
        return sessions.size();
    }
}
