package io.ternmq.broker.session;

import io.netty.util.concurrent.EventExecutor;
import io.ternmq.broker.metrics.BrokerMetrics;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Sessions of this process. The map's per-key atomic {@code compute} orders concurrent CONNECTs of one client id, and
 * the work each CONNECT implies (close the old connection, move ownership, attach) is queued to the session's inbox
 * inside that same compute, so the inbox sees takeovers in the order the map decided them.
 */
public final class LocalSessionRegistry implements SessionRegistry {

    private final ConcurrentHashMap<String, Session> sessions = new ConcurrentHashMap<>();
    private final SessionLimits limits;
    private final BrokerMetrics metrics;
    private final Consumer<Session> onSessionEnd;

    /**
     * @param onSessionEnd called on the session's owner loop when a session ends, to drop its subscriptions from
     *                     routing
     */
    public LocalSessionRegistry(SessionLimits limits, BrokerMetrics metrics, Consumer<Session> onSessionEnd) {
        this.limits = limits;
        this.metrics = metrics;
        this.onSessionEnd = onSessionEnd;
    }

    @Override
    public void connect(String clientId, boolean cleanStart, boolean persistent, EventExecutor connectionLoop,
                        SessionConnection connection) {
        // Tasks are post()ed, never run inline, because they may close channels and end sessions, which must not
        // happen inside the map's compute.
        sessions.compute(clientId, (id, existing) -> {
            if (existing != null && !cleanStart) {
                existing.post((Runnable) () -> {
                    existing.detachForTakeover();
                    existing.moveTo(connectionLoop);
                });
                existing.post((Runnable) () -> {
                    if (existing.isEnded()) {
                        // it ended between this compute and now; end() has unregistered it, so start afresh
                        connect(clientId, cleanStart, persistent, connectionLoop, connection);
                    } else {
                        existing.attach(connection, true, persistent);
                    }
                });
                return existing;
            }
            if (existing != null) {
                existing.post((Runnable) () -> {
                    existing.detachForTakeover();
                    if (!existing.isEnded()) {
                        existing.end();
                        onSessionEnd.accept(existing);
                    }
                });
            }
            Session fresh = new Session(id, persistent, connectionLoop, limits, metrics);
            fresh.post((Runnable) () -> fresh.attach(connection, false, persistent));
            return fresh;
        });
    }

    @Override
    public void end(Session session) {
        sessions.remove(session.clientId(), session);
        if (!session.isEnded()) {
            session.end();
            onSessionEnd.accept(session);
        }
    }

    @Override
    public Session get(String clientId) {
        return sessions.get(clientId);
    }

    @Override
    public int size() {
        return sessions.size();
    }
}
