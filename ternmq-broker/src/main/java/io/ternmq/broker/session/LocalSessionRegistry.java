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
import io.ternmq.broker.store.Store;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Sessions of this process. The map's per-key atomic {@code compute} orders concurrent CONNECTs of one client id, and
 * the work each CONNECT implies (close the old connection, move ownership, attach) is queued to the session's inbox
 * inside that same compute, so the inbox sees takeovers in the order the map decided them.
 */
public final class LocalSessionRegistry implements SessionRegistry, SessionHost {

    private final ConcurrentHashMap<String, Session> sessions = new ConcurrentHashMap<>();
    private final QueueLimits limits;
    private final BrokerMetrics metrics;
    private final Router router;
    private final Consumer<Message> willPublisher;
    private final Store store;

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

    @Override
    public void connect(SessionRequest request, EventExecutor connectionLoop, SessionConnection connection) {
        String clientId = request.clientId();
        boolean cleanStart = request.cleanStart();
        long expiryInterval = request.expiryInterval();
        // Tasks are post()ed, never run inline, because they may close channels and end sessions, which must not
        // happen inside the map's compute.
        sessions.compute(clientId, (id, existing) -> {
            if (existing != null && !cleanStart) {
                existing.post(() -> {
                    existing.detachForTakeover();
                    existing.moveTo(connectionLoop);
                });
                existing.post(() -> {
                    if (existing.isEnded()) {
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
            Session fresh = new Session(id, expiryInterval, connectionLoop, limits, metrics, this, store);
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
        Session s = new Session(r.clientId(), r.expiryInterval(), owner, limits, metrics, this, store, r.epoch());
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
