package io.ternmq.broker.session;

import io.netty.util.concurrent.EventExecutor;

/**
 * Client id to session, with takeover. The local implementation is {@link LocalSessionRegistry}; a cluster-wide one
 * implements the same contract later.
 */
public interface SessionRegistry {

    /**
     * Finds or creates the session for a new connection and attaches the connection to it on
     * {@code connectionLoop}, which becomes the session's owner. An existing session is taken over: its connection
     * is closed first. With Clean Start any existing session is ended and a new one made.
     * {@link SessionConnection#sessionReady} is called on {@code connectionLoop} when done.
     */
    void connect(SessionRequest request, EventExecutor connectionLoop, SessionConnection connection);

    /**
     * Ends a session, if it is still the registered one: drops its subscriptions and publishes a will that was
     * waiting for its delay. Must run on the session's owner loop.
     */
    void end(Session session);

    /** @return the registered session of this client, or null */
    Session get(String clientId);

    /** The registered sessions at this moment. */
    java.util.Collection<Session> all();

    int size();
}
