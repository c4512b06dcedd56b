package io.ternmq.broker.bridge;

import io.netty.channel.EventLoop;
import io.ternmq.broker.config.BridgeSettings;
import io.ternmq.broker.config.BridgeTopic;
import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.service.BrokerService;
import io.ternmq.broker.session.ConnectionInfo;
import io.ternmq.broker.session.Session;
import io.ternmq.broker.session.SessionConnection;
import io.ternmq.broker.session.SessionRequest;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.QoS;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The local side of a bridge: its persistent session on this broker ({@code local_clientid}, which no client may
 * take), subscribed with no-local to the {@code out}/{@code both} topics, so that its stored queue is the buffer
 * while the remote broker is away. At start a {@link Parking} connection subscribes it and leaves it detached; each
 * accepted remote connection then attaches as its connection. Also publishes the bridge's state here. Event loop.
 */
final class BridgeSession {
    private static final Logger LOG = LoggerFactory.getLogger(BridgeSession.class);

    private final BridgeSettings settings;
    private final BrokerService service;
    private final EventLoop loop;
    private final BridgeAccess access;
    private final BridgeTopicTable topics;
    private boolean cleanStartPending;
    /** The session once ready (the same object at every attach: it is persistent); null before. */
    private Session session;

    BridgeSession(BridgeSettings settings, BrokerService service, EventLoop loop, BridgeAccess access,
                  BridgeTopicTable topics) {
        this.settings = settings;
        this.service = service;
        this.loop = loop;
        this.access = access;
        this.topics = topics;
        this.cleanStartPending = settings.localCleanSession();
    }

    /** Subscribes the session (messages queue from now on, the remote reachable or not), then runs {@code ready}. */
    void start(Runnable ready) {
        attach(new Parking(ready));
    }

    /**
     * Attaches a connection to the bridge's session (a {@link Parking} at start, then an {@link Outlet} per remote
     * connection). With {@code local_cleansession} the first attach starts the session afresh.
     */
    void attach(SessionConnection c) {
        boolean clean = cleanStartPending;
        cleanStartPending = false;
        service.connect(new SessionRequest(settings.localClientId(), clean, Session.NEVER_EXPIRES, 5, null, 0),
                loop, c);
    }

    /**
     * The bridge's session, null until it is first ready. It also keeps, durably, the ids of the QoS 2 messages the
     * remote broker sent and has not released yet ({@link IncomingPublishes}).
     */
    Session session() {
        return session;
    }

    /** A connection of the bridge's got the session. */
    void ready(Session s) {
        session = s;
    }

    /** The bridge's state notification here: retained {@code 1} or {@code 0} at QoS 1 (Mosquitto's format). */
    void publishState(boolean connected) {
        service.publishOwn(new Message(settings.stateTopic(), QoS.AT_LEAST_ONCE, true,
                new byte[]{(byte) (connected ? '1' : '0')}, MqttProperties.EMPTY, settings.localClientId(),
                System.currentTimeMillis()), null);
    }

    /** The subscriptions of the bridge's session: those of the configured outgoing topics, and no others. */
    private void subscribeOutgoing(Session session) {
        List<Subscription> wanted = new ArrayList<>();
        Set<String> filters = new HashSet<>();
        for (BridgeTopic t : topics.outgoing()) {
            if (!access.maySubscribe(t.localTopic())) {
                LOG.warn("Bridge {}: local_username '{}' may not subscribe to '{}': that topic line sends nothing",
                        settings.name(), settings.localUsername(), t.localTopic());
                continue;
            }
            if (filters.add(t.localTopic())) {
                // no-local: what the bridge brought in never goes back; retain as published: the remote broker
                // keeps what is retained here; retained messages only when the subscription is new (a persistent
                // session queued the later ones, retained deletes included)
                wanted.add(new Subscription(t.localTopic(), t.qos(), true, true, 1, 0));
            }
        }
        List<String> stale = new ArrayList<>();
        for (Subscription s : session.subscriptions()) {
            if (!filters.contains(s.filter())) {
                stale.add(s.filter());
            }
        }
        if (!stale.isEmpty()) {
            service.unsubscribe(session, stale, had -> { });
        }
        service.subscribe(session, wanted, Runnable::run);
    }

    /** The session's first attach: subscribe, then leave it offline until the remote broker answers. */
    private final class Parking implements SessionConnection {
        private final Runnable ready;

        Parking(Runnable ready) {
            this.ready = ready;
        }

        @Override
        public boolean sessionReady(Session session, boolean sessionPresent) {
            ready(session);
            subscribeOutgoing(session);
            LOG.info("Bridge {}: local session '{}' {} ({} messages queued)", settings.name(),
                    settings.localClientId(), sessionPresent ? "resumed" : "created", session.queuedCount());
            ready.run();
            return false; // stays detached: queueing until an outlet attaches
        }

        @Override
        public boolean sendPublish(int packetId, Delivery delivery, boolean dup) {
            return true;
        }

        @Override
        public void sendPubrel(int packetId) {
        }

        @Override
        public void requestFlush() {
        }

        @Override
        public int maxInflight() {
            return 1;
        }

        @Override
        public boolean socketBackedUp() {
            return false;
        }

        @Override
        public boolean clientConsuming() {
            return true;
        }

        @Override
        public void closeByServer(int reasonCode, String why) {
        }

        @Override
        public void refuseSession(String why) {
            LOG.warn("Bridge {}: local session not available: {}", settings.name(), why);
        }

        @Override
        public ConnectionInfo info() {
            return new ConnectionInfo("bridge", settings.name(), settings.localUsername(), 5,
                    System.currentTimeMillis(), settings.maxInflight(), 0, "internal", null, 0, 0, 0, 0);
        }
    }
}
