package io.ternmq.broker.admin;

import io.ternmq.broker.cluster.NodeQueries;
import io.ternmq.broker.cluster.SharedSets;
import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.metrics.BuildInfo;
import io.ternmq.broker.service.BrokerCounts;
import io.ternmq.broker.service.BrokerService;
import io.ternmq.broker.session.Session;
import io.ternmq.broker.session.SessionInfo;
import io.ternmq.broker.transport.MqttServer;

import java.io.Serializable;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * What the admin API lists, across every node of the cluster: this node's answers to the questions other nodes ask
 * it (its report, counts, a page of its clients, one client, a kick), and the routes' listings built from every
 * node's answers ({@link NodeQueries}, once the cluster has started). On a single node, or before the cluster has
 * started, this node's only. Each node has {@link #ANSWER_MILLIS} to answer; one that does not is named in the
 * answer, which holds what the others said.
 */
public final class ClusterListings {
    /** How long a listing waits for each node's answer. */
    static final long ANSWER_MILLIS = 2000;
    /** The counts of {@code /status} that add up across nodes; the others (version, retained, ...) are this node's. */
    static final Set<String> SUMMED_STATUS = Set.of("connections", "clientsConnected", "sessions", "sessionsOnline",
            "subscriptions", "queuedMessages", "inflightMessages");

    /** A page of one node's clients, as {@code GET clients} asks each node. */
    record ClientsQuery(String after, String like, String username, String ip, Boolean connected, int limit)
            implements Serializable {
    }

    /** A page of one node's subscriptions, as {@code GET subscriptions} asks each node. */
    record SubscriptionsQuery(String afterClientId, String afterFilter, String like, int limit)
            implements Serializable {
    }

    /** A subscription added by the admin API, carried to the node holding the client. */
    record SubscribeRequest(String clientId, Subscription subscription) implements Serializable {
    }

    /** A subscription removed by the admin API, carried to the node holding the client. */
    record UnsubscribeRequest(String clientId, String filter) implements Serializable {
    }

    /** A kick carried to the node holding the client. */
    record KickRequest(String clientId, int reasonCode, String why, boolean publishWill, boolean endSession)
            implements Serializable {
    }

    /** One row of a listing, with the node it comes from. */
    record Located<T>(String nodeId, T value) {
    }

    private final BrokerService service;
    private final BrokerMetrics metrics;
    private final NodeOperations operations;
    private final ClusterRegistrations registrations;
    private final String nodeId;
    private final Supplier<List<String>> mqttAddresses;
    private final Supplier<String> adminAddress;
    private final long startNanos = System.nanoTime();
    /** The message counts at the previous report, for its rates; under this object's monitor. */
    private long sampledAtNanos;
    private long sampledIn;
    private long sampledOut;
    private volatile NodeQueries cluster;
    /** The admin listener's loop, where merging and writing an answer happen (not on an MQTT loop); null: none. */
    private volatile Executor adminLoop;

    /**
     * @param nodeId        this node's id (its data directory's)
     * @param mqttAddresses where its MQTT listeners listen, "host:port" (empty until they do)
     * @param adminAddress  where its admin listener listens, or null
     * @param maxConnections {@code max_connections} (negative: no cap), for the connections alarm
     */
    public ClusterListings(BrokerService service, BrokerMetrics metrics, String nodeId,
                           Supplier<List<String>> mqttAddresses, Supplier<String> adminAddress, int maxConnections) {
        this.service = service;
        this.metrics = metrics;
        this.operations = new NodeOperations(service, new Alarms(metrics, maxConnections), nodeId);
        this.registrations = new ClusterRegistrations(service.topicMetrics(), service.traces());
        this.nodeId = nodeId;
        this.mqttAddresses = mqttAddresses;
        this.adminAddress = adminAddress;
    }

    /**
     * The cluster has started: this node answers the others from now on, the listings ask every node, and this node
     * keeps the cluster's topic-metric registrations and traces ({@code shared}; read now, so not on an event loop).
     */
    public void clusterStarted(NodeQueries queries, SharedSets shared) {
        registrations.clusterStarted(shared);
        queries.serve("node", arg -> CompletableFuture.completedFuture(report()));
        queries.serve("status", arg -> CompletableFuture.completedFuture(status()));
        queries.serve("stats", arg -> CompletableFuture.completedFuture(stats()));
        queries.serve("clients", arg -> localClients((ClientsQuery) arg).thenApply(ArrayList::new));
        queries.serve("client", arg -> service.session((String) arg));
        queries.serve("subscription-page", arg -> localSubscriptions((SubscriptionsQuery) arg)
                .thenApply(ArrayList::new));
        queries.serve("subscriptions", arg -> {
            String id = (String) arg;
            return service.session(id).thenCompose(s -> s == null ? CompletableFuture.completedFuture(null)
                    : service.subscriptions(id).thenApply(ArrayList::new));
        });
        queries.serve("subscribe", arg -> {
            SubscribeRequest r = (SubscribeRequest) arg;
            return service.subscribe(r.clientId(), List.of(r.subscription()))
                    .thenApply(found -> found ? Boolean.TRUE : null);
        });
        queries.serve("unsubscribe", arg -> {
            UnsubscribeRequest r = (UnsubscribeRequest) arg;
            return service.unsubscribe(r.clientId(), List.of(r.filter()))
                    .thenApply(had -> had == null ? null : new ArrayList<>(had));
        });
        queries.serve("kick", arg -> {
            KickRequest k = (KickRequest) arg;
            return service.kick(k.clientId(), k.reasonCode(), k.why(), k.publishWill(), k.endSession());
        });
        operations.serve(queries);
        this.cluster = queries;
    }

    /** The MQTT listeners are bound: the listeners listing and the certificate alarms see them from now on. */
    public void listenersStarted(MqttServer server, List<InetSocketAddress> bound) {
        operations.listenersStarted(server, bound);
    }

    /** This node's answers for topics, slow subscribers, alarms and listeners. */
    NodeOperations operations() {
        return operations;
    }

    /** Topic-metric registrations and traces, made on every node. */
    ClusterRegistrations registrations() {
        return registrations;
    }

    /** The admin listener is up: the listings' answers are merged and written on its loop. */
    void answerOn(Executor loop) {
        this.adminLoop = loop;
    }

    /** The stage, continued on the admin loop: the answers of this node's sessions complete on MQTT event loops. */
    <T> CompletionStage<T> onAdminLoop(CompletionStage<T> stage) {
        Executor loop = adminLoop;
        return loop == null ? stage : stage.thenApplyAsync(v -> v, loop);
    }

    String nodeId() {
        return nodeId;
    }

    boolean clustered() {
        return cluster != null;
    }

    // ------------------------------------------------------------------ this node's answers

    /** This node for {@code GET nodes}: who and where it is, its counts and its message rates. */
    LinkedHashMap<String, Object> report() {
        LinkedHashMap<String, Object> m = new LinkedHashMap<>();
        m.put("node", nodeId);
        m.put("mqtt", new ArrayList<>(mqttAddresses.get()));
        m.put("admin", adminAddress.get());
        m.put("version", BuildInfo.version());
        m.put("uptimeSeconds", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNanos));
        Map<String, Object> s = status();
        for (String k : List.of("connections", "sessions", "sessionsOnline", "subscriptions", "retained",
                "queuedMessages")) {
            m.put(k, s.get(k));
        }
        long in = metrics.publishesReceived.sum();
        long out = metrics.publishesSent.sum();
        m.put("messagesIn", in);
        m.put("messagesOut", out);
        long now = System.nanoTime();
        synchronized (this) {
            double seconds = (now - sampledAtNanos) / 1e9;
            boolean sampled = sampledAtNanos != 0 && seconds >= 1;
            m.put("messagesInPerSecond", sampled ? Math.round((in - sampledIn) / seconds * 10) / 10.0 : null);
            m.put("messagesOutPerSecond", sampled ? Math.round((out - sampledOut) / seconds * 10) / 10.0 : null);
            if (sampledAtNanos == 0 || seconds >= 1) {
                sampledAtNanos = now;
                sampledIn = in;
                sampledOut = out;
            }
        }
        return m;
    }

    /** This node's {@code GET status}. */
    LinkedHashMap<String, Object> status() {
        BrokerCounts c = service.counts();
        LinkedHashMap<String, Object> m = new LinkedHashMap<>();
        m.put("version", BuildInfo.version());
        m.put("commit", BuildInfo.commit());
        m.put("uptimeSeconds", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNanos));
        m.put("connections", metrics.connectionsOpen.get());
        m.put("clientsConnected", metrics.clientsConnected.get());
        m.put("clientsMaximum", metrics.clientsMaximum.get());
        m.put("sessions", c.sessions());
        m.put("sessionsOnline", c.sessionsOnline());
        m.put("subscriptions", c.subscriptions() - otherNodesRoutes());
        m.put("sharedSubscriptions", c.sharedSubscriptions());
        m.put("retained", c.retainedMessages());
        m.put("retainedBytes", c.retainedBytes());
        m.put("queuedMessages", c.queuedMessages());
        m.put("inflightMessages", c.inflightMessages());
        return m;
    }

    /** In a cluster, each filter another node announced is one subscription in this node's table: not its own. */
    private long otherNodesRoutes() {
        NodeQueries q = cluster;
        if (q == null) {
            return 0;
        }
        long routes = 0;
        for (String id : q.members()) {
            NodeQueries.PeerState p = q.peer(id);
            if (p != null) {
                routes += p.routes();
            }
        }
        return routes;
    }

    /** This node's {@code GET stats}: its counters since it started. */
    LinkedHashMap<String, Object> stats() {
        BrokerMetrics m = metrics;
        LinkedHashMap<String, Object> s = new LinkedHashMap<>();
        s.put("connectionsAccepted", m.connectionsAccepted.sum());
        s.put("connectsAccepted", m.connectsAccepted.sum());
        s.put("connectsRefused", m.connectsRefused.sum());
        s.put("bytesReceived", m.bytesReceived.sum());
        s.put("bytesSent", m.bytesSent.sum());
        s.put("publishesReceived", m.publishesReceived.sum());
        s.put("publishesSent", m.publishesSent.sum());
        s.put("publishBytesReceived", m.publishBytesReceived.sum());
        s.put("publishBytesSent", m.publishBytesSent.sum());
        s.put("authSucceeded", m.authSucceeded.sum());
        s.put("authFailed", m.authFailed.sum());
        s.put("willsPublished", m.willsPublished.sum());
        s.put("sessionsExpired", m.sessionsExpired.sum());
        s.put("sessionTakeovers", m.sessionTakeovers.sum());
        s.put("keepAliveTimeouts", m.keepAliveTimeouts.sum());
        s.put("protocolViolations", m.protocolViolations.sum());
        s.put("serverDisconnects", m.serverDisconnects.sum());
        LinkedHashMap<String, Object> dropped = new LinkedHashMap<>();
        dropped.put("queueFull", m.queueOverflowDrops.sum());
        dropped.put("expired", m.expiredMessages.sum());
        dropped.put("oversized", m.oversizedDrops.sum());
        dropped.put("offlineQos0", m.offlineQos0Drops.sum());
        dropped.put("slowConsumer", m.slowConsumerDrops.sum());
        s.put("dropped", dropped);
        LinkedHashMap<String, Object> denied = new LinkedHashMap<>();
        denied.put("publish", m.publishesDenied.sum());
        denied.put("subscribe", m.subscriptionsDenied.sum());
        denied.put("deliver", m.deliveriesDenied.sum());
        s.put("denied", denied);
        return s;
    }

    /** A page of this node's sessions, in client id order. */
    CompletionStage<List<SessionInfo>> localClients(ClientsQuery q) {
        String like = q.like();
        Boolean connected = q.connected();
        String username = q.username();
        String ip = q.ip();
        // checked on every session without asking its loop; the state filter below checks again, consistently
        Predicate<Session> sessionFilter = s -> (like == null || s.clientId().contains(like))
                && (connected == null || connected == s.isOnline());
        Predicate<SessionInfo> filter = s -> (connected == null || connected == (s.connection() != null))
                && (username == null || (s.connection() != null && username.equals(s.connection().username())))
                && (ip == null || (s.connection() != null
                && ip.equals(ClientJson.host(s.connection().remoteAddress()))));
        return service.sessions(q.after(), sessionFilter, filter, q.limit());
    }

    /** A page of this node's sessions' subscriptions, in client id then filter order. */
    CompletionStage<List<BrokerService.ClientSubscription>> localSubscriptions(SubscriptionsQuery q) {
        return service.subscriptions(q.afterClientId(), q.afterFilter(), q.like(), q.limit());
    }

    // ------------------------------------------------------------------ across the cluster

    /** The members' node ids now, in id order (on a single node: this node's). */
    List<String> nodes() {
        NodeQueries q = cluster;
        return q == null ? List.of(nodeId) : q.members();
    }

    /** Whether a node of that id is a member now (on a single node: this node). */
    boolean isNode(String node) {
        NodeQueries q = cluster;
        return q == null ? node.equals(nodeId) : q.members().contains(node);
    }

    /**
     * Asks every node (only this one on a single node); {@code local} is this node's answer, made here without a
     * detour through Hazelcast.
     */
    <T> CompletionStage<List<NodeQueries.Answer<T>>> everyNode(String question, Serializable argument,
                                                              Supplier<CompletionStage<T>> local) {
        NodeQueries q = cluster;
        if (q == null) {
            return onAdminLoop(local.get().thenApply(v -> List.of(new NodeQueries.Answer<>(nodeId, v, null))));
        }
        return onAdminLoop(q.askAll(question, argument, ANSWER_MILLIS));
    }

    /**
     * Asks every node, or only {@code node} if it is not null (404 if it is no member): the answers in node id order.
     */
    <T> CompletionStage<List<NodeQueries.Answer<T>>> listed(String node, String question, Serializable argument,
                                                           Supplier<CompletionStage<T>> local) {
        if (node == null) {
            return everyNode(question, argument, local);
        }
        if (!isNode(node)) {
            throw AdminException.notFound("no node '" + node + "' in the cluster");
        }
        return this.<T>oneNode(node, question, argument, local).thenApply(List::of);
    }

    /** Asks one node (this one: {@code local}). */
    <T> CompletionStage<NodeQueries.Answer<T>> oneNode(String node, String question, Serializable argument,
                                                      Supplier<CompletionStage<T>> local) {
        NodeQueries q = cluster;
        if (q == null || node.equals(nodeId)) {
            if (!node.equals(nodeId)) {
                return CompletableFuture.completedFuture(new NodeQueries.Answer<>(node, null, "no such node"));
            }
            return onAdminLoop(local.get().thenApply(v -> new NodeQueries.Answer<>(nodeId, v, null)));
        }
        return onAdminLoop(q.ask(node, question, argument, ANSWER_MILLIS));
    }

    /** How this node sees another one, for {@code GET nodes}; null for this node or on a single node. */
    NodeQueries.PeerState peer(String node) {
        NodeQueries q = cluster;
        return q == null ? null : q.peer(node);
    }

    /**
     * A client wherever it is: this node's session if it holds one, else the node the session directory names is
     * asked {@code question}. Completes with null if no node holds it; an answer with an error if its node did not
     * answer.
     */
    <T> CompletionStage<NodeQueries.Answer<T>> locate(String clientId, String question, Serializable argument,
                                                     Supplier<CompletionStage<T>> local) {
        return onAdminLoop(local.get().thenCompose(v -> {
            NodeQueries q = cluster;
            if (v != null || q == null) {
                return CompletableFuture.completedFuture(v == null ? null : new NodeQueries.Answer<>(nodeId, v, null));
            }
            return q.holder(clientId).thenCompose(holder -> {
                if (holder == null || holder.equals(nodeId)) {
                    return CompletableFuture.completedFuture(null);
                }
                return q.<T>ask(holder, question, argument, ANSWER_MILLIS)
                        .thenApply(a -> a.answered() && a.value() == null ? null : a);
            });
        }));
    }

    /** One client's subscriptions, on the node that holds it. */
    CompletionStage<NodeQueries.Answer<List<Subscription>>> subscriptions(String clientId) {
        return locate(clientId, "subscriptions", clientId, () -> service.session(clientId)
                .thenCompose(s -> s == null ? CompletableFuture.completedFuture(null)
                        : service.subscriptions(clientId)));
    }
}
