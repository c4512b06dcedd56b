package io.ternmq.broker.service;

import io.netty.util.concurrent.EventExecutor;
import io.ternmq.broker.config.TopicFeatures;
import io.ternmq.broker.bridge.BridgeOrigins;
import io.ternmq.broker.extension.Interceptors;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.metrics.TopicMetrics;
import io.ternmq.broker.routing.DeliveryTarget;
import io.ternmq.broker.routing.LocalRoutes;
import io.ternmq.broker.routing.Router;
import io.ternmq.broker.routing.TopicRewrites;
import io.ternmq.broker.sparkplug.PayloadTimestamp;
import io.ternmq.broker.sparkplug.SparkplugTopics;
import io.ternmq.broker.session.Session;
import io.ternmq.broker.session.SessionConnection;
import io.ternmq.broker.session.SessionInfo;
import io.ternmq.broker.session.SessionRegistry;
import io.ternmq.broker.session.SessionRequest;
import io.ternmq.broker.store.StoredQueue;
import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.trace.Traces;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.QoS;
import io.ternmq.codec.TopicSyntax;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * What the broker does, for every entry point: MQTT connections today; the admin API, {@code $SYS}, bridges,
 * extensions and the cluster next. Each operation enters here once (a publish, a will, a subscription, an attach,
 * a kick), so that whatever must see every one of them (interceptors, counters, a cluster) has one place to sit.
 * Protocol rules (what a client may send, which reason code answers it) stay with the protocol; this class does what
 * the broker does once they are met.
 *
 * <p>Threading: operations on a {@link Session} run on its owner loop (the caller's, for a connection's own session);
 * callbacks come back there. Listings may be called from any thread and complete on the sessions' loops.
 */
public final class BrokerService {
    private final SessionRegistry sessions;
    private final Router router;
    private final BrokerMetrics metrics;
    private final TopicMetrics topicMetrics = new TopicMetrics();
    private final Traces traces = new Traces();
    /**
     * Fixed before the first listener opens (see {@link #install}). A plain field on the hot path: every connection's
     * work reaches its loop through task hand-overs (bind, accept, register) made after the write.
     */
    private Interceptors interceptors = Interceptors.NONE;
    /** Client ids of the broker's own sessions (bridges): fixed before the first listener opens. */
    private java.util.Set<String> reservedClientIds = java.util.Set.of();
    // topic features (TopicFeatures): fixed before the first listener opens, like the interceptors
    private boolean sparkplugAware;
    private boolean sparkplugNdeathTimestamp;
    private DelayedPublishes delayed;
    private TopicRewrites publishRewrites;
    private TopicRewrites subscribeRewrites;
    private List<TopicFeatures.AutoSubscription> autoSubscriptions = List.of();
    /** With bridges: gives messages their origin id and drops copies that came round; null without bridges. */
    private BridgeOrigins bridgeOrigins;
    private io.ternmq.broker.bridge.BridgePeers bridgePeers;

    public BrokerService(SessionRegistry sessions, Router router, BrokerMetrics metrics) {
        this.sessions = sessions;
        this.router = router;
        this.metrics = metrics;
    }

    /** Counts per registered topic filter (admin API's topic-metrics); nothing counted while none is. */
    public TopicMetrics topicMetrics() {
        return topicMetrics;
    }

    /** The admin API's traces; the connection path reads {@code traces().active()} at each hook. */
    public Traces traces() {
        return traces;
    }

    // ------------------------------------------------------------------ extensions

    /**
     * The extensions' interceptors and listeners: set once, after the extensions started and before the first
     * listener opens, so the event loops (started later) read them as a plain field.
     */
    public void install(Interceptors installed) {
        this.interceptors = installed;
    }

    /**
     * Sparkplug awareness, delayed publish ({@code delayed} null without it), topic rewriting and auto-subscribe, as
     * configured; set once, before the first listener opens.
     */
    public void enable(TopicFeatures topics, DelayedPublishes delayedPublishes) {
        sparkplugAware = topics.sparkplugAware();
        sparkplugNdeathTimestamp = topics.sparkplugNdeathTimestamp();
        delayed = delayedPublishes;
        publishRewrites = TopicRewrites.forPublish(topics.rewrites());
        subscribeRewrites = TopicRewrites.forSubscribe(topics.rewrites());
        autoSubscriptions = topics.autoSubscriptions();
    }

    /** Whether {@code $sparkplug/} is the broker's (sparkplug_aware). */
    public boolean sparkplugAware() {
        return sparkplugAware;
    }

    /** The delayed publishes, or null without delayed_publish. */
    public DelayedPublishes delayed() {
        return delayed;
    }

    /** The topic_rewrite rules for PUBLISH topics; null if none (then nothing is rewritten, at no cost). */
    public TopicRewrites publishRewrites() {
        return publishRewrites;
    }

    /** The topic_rewrite rules for SUBSCRIBE and UNSUBSCRIBE filters; null if none. */
    public TopicRewrites subscribeRewrites() {
        return subscribeRewrites;
    }

    /** The auto_subscribe entries (%c and %u not yet substituted). */
    public List<TopicFeatures.AutoSubscription> autoSubscriptions() {
        return autoSubscriptions;
    }

    /** What the protocol runs at its hook points; {@link Interceptors#NONE} without extensions. */
    public Interceptors interceptors() {
        return interceptors;
    }

    // ------------------------------------------------------------------ sessions

    /** The client ids no client may connect with (bridges' sessions); set before the first listener opens. */
    public void reserveClientIds(java.util.Set<String> ids) {
        this.reservedClientIds = java.util.Set.copyOf(ids);
    }

    /** Set once, before the first listener opens, on a broker with bridges. */
    public void bridgeOrigins(BridgeOrigins origins) {
        this.bridgeOrigins = origins;
    }

    /** Set once, before the first listener opens, on a broker with bridges. */
    public void bridgePeers(io.ternmq.broker.bridge.BridgePeers peers) {
        this.bridgePeers = peers;
    }

    /** The pairs of bridges between this broker and others (MQTT 3.x), or null without bridges. */
    public io.ternmq.broker.bridge.BridgePeers bridgePeers() {
        return bridgePeers;
    }

    /** The message to route (with its origin id on a broker with bridges), or null for a bridged-in duplicate. */
    private Message admitted(Message message) {
        BridgeOrigins origins = bridgeOrigins;
        if (origins == null) {
            return message;
        }
        io.ternmq.broker.bridge.BridgePeers peers = bridgePeers;
        return peers != null && !peers.admit(message) ? null : origins.admit(message);
    }

    /** Whether the client id is one of the broker's own sessions (a bridge's). */
    public boolean isReservedClientId(String clientId) {
        return !reservedClientIds.isEmpty() && reservedClientIds.contains(clientId);
    }

    /**
     * Finds or creates the client's session and attaches the connection to it on {@code loop}, taking it over from
     * an earlier connection; {@link SessionConnection#sessionReady} answers on {@code loop}.
     */
    public void connect(SessionRequest request, EventExecutor loop, SessionConnection connection) {
        sessions.connect(request, loop, connection);
    }

    /** The session is attached and CONNACK sent: it takes what its shared groups held meanwhile. Owner loop. */
    public void attached(Session session) {
        router.targetOnline(session, session.subscriptions());
    }

    /** A session was made for a connection that closed before it was ready: a session that ends with it ends now. */
    public void abandoned(Session session) {
        if (!session.outlivesConnection()) {
            sessions.end(session);
        }
    }

    /**
     * Ends the client's connection, as an administrator would: MQTT 5 clients are told {@code reasonCode} and
     * {@code why}. The session stays, or ends, as its expiry says.
     *
     * @return whether the client was connected
     */
    public CompletionStage<Boolean> disconnect(String clientId, int reasonCode, String why) {
        return disconnect(clientId, reasonCode, why, null);
    }

    /** As {@link #disconnect(String, int, String)}, with a Server Reference for MQTT 5 clients (null: none). */
    public CompletionStage<Boolean> disconnect(String clientId, int reasonCode, String why, String serverReference) {
        Session s = sessions.get(clientId);
        if (s == null) {
            return CompletableFuture.completedFuture(false);
        }
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        s.submit(() -> done.complete(s.disconnect(reasonCode, why, serverReference)));
        return done;
    }

    /** Whether the client is connected now (a hint, from any thread). */
    public boolean isConnected(String clientId) {
        Session s = sessions.get(clientId);
        return s != null && s.isOnline();
    }

    /**
     * What a kick did.
     *
     * @param found         whether the client had a session (connected or not)
     * @param disconnected  whether a connection was closed (false: the client was offline)
     * @param sessionEnded  whether the session ended (or ends with the closing connection)
     * @param willDiscarded whether a will was dropped unpublished (one attached, or one waiting for its delay)
     */
    public record KickOutcome(boolean found, boolean disconnected, boolean sessionEnded, boolean willDiscarded)
            implements java.io.Serializable {
        static final KickOutcome NOT_FOUND = new KickOutcome(false, false, false, false);
    }

    /**
     * Ends a client's connection as an administrator would (MQTT 5 clients are told {@code reasonCode}): its will is
     * published unless {@code publishWill} is false [MQTT-3.1.2-8]; with {@code endSession} its session ends too,
     * whatever its expiry said. An offline session has no connection to close: without {@code publishWill} a will
     * still waiting for its delay is dropped; with {@code endSession} the session ends now. Any thread.
     */
    public CompletionStage<KickOutcome> kick(String clientId, int reasonCode, String why, boolean publishWill,
                                             boolean endSession) {
        Session s = sessions.get(clientId);
        if (s == null) {
            return CompletableFuture.completedFuture(KickOutcome.NOT_FOUND);
        }
        CompletableFuture<KickOutcome> done = new CompletableFuture<>();
        s.submit(() -> {
            if (s.isEnded()) {
                done.complete(KickOutcome.NOT_FOUND);
                return;
            }
            boolean hadWill = s.hasWill();
            boolean connected = s.disconnect(reasonCode, why, publishWill, endSession);
            if (connected) {
                done.complete(new KickOutcome(true, true, endSession || !s.outlivesConnection(),
                        !publishWill && hadWill));
                return;
            }
            boolean pending = s.hasPendingWill();
            if (!publishWill && pending) {
                if (endSession) {
                    s.discardWill();
                } else {
                    s.discardPendingWill();
                }
            }
            if (endSession) {
                // offline: nothing will close, so it ends now (a will still waiting for its delay goes out, as
                // when a session expires, unless told otherwise)
                sessions.end(s);
            }
            done.complete(new KickOutcome(true, false, endSession, !publishWill && pending));
        });
        return done;
    }

    // ------------------------------------------------------------------ publishing

    /**
     * Publishes a message made by the broker's operator (the admin API), like a client's; the stage completes, on
     * {@code loop}, with how many subscribers and shared groups it went to once what must be stored is.
     */
    public CompletionStage<Integer> publish(Message received, EventExecutor loop) {
        Message message = admitted(received);
        if (message == null) {
            return CompletableFuture.completedFuture(0);
        }
        topicMetrics.received(message.topic(), message.payload().length);
        CompletableFuture<Integer> done = new CompletableFuture<>();
        keepSparkplugCertificate(message);
        router.publish(message, new Router.Origin(null, 0, loop), (matched, quotaExceeded) -> done.complete(matched));
        return done;
    }

    /**
     * Routes a message to every matching subscriber (and the retained store); {@code callback} runs on
     * {@code origin}'s loop once everything that must be stored is.
     *
     * @return a subscriber that falls behind while still consuming, which the publisher should wait for; or null
     */
    public DeliveryTarget publish(Message received, Router.Origin origin, Router.PublishCallback callback) {
        Message message = admitted(received);
        if (message == null) {
            // a copy that was here already: acknowledged, not routed again
            if (callback != null) {
                callback.routed(0, false);
            }
            return null;
        }
        topicMetrics.received(message.topic(), message.payload().length);
        keepSparkplugCertificate(message);
        return router.publish(message, origin, callback);
    }

    /**
     * A QoS 2 PUBLISH resent after the node it was published on died, that node having routed it: routed again to
     * the targets that lack it ({@link Router#publishResent}); {@code callback} on {@code origin}'s loop once held.
     */
    public DeliveryTarget publishResent(Message received, int packetId, String deadNode, Router.Origin origin,
                                        Router.PublishCallback callback) {
        Message message = admitted(received);
        if (message == null) {
            callback.routed(0, false);
            return null;
        }
        return router.publishResent(message, packetId, deadNode, origin, callback);
    }

    /**
     * sparkplug_aware: an NBIRTH or DBIRTH is also kept, retained at QoS 1 (stored like any retained message), on
     * {@code $sparkplug/certificates/<its topic>}; an NBIRTH first clears its edge node's DBIRTH certificates, whose
     * devices must be born again after it. Routed before the BIRTH itself, so that it is stored no later.
     */
    private void keepSparkplugCertificate(Message m) {
        if (!sparkplugAware || !m.topic().startsWith(SparkplugTopics.NAMESPACE)) {
            return;
        }
        boolean nbirth = SparkplugTopics.isNbirth(m.topic());
        if (!nbirth && !SparkplugTopics.isDbirth(m.topic())) {
            return;
        }
        if (nbirth) {
            List<String> stale = new ArrayList<>();
            router.retained().match(SparkplugTopics.deviceCertificates(m.topic()), old -> stale.add(old.topic()));
            for (String topic : stale) {
                router.publish(new Message(topic, QoS.AT_LEAST_ONCE, true, new byte[0], MqttProperties.EMPTY,
                        m.publisherId(), m.createdAtMillis()), null, null);
            }
        }
        router.publish(new Message(SparkplugTopics.certificate(m.topic()), QoS.AT_LEAST_ONCE, true, m.payload(),
                m.properties(), m.publisherId(), m.createdAtMillis(), m.expiryAtMillis()), null, null);
        metrics.sparkplugCertificatesStored.increment();
    }

    /**
     * A message of the broker's own (an extension's {@code PublishService}): routed like a client's, with no
     * publisher connection; {@code routed} gets the number of targets once every QoS 1/2 copy is stored.
     */
    public void publishOwn(Message own, Router.PublishCallback routed) {
        Message message = admitted(own);
        if (message == null) {
            routed.routed(0, false);
            return;
        }
        topicMetrics.received(message.topic(), message.payload().length);
        keepSparkplugCertificate(message);
        router.publish(message, new Router.Origin(null, 0, null), routed);
    }

    /** Publishes a will whose time has come; its Message Expiry Interval starts now (MQTT 5.0 3.1.3.2.4). */
    public void publishWill(Message will) {
        metrics.willsPublished.increment();
        topicMetrics.received(will.topic(), will.payload().length);
        long now = System.currentTimeMillis();
        byte[] payload = will.payload();
        if (sparkplugNdeathTimestamp && SparkplugTopics.isNdeath(will.topic())) {
            // the Sparkplug payload's timestamp becomes the time the NDEATH goes out (unchanged if unreadable)
            byte[] stamped = PayloadTimestamp.with(payload, now);
            payload = stamped == null ? payload : stamped;
        }
        Message message = admitted(new Message(will.topic(), will.qos(), will.retain(), payload, will.properties(),
                will.publisherId(), now));
        if (message != null) {
            router.publish(message, null, null);
        }
    }

    /**
     * Publishes a value of this broker's {@code $SYS} tree: retained, at QoS 0, to this node's subscribers only; the
     * retained copy is not stored (it is published again after a restart). Any thread.
     */
    public void publishSys(String topic, byte[] payload) {
        router.publishLocal(new Message(topic, QoS.AT_MOST_ONCE, true, payload, MqttProperties.EMPTY, null,
                System.currentTimeMillis()));
    }

    /**
     * PUBREL of an inbound QoS 2 message: forgets its packet id; {@code then} gets whether the id was known, once
     * that is durable (on the session's loop).
     */
    public void release(Session session, int packetId, Consumer<Boolean> then) {
        session.releasePubrel(packetId, then);
    }

    // ------------------------------------------------------------------ subscriptions

    /**
     * Adds or replaces subscriptions of a session (owner loop): routing at once, the store next; then {@code stored}
     * gets the continuation that sends the retained messages these subscriptions ask for [MQTT-3.3.1-6], to run
     * once the acknowledgement has gone out.
     *
     * @param subscriptions valid, authorized subscriptions
     */
    public void subscribe(Session session, List<Subscription> subscriptions, Consumer<Runnable> stored) {
        List<Subscription> retainedFor = new ArrayList<>(subscriptions.size());
        for (Subscription sub : subscriptions) {
            Subscription previous = session.putSubscription(sub);
            router.subscribe(session, sub);
            // retained messages are not sent when a shared subscription is made (MQTT 5.0 section 4.8.2)
            boolean sendRetained = !TopicSyntax.isSharedSubscription(sub.filter()) && switch (sub.retainHandling()) {
                case 0 -> true;
                case 1 -> previous == null;
                default -> false;
            };
            if (sendRetained) {
                retainedFor.add(sub);
            }
        }
        Runnable acknowledge = () -> stored.accept(() -> {
            for (Subscription sub : retainedFor) {
                router.sendRetained(session, sub);
            }
        });
        LocalRoutes routes = router.routes();
        if (routes == null) {
            session.storeSubscriptions(subscriptions, List.of(), acknowledge);
            return;
        }
        // in a cluster the SUBACK also waits until every other node routes these filters here, so that a PUBLISH
        // made anywhere after it reaches this subscriber
        List<String> filters = subscriptions.stream().map(Subscription::filter).toList();
        session.storeSubscriptions(subscriptions, List.of(),
                () -> routes.whenPeersHave(filters, () -> session.submit(acknowledge)));
    }

    /**
     * Removes subscriptions of a session (owner loop); {@code stored} gets, per filter, whether it was subscribed,
     * once the removal is durable.
     */
    public void unsubscribe(Session session, List<String> filters, Consumer<List<Boolean>> stored) {
        List<Boolean> had = new ArrayList<>(filters.size());
        List<String> removed = new ArrayList<>(filters.size());
        for (String filter : filters) {
            boolean was = session.removeSubscription(filter) != null;
            if (was) {
                router.unsubscribe(session, filter);
                removed.add(filter);
            }
            had.add(was);
        }
        session.storeSubscriptions(List.of(), removed, () -> stored.accept(had));
    }

    /**
     * Adds or replaces subscriptions of a client's session, as its own SUBSCRIBE would (the retained messages they
     * ask for are sent); completes once they are stored, or with false if the client has no session. Any thread.
     */
    public CompletionStage<Boolean> subscribe(String clientId, List<Subscription> subscriptions) {
        Session s = sessions.get(clientId);
        if (s == null) {
            return CompletableFuture.completedFuture(false);
        }
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        s.submit(() -> subscribe(s, subscriptions, sendRetained -> {
            sendRetained.run();
            done.complete(true);
        }));
        return done;
    }

    /**
     * Removes subscriptions of a client's session; completes, once stored, with whether each filter was subscribed,
     * or null if the client has no session. Any thread.
     */
    public CompletionStage<List<Boolean>> unsubscribe(String clientId, List<String> filters) {
        Session s = sessions.get(clientId);
        if (s == null) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<List<Boolean>> done = new CompletableFuture<>();
        s.submit(() -> unsubscribe(s, filters, done::complete));
        return done;
    }

    // ------------------------------------------------------------------ listings (any thread)

    /** Most sessions one listing asks the loops about at once, so that a listing never floods them. */
    public static final int LISTING_BATCH = 1000;

    /**
     * One page of sessions in client id order: those after {@code after} (null: from the first) that pass
     * {@code sessionFilter} (cheap checks any thread may make: the client id, {@link Session#isOnline()}) and whose
     * state passes {@code filter}, at most {@code limit}. Each state is read on its owner loop, at most
     * {@link #LISTING_BATCH} at a time.
     */
    public CompletionStage<List<SessionInfo>> sessions(String after, java.util.function.Predicate<Session> sessionFilter,
                                                       java.util.function.Predicate<SessionInfo> filter, int limit) {
        List<SessionInfo> page = new ArrayList<>(Math.min(limit, LISTING_BATCH));
        CompletableFuture<List<SessionInfo>> done = new CompletableFuture<>();
        // most listings are a page of the first sessions that pass: pick those in one pass (a bounded heap, no sort
        // of every session); only when the state filter leaves the page short are the rest sorted and read on
        List<Session> first = firstAfter(after, sessionFilter, limit);
        collect(first, Session::info).whenComplete((infos, error) -> {
            if (error != null) {
                done.completeExceptionally(error);
                return;
            }
            for (SessionInfo info : infos) {
                if (page.size() < limit && filter.test(info)) {
                    page.add(info);
                }
            }
            if (page.size() >= limit || first.size() < limit) {
                done.complete(page);
                return;
            }
            List<Session> rest = new ArrayList<>();
            String last = first.get(first.size() - 1).clientId();
            for (Session s : sessions.all()) {
                if (s.clientId().compareTo(last) > 0 && sessionFilter.test(s)) {
                    rest.add(s);
                }
            }
            rest.sort(BY_CLIENT_ID);
            nextBatch(rest, 0, filter, limit, page, done);
        });
        return done;
    }

    private void nextBatch(List<Session> candidates, int from, java.util.function.Predicate<SessionInfo> filter,
                           int limit, List<SessionInfo> page, CompletableFuture<List<SessionInfo>> done) {
        if (page.size() >= limit || from >= candidates.size()) {
            done.complete(page);
            return;
        }
        int to = Math.min(candidates.size(), from + LISTING_BATCH);
        collect(candidates.subList(from, to), Session::info).whenComplete((infos, error) -> {
            if (error != null) {
                done.completeExceptionally(error);
                return;
            }
            for (SessionInfo info : infos) {
                if (page.size() < limit && filter.test(info)) {
                    page.add(info);
                }
            }
            nextBatch(candidates, to, filter, limit, page, done);
        });
    }

    /**
     * The first {@code k} sessions in client id order after {@code after} that pass {@code sessionFilter}: one pass
     * keeping the {@code k} smallest in a bounded heap, not a sort of every session (a page of 100 out of 100,000).
     */
    private List<Session> firstAfter(String after, java.util.function.Predicate<Session> sessionFilter, int k) {
        java.util.PriorityQueue<Session> smallest = new java.util.PriorityQueue<>(k + 1, BY_CLIENT_ID.reversed());
        for (Session s : sessions.all()) {
            String id = s.clientId();
            if ((after != null && id.compareTo(after) <= 0) || !sessionFilter.test(s)) {
                continue;
            }
            if (smallest.size() < k) {
                smallest.add(s);
            } else if (id.compareTo(smallest.peek().clientId()) < 0) {
                smallest.poll();
                smallest.add(s);
            }
        }
        List<Session> sorted = new ArrayList<>(smallest);
        sorted.sort(BY_CLIENT_ID);
        return sorted;
    }

    private static final java.util.Comparator<Session> BY_CLIENT_ID = java.util.Comparator.comparing(Session::clientId);

    /** A subscription and the client whose it is, as the subscription listing gives them. */
    public record ClientSubscription(String clientId, Subscription subscription) implements java.io.Serializable {
    }

    /**
     * One page of every session's subscriptions, in client id then filter order: those after
     * ({@code afterClientId}, {@code afterFilter}) (nulls: from the first) whose filter contains {@code like} (null:
     * any), at most {@code limit}. Each session's are read on its owner loop, at most {@link #LISTING_BATCH}
     * sessions at a time.
     */
    public CompletionStage<List<ClientSubscription>> subscriptions(String afterClientId, String afterFilter,
                                                                   String like, int limit) {
        List<Session> candidates = new ArrayList<>();
        for (Session s : sessions.all()) {
            if (afterClientId == null || s.clientId().compareTo(afterClientId) >= 0) {
                candidates.add(s);
            }
        }
        candidates.sort(java.util.Comparator.comparing(Session::clientId));
        List<ClientSubscription> page = new ArrayList<>();
        CompletableFuture<List<ClientSubscription>> done = new CompletableFuture<>();
        nextSubscriptions(candidates, 0, afterClientId, afterFilter, like, limit, page, done);
        return done;
    }

    private void nextSubscriptions(List<Session> candidates, int from, String afterClientId, String afterFilter,
                                   String like, int limit, List<ClientSubscription> page,
                                   CompletableFuture<List<ClientSubscription>> done) {
        if (page.size() >= limit || from >= candidates.size()) {
            done.complete(page);
            return;
        }
        int to = Math.min(candidates.size(), from + LISTING_BATCH);
        collect(candidates.subList(from, to), s -> s.subscriptions().stream()
                .map(sub -> new ClientSubscription(s.clientId(), sub))
                .sorted(java.util.Comparator.comparing(c -> c.subscription().filter())).toList())
                .whenComplete((lists, error) -> {
                    if (error != null) {
                        done.completeExceptionally(error);
                        return;
                    }
                    for (List<ClientSubscription> subs : lists) {
                        for (ClientSubscription c : subs) {
                            boolean after = afterClientId == null || c.clientId().compareTo(afterClientId) > 0
                                    || afterFilter == null || c.subscription().filter().compareTo(afterFilter) > 0;
                            if (page.size() < limit && after
                                    && (like == null || c.subscription().filter().contains(like))) {
                                page.add(c);
                            }
                        }
                    }
                    nextSubscriptions(candidates, to, afterClientId, afterFilter, like, limit, page, done);
                });
    }

    /** One client's session as its owner loop sees it now, or null if it has none. */
    public CompletionStage<SessionInfo> session(String clientId) {
        Session s = sessions.get(clientId);
        if (s == null) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<SessionInfo> done = new CompletableFuture<>();
        s.submit(() -> done.complete(s.info()));
        return done;
    }

    /** Every session of this broker, online or not, as each owner loop sees it now. */
    public CompletionStage<List<SessionInfo>> sessions() {
        return collect(sessions.all(), Session::info);
    }

    /**
     * Adds a subscription to a client's session, as a SUBSCRIBE would (on its owner loop), for entry points other
     * than the client: extensions, later auto-subscribe. {@code done} gets false if there is no session.
     */
    public CompletionStage<Boolean> subscribe(String clientId, Subscription subscription) {
        Session s = sessions.get(clientId);
        if (s == null) {
            return CompletableFuture.completedFuture(false);
        }
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        s.submit(() -> subscribe(s, List.of(subscription), sendRetained -> {
            sendRetained.run();
            done.complete(true);
        }));
        return done;
    }

    /** Removes a subscription of a client's session; completes with whether it had it. */
    public CompletionStage<Boolean> unsubscribe(String clientId, String filter) {
        Session s = sessions.get(clientId);
        if (s == null) {
            return CompletableFuture.completedFuture(false);
        }
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        s.submit(() -> unsubscribe(s, List.of(filter), had -> done.complete(had.get(0))));
        return done;
    }

    /** The subscriptions of one client's session; empty if it has none or no session. */
    public CompletionStage<List<Subscription>> subscriptions(String clientId) {
        Session s = sessions.get(clientId);
        if (s == null) {
            return CompletableFuture.completedFuture(List.of());
        }
        CompletableFuture<List<Subscription>> done = new CompletableFuture<>();
        s.submit(() -> done.complete(List.copyOf(s.subscriptions())));
        return done;
    }

    /**
     * What the broker holds now: one pass over the sessions (reading counters their queues keep as atomics) and the
     * sizes routing and the retained index keep. Any thread; never waits for a loop.
     */
    public BrokerCounts counts() {
        long total = 0;
        long online = 0;
        long queued = 0;
        long inflight = 0;
        long bytes = 0;
        for (Session s : sessions.all()) {
            total++;
            if (s.isOnline()) {
                online++;
            }
            StoredQueue q = s.storedQueue();
            if (q != null) {
                queued += Math.max(0, q.queued());
                inflight += q.inflight();
                bytes += q.bytes();
            }
        }
        return new BrokerCounts(total, online, queued, inflight, bytes, router.subscriptions().size(),
                router.subscriptions().sharedSize(), router.retained().size(), router.retained().bytes());
    }

    /**
     * A topic or filter in use: with a retained message, or subscribed by this node's sessions (shared groups count
     * once each).
     *
     * @param retainedBytes payload bytes of its retained message, or -1 if it has none
     */
    public record ActiveTopic(String topic, long retainedBytes, int subscribers) implements java.io.Serializable {
    }

    /**
     * The topics in use now, in order: those after {@code after} (null: from the first) containing {@code like}
     * (null: any), at most {@code limit}. Reads the retained index and routing, never a loop. Any thread.
     */
    public List<ActiveTopic> topics(String after, String like, int limit) {
        java.util.TreeMap<String, long[]> found = new java.util.TreeMap<>();
        java.util.function.Predicate<String> wanted = t -> (after == null || t.compareTo(after) > 0)
                && (like == null || t.contains(like));
        router.retained().forEach(m -> {
            if (wanted.test(m.topic())) {
                found.computeIfAbsent(m.topic(), t -> new long[] {-1, 0})[0] = m.payload().length;
            }
        });
        router.subscriptions().forEachFilter((filter, n) -> {
            if (wanted.test(filter)) {
                found.computeIfAbsent(filter, t -> new long[] {-1, 0})[1] += n;
            }
        });
        List<ActiveTopic> page = new ArrayList<>(Math.min(limit, found.size()));
        for (var e : found.entrySet()) {
            if (page.size() >= limit) {
                break;
            }
            page.add(new ActiveTopic(e.getKey(), e.getValue()[0], (int) e.getValue()[1]));
        }
        return page;
    }

    /** The retained messages a filter matches. */
    public List<Message> retained(String filter) {
        List<Message> found = new ArrayList<>();
        router.retained().match(filter, found::add);
        return found;
    }

    private static <T> CompletionStage<List<T>> collect(Collection<Session> all,
                                                        java.util.function.Function<Session, T> read) {
        List<CompletableFuture<T>> parts = new ArrayList<>(all.size());
        for (Session s : all) {
            CompletableFuture<T> part = new CompletableFuture<>();
            s.submit(() -> part.complete(read.apply(s)));
            parts.add(part);
        }
        return CompletableFuture.allOf(parts.toArray(new CompletableFuture<?>[0]))
                .thenApply(x -> parts.stream().map(CompletableFuture::join).toList());
    }
}
