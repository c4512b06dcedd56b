package io.ternmq.broker.admin;

import io.ternmq.broker.cluster.NodeQueries;
import io.ternmq.broker.config.ListenerConfig;
import io.ternmq.broker.service.BrokerService;
import io.ternmq.broker.service.BrokerService.ActiveTopic;
import io.ternmq.broker.session.ConnectionInfo;
import io.ternmq.broker.session.SessionInfo;
import io.ternmq.broker.transport.MqttServer;

import java.io.Serializable;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * This node's answers for the operations listings, {@code topics}, {@code slow-subscribers}, {@code alarms} and
 * {@code listeners}: to its own admin API and, in a cluster, to the other nodes' ({@link ClusterListings} serves
 * them under those names). None waits: topics read the retained index and the subscriptions, slow subscribers ask
 * the sessions' loops and complete later, alarms and listeners read counters.
 */
final class NodeOperations {
    /** A page of one node's topics, as {@code GET topics} asks each node. */
    record TopicsQuery(String after, String like, int limit) implements Serializable {
    }

    /** A page of one node's slow subscribers, as {@code GET slow-subscribers} asks each node. */
    record SlowQuery(String after, int limit) implements Serializable {
    }

    private final BrokerService service;
    private final Alarms alarms;
    private volatile Listening listening = new Listening(null, List.of());

    private record Listening(MqttServer server, List<InetSocketAddress> bound) {
    }

    NodeOperations(BrokerService service, Alarms alarms) {
        this.service = service;
        this.alarms = alarms;
    }

    /** This node answers the other nodes' operations questions from now on. */
    void serve(NodeQueries queries) {
        queries.serve("topics", arg -> CompletableFuture.completedFuture(topics((TopicsQuery) arg)));
        queries.serve("slow-subscribers", arg -> slowSubscribers((SlowQuery) arg).thenApply(ArrayList::new));
        queries.serve("alarms", arg -> CompletableFuture.completedFuture(alarms()));
        queries.serve("listeners", arg -> CompletableFuture.completedFuture(listeners()));
    }

    Alarms alarmChecks() {
        return alarms;
    }

    /** The MQTT listeners are bound: listed, and their certificates watched, from now on. Any thread. */
    void listenersStarted(MqttServer server, List<InetSocketAddress> bound) {
        listening = new Listening(server, List.copyOf(bound));
        alarms.listenersStarted(server, bound);
    }

    /** This node's topics in use, in order: with its retained messages (every node's) and its sessions' filters. */
    ArrayList<ActiveTopic> topics(TopicsQuery q) {
        return new ArrayList<>(service.topics(q.after(), q.like(), q.limit()));
    }

    /** A page of this node's sessions that do not keep up ({@link #slowReasons}), in client id order. */
    CompletionStage<List<SessionInfo>> slowSubscribers(SlowQuery q) {
        return service.sessions(q.after(), s -> true, s -> !slowReasons(s).isEmpty(), q.limit());
    }

    /**
     * Why a session does not keep up: messages queued behind its in-flight window, the window full
     * (acknowledgements not coming), a socket unwritable (the client stopped reading); empty if it keeps up.
     */
    static List<String> slowReasons(SessionInfo s) {
        List<String> why = new ArrayList<>(3);
        if (s.queued() > 0) {
            why.add("queued");
        }
        ConnectionInfo c = s.connection();
        if (c != null && c.maxInflight() > 0 && s.inflight() >= c.maxInflight()) {
            why.add("inflight_full");
        }
        if (c != null && c.unwritableMillis() > 0) {
            why.add("unwritable");
        }
        return why;
    }

    /** This node's alarms that hold now. */
    ArrayList<Alarms.Alarm> alarms() {
        return new ArrayList<>(alarms.check());
    }

    /**
     * This node's MQTT listeners, each with its address (port 0 resolved), transport, TLS certificate expiry and open
     * connections; empty until they are bound (the admin listener opens first).
     */
    ArrayList<LinkedHashMap<String, Object>> listeners() {
        Listening now = listening;
        ArrayList<LinkedHashMap<String, Object>> out = new ArrayList<>();
        MqttServer s = now.server();
        if (s == null) {
            return out;
        }
        for (int i = 0; i < now.bound().size(); i++) {
            ListenerConfig l = s.listener(i);
            LinkedHashMap<String, Object> m = new LinkedHashMap<>();
            m.put("address", l.bindAddress());
            m.put("port", now.bound().get(i).getPort());
            m.put("transport", l.transport().name().toLowerCase(Locale.ROOT));
            if (l.isWebSocket()) {
                m.put("websocketPath", l.webSocket().path());
            }
            m.put("proxyProtocol", l.proxyProtocol() == 0 ? null : l.proxyProtocol());
            m.put("maxConnections", l.maxConnections() < 0 ? null : l.maxConnections());
            m.put("connections", s.connections(i));
            if (l.isTls()) {
                Instant expiry = s.certificateExpiry(i);
                m.put("certificateExpiry", expiry == null ? null : expiry.toString());
            }
            out.add(m);
        }
        return out;
    }
}
