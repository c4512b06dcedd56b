package io.ternmq.broker.admin;

import io.ternmq.broker.cluster.NodeQueries;
import io.ternmq.broker.config.ListenerConfig;
import io.ternmq.broker.metrics.TopicMetrics;
import io.ternmq.broker.service.BrokerService;
import io.ternmq.broker.service.BrokerService.ActiveTopic;
import io.ternmq.broker.session.ConnectionInfo;
import io.ternmq.broker.session.SessionInfo;
import io.ternmq.broker.trace.Trace;
import io.ternmq.broker.trace.TraceEvent;
import io.ternmq.broker.transport.MqttServer;

import java.io.Serializable;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * This node's answers for the operations listings, {@code topics}, {@code slow-subscribers}, {@code alarms},
 * {@code listeners}, {@code topic-metrics} and {@code traces} (with a trace's events): to its own admin API and, in a cluster, to the other nodes' ({@link ClusterListings} serves
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

    /** One node's counts for a registered topic filter, as {@code GET topic-metrics} asks each node. */
    record TopicCounts(String filter, long registeredAtMillis, long messagesIn, long bytesIn, long messagesOut,
                       long bytesOut) implements Serializable {
    }

    /**
     * A trace's events recorded on each node, as its download and live view ask: those numbered after
     * {@code after}'s number for the node answering (none: from the first), at most {@code max}.
     */
    record TraceQuery(String id, HashMap<String, Long> after, int max) implements Serializable {
    }

    /**
     * What one node recorded of a trace: how many events in all (its ring keeps the last {@link Trace#MAX_EVENTS}),
     * whether it still records, and the events asked for, oldest first.
     */
    record TraceEvents(long recorded, boolean running, ArrayList<TraceEvent> events) implements Serializable {
    }

    private final BrokerService service;
    private final Alarms alarms;
    private final String nodeId;
    private volatile Listening listening = new Listening(null, List.of());

    private record Listening(MqttServer server, List<InetSocketAddress> bound) {
    }

    NodeOperations(BrokerService service, Alarms alarms, String nodeId) {
        this.service = service;
        this.alarms = alarms;
        this.nodeId = nodeId;
    }

    /** This node answers the other nodes' operations questions from now on. */
    void serve(NodeQueries queries) {
        queries.serve("topics", arg -> CompletableFuture.completedFuture(topics((TopicsQuery) arg)));
        queries.serve("slow-subscribers", arg -> slowSubscribers((SlowQuery) arg).thenApply(ArrayList::new));
        queries.serve("alarms", arg -> CompletableFuture.completedFuture(alarms()));
        queries.serve("listeners", arg -> CompletableFuture.completedFuture(listeners()));
        queries.serve("topic-metrics", arg -> CompletableFuture.completedFuture(topicCounts()));
        queries.serve("traces", arg -> CompletableFuture.completedFuture(traceCounts()));
        queries.serve("trace-events", arg -> CompletableFuture.completedFuture(traceEvents((TraceQuery) arg)));
    }

    /** This node's counts for each registered topic filter, in registration order. */
    ArrayList<TopicCounts> topicCounts() {
        ArrayList<TopicCounts> out = new ArrayList<>();
        for (TopicMetrics.Counts c : service.topicMetrics().registered()) {
            out.add(new TopicCounts(c.filter(), c.registeredAtMillis(), c.messagesIn(), c.bytesIn(), c.messagesOut(),
                    c.bytesOut()));
        }
        return out;
    }

    /** How many events this node recorded for each trace it keeps (every node keeps the cluster's traces). */
    LinkedHashMap<String, Long> traceCounts() {
        LinkedHashMap<String, Long> out = new LinkedHashMap<>();
        for (Trace t : service.traces().list()) {
            out.put(t.id(), t.recorded());
        }
        return out;
    }

    /** What this node recorded of a trace; null if it keeps none of that id. */
    TraceEvents traceEvents(TraceQuery q) {
        Trace t = service.traces().get(q.id());
        if (t == null) {
            return null;
        }
        boolean running = !t.stopped(); // before the events: a stopped trace's events are all there
        return new TraceEvents(t.recorded(), running,
                new ArrayList<>(t.eventsAfter(q.after().getOrDefault(nodeId, 0L), q.max())));
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
