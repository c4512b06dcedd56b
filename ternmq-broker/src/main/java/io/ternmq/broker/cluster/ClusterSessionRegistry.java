package io.ternmq.broker.cluster;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.session.LocalSessionRegistry;
import io.ternmq.broker.session.Session;
import io.ternmq.broker.session.SessionConnection;
import io.ternmq.broker.session.SessionHandover;
import io.ternmq.broker.session.SessionRegistry;
import io.ternmq.broker.session.SessionRequest;
import io.ternmq.broker.session.SessionSnapshot;
import io.ternmq.broker.store.StoredEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Sessions that follow their clients across the cluster. Every CONNECT claims the client id in the
 * {@link SessionDirectory} (a new fencing generation); if another node holds the session, that node is asked over
 * the data link to hand it over: it closes its connection (0x8E) and sends the session's state and stored queue,
 * which this node stores in its own store, routes here, and commits in the directory with its claim's generation
 * before the CONNACK (Session Present 1); then the other node drops its copy. Of concurrent CONNECTs only the
 * latest claim can commit; a holder that is not a member refuses the CONNECT (0x88) rather than giving out an empty
 * session. The sessions themselves live in the {@link LocalSessionRegistry}.
 *
 * <p>Threading: a CONNECT's steps run on its connection's loop (directory answers are moved there); handover frames
 * arrive on the data link's loop and are moved to the loop of the connection they serve, or into the session's inbox.
 */
public final class ClusterSessionRegistry implements SessionRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterSessionRegistry.class);
    /** How long a claimant waits for the holder's next handover frame before refusing the CONNECT. */
    static final long HANDOVER_TIMEOUT_SECONDS = 10;
    /**
     * How long the fence of a claim that found no session here is kept: longer than a directory call may take
     * (Hazelcast's invocation timeout, 120 s), so an older claim's answer can no longer arrive.
     */
    static final long FENCE_KEPT_SECONDS = 180;
    /** How long carried messages are still taken after a session moved here. */
    private static final long CARRY_SECONDS = 60;

    private record Key(String clientId, long generation) {
    }

    private final LocalSessionRegistry local;
    private final BrokerMetrics metrics;
    private final SessionAdoption adoption;
    private final RestoredSessions restored;
    private final Map<Key, Incoming> incoming = new ConcurrentHashMap<>();
    /**
     * Per client id, the latest claim generation this node acted on. A local attach and a handover request of one
     * client id are decided under it, atomically, so that a request for a later claim always finds the session an
     * earlier claim made here (and takes it over), and an earlier claim arriving late is refused.
     */
    private final ConcurrentHashMap<String, Long> fences = new ConcurrentHashMap<>();
    private volatile ClusterNode node;
    private volatile ConnectionWills wills;
    /** Why this node does not serve now (it sees fewer members than cluster.min_members), or null while it does. */
    private volatile String notServing = "this node has not joined its cluster";
    /** Why this node serves no more until it is restarted (it merged back after being declared dead), or null. */
    private String mergedBack;
    /** The nodes that left while this node did not serve: their sessions are adopted once it serves again. */
    private final java.util.Set<String> leftUnadopted = new java.util.HashSet<>();
    /**
     * Whether this node may adopt the sessions of members that left: not while it sees fewer than cluster.min_members
     * members, nor once it merged back after being declared dead (the side that serves adopts them). Unlike
     * {@link #notServing}, true while this node is still joining.
     */
    private volatile boolean mayAdopt = true;

    /** @param loops hands out the event loops adopted sessions live on (as restored ones do) */
    public ClusterSessionRegistry(LocalSessionRegistry local, BrokerMetrics metrics,
                                  java.util.function.Supplier<EventExecutor> loops) {
        this.local = local;
        this.metrics = metrics;
        this.adoption = new SessionAdoption(local, metrics, loops, () -> mayAdopt);
        this.restored = new RestoredSessions(local, adoption);
        local.onSessionEnded(this::ended);
    }

    /** The cluster is joined: CONNECTs may come. */
    void bind(ClusterNode node, SessionReplicas replicas, ConnectionWills wills) {
        adoption.bind(node, replicas, wills);
        this.wills = wills;
        this.node = node;
    }

    /**
     * A member left: the persistent sessions it held are adopted (its will with them), unless this node sees fewer
     * than {@code minMembers} members: then the other side, which serves, adopts them; this node does if it serves
     * again first (a node came back to it).
     */
    synchronized void nodeLeft(String nodeId, int members, int minMembers) {
        if (members < minMembers || mergedBack != null) {
            leftUnadopted.add(nodeId);
            return;
        }
        adoption.nodeLeft(nodeId);
    }

    void closeAdoption() {
        adoption.close();
    }

    /** The sessions this node restored from its store, as it joins. */
    RestoredSessions restored() {
        return restored;
    }


    /**
     * The membership changed (Hazelcast's event thread): with fewer than {@code minMembers} this node stops serving
     * (split-brain protection): its clients are disconnected (MQTT 5: 0x9C Use another server), new CONNECTs are
     * refused (0x88 / 3.x 0x03); it serves again once it sees enough members.
     */
    synchronized void quorum(int members, int minMembers) {
        if (mergedBack != null) {
            return;
        }
        boolean serving = members >= minMembers;
        mayAdopt = serving;
        if (serving) {
            if (notServing != null) {
                LOG.info("cluster: serving: {} members, cluster.min_members is {}", members, minMembers);
            }
            notServing = null;
            // those that left meanwhile and are still gone: the other side may have adopted some (adoption is
            // atomic per session in the directory), the rest are adopted here
            leftUnadopted.forEach(adoption::nodeLeft);
            leftUnadopted.clear();
            return;
        }
        stopServing("this node sees " + members + " cluster members, fewer than cluster.min_members (" + minMembers
                + ")");
    }

    /**
     * This node was cut off long enough for the others to declare it dead (they adopted its sessions and published
     * its clients' wills) and is merging back into their cluster: it serves nobody until it is restarted on its
     * data, which settles each of its sessions as a node restarting after a crash does.
     */
    synchronized void mergingBack(String why) {
        mergedBack = why;
        mayAdopt = false;
        stopServing(why);
    }

    private void stopServing(String why) {
        boolean wasServing = notServing == null;
        notServing = why;
        if (wasServing) {
            LOG.warn("cluster: not serving: {}", why);
            for (Session s : local.all()) {
                s.submit(() -> s.disconnect(io.ternmq.codec.ReasonCode.USE_ANOTHER_SERVER, why));
            }
        }
    }

    @Override
    public void connect(SessionRequest request, EventExecutor loop, SessionConnection connection) {
        ClusterNode n = node;
        String refused = notServing;
        if (n == null || refused != null) {
            loop.execute(() -> connection.refuseSession(refused != null ? refused
                    : "this node has not joined its cluster"));
            return;
        }
        n.directory().claim(request.clientId(), n.nodeId(), request.expiryInterval() != 0)
                .whenCompleteAsync((claim, failure) -> {
                    if (failure != null) {
                        connection.refuseSession("the session directory did not answer: " + failure);
                    } else if (request.expiryInterval() == 0 && request.will() != null && wills != null) {
                        // no replica holds this session's will: it is kept apart, before the CONNACK, for a
                        // survivor to publish if this node dies while the client is connected
                        wills.record(request.clientId(), n.nodeId(), claim.after().generation(), request.will())
                                .whenCompleteAsync((done, notKept) -> {
                                    if (notKept != null) {
                                        connection.refuseSession("the will could not be replicated: " + notKept);
                                    } else {
                                        claimed(n, request, loop, connection, claim);
                                    }
                                }, loop);
                    } else {
                        claimed(n, request, loop, connection, claim);
                    }
                }, loop);
    }

    private void claimed(ClusterNode n, SessionRequest request, EventExecutor loop, SessionConnection connection,
                         SessionDirectory.Claim claim) {
        DirectoryEntry before = claim.before();
        long generation = claim.after().generation();
        String id = request.clientId();
        if (before == null || before.holder().equals(n.nodeId())) {
            connectHere(request, loop, connection, generation);
            return;
        }
        Session left = local.get(id);
        if (left != null && left.fence() < generation && fences.getOrDefault(id, 0L) < generation) {
            // from before the other node had it; one a later claim attached here meanwhile stays (a connect here
            // sets the fence at once, the session's own fence on its loop)
            local.discardStale(left);
        }
        if (!n.isMember(before.holder())) {
            if (!before.persistent() || request.cleanStart()) {
                // nothing to lose: its session ended with its connection, or the client asks for a fresh one
                commitFresh(n, request, loop, connection, generation);
            } else {
                // its node died: adopted here (then this CONNECT claims again and resumes it), unless another node
                // adopts it first, or its replica is missing; then refused, never given an empty session
                String dead = before.holder();
                adoption.adopt(id, dead).whenCompleteAsync((adopted, failure) -> {
                    if (Boolean.TRUE.equals(adopted)) {
                        connect(request, loop, connection);
                    } else {
                        connection.refuseSession("its session was held by node " + dead + ", which is not a member "
                                + "now; the session is being adopted by another node, or has no replica");
                    }
                }, loop);
            }
            return;
        }
        Incoming in = new Incoming(n, request, loop, connection, generation, before.holder());
        incoming.put(in.key, in);
        in.touch();
        if (!n.send(before.holder(), new HandoverFrame.Request(generation, id, request.cleanStart()))) {
            in.fail("the data link to node " + before.holder() + " is not taking frames");
        }
    }

    /** Nothing is handed over: this node holds the client id from now on, with a fresh session. */
    private void commitFresh(ClusterNode n, SessionRequest request, EventExecutor loop, SessionConnection connection,
                             long generation) {
        n.directory().commit(request.clientId(), generation, n.nodeId(), request.expiryInterval() != 0)
                .whenCompleteAsync((entry, failure) -> {
                    if (failure != null || entry == null) {
                        connection.refuseSession(failure != null ? "the session directory did not answer: "
                                + failure : "a later CONNECT of this client id elsewhere took the session");
                    } else {
                        connectHere(request, loop, connection, generation);
                    }
                }, loop);
    }

    /** The session is (or is to be) here: attach, unless a later claim of the client id was acted on already. */
    private void connectHere(SessionRequest request, EventExecutor loop, SessionConnection connection,
                             long generation) {
        if (!underFence(request.clientId(), generation,
                () -> local.connect(request, loop, connection, generation))) {
            connection.refuseSession("a later CONNECT of this client id elsewhere took the session");
        }
    }

    /** Runs {@code action} atomically with the other claims of the client id here, if {@code generation} is the latest. */
    private boolean underFence(String clientId, long generation, Runnable action) {
        boolean[] latest = new boolean[1];
        fences.compute(clientId, (k, seen) -> {
            if (seen != null && seen >= generation) {
                return seen;
            }
            latest[0] = true;
            action.run();
            return generation;
        });
        return latest[0];
    }

    /** A handover frame from node {@code from}; the link's loop. */
    void received(String from, HandoverFrame frame) {
        ClusterNode n = node;
        if (n == null) {
            return;
        }
        if (frame instanceof HandoverFrame.Request r) {
            // a session this node is adopting is handed over once it is here, never answered "nothing" before
            adoption.afterAdoption(r.clientId(), () -> requested(n, from, r));
        } else if (frame instanceof HandoverFrame.Done d) {
            local.handedOver(d.clientId(), d.generation(), then -> n.routes().whenPeersHaveAll(then), s -> {
                // late orphans of the dead run it was adopted from are the new holder's from now on: it is told
                // which this node gave it
                AccountedOrphans accounted = n.orphans().handedOn(s);
                return () -> n.send(from, new HandoverFrame.Carried(d.generation(), d.clientId(), accounted));
            });
        } else {
            Incoming in = incoming.get(new Key(frame.clientId(), frame.generation()));
            if (in != null && in.holder.equals(from)) {
                execute(in.loop, () -> in.on(frame));
            } else if (frame instanceof HandoverFrame.Abort a) {
                // the claimant gave this handover up: the session stays here and resumes
                local.handoverAborted(a.clientId(), a.generation());
            }
        }
    }

    private void requested(ClusterNode n, String from, HandoverFrame.Request r) {
        // no session here moves for this claim, and nothing would remove its fence. It still refuses an older
        // claim's answer arriving late (which would attach a second session here while the claimant starts a
        // fresh one), so it goes only once no such answer can come; and not inside the fence's own compute,
        // where "nothing" may run
        Runnable forget = () -> n.later(() -> fences.remove(r.clientId(), r.generation()),
                FENCE_KEPT_SECONDS);
        Runnable stale = () -> {
            n.send(from, new HandoverFrame.Begin(r.generation(), r.clientId(), HandoverFrame.STALE, null));
            forget.run();
        };
        Runnable nothing = () -> {
            n.send(from, new HandoverFrame.Begin(r.generation(), r.clientId(), HandoverFrame.NOTHING, null));
            forget.run();
        };
        if (!underFence(r.clientId(), r.generation(), () -> local.handOver(r.clientId(), r.generation(),
                r.cleanStart(), new Outgoing(n, from, r.generation(), r.clientId()), nothing, stale))) {
            stale.run();
        }
    }

    private static void execute(EventExecutor loop, Runnable task) {
        try {
            loop.execute(task);
        } catch (RejectedExecutionException e) {
            // the broker is stopping
        }
    }

    /** A session ended here: the directory forgets it, unless a later claim or another node has it. */
    private void ended(Session s) {
        ClusterNode n = node;
        long held = s.holdGeneration();
        if (n != null && held > 0) {
            // a session ended by another node's claim (handed over, or Clean Start there) leaves the entry alone
            n.directory().release(s.clientId(), n.nodeId(), held);
            fences.remove(s.clientId(), s.fence());
            ConnectionWills w = wills;
            if (w != null && s.storedQueue() == null) {
                w.release(s.clientId(), n.nodeId(), held); // its will was published or discarded here
            }
        }
    }

    /** This node's side of a session it hands to node {@code to}: frames on the data link. Owner loop. */
    private record Outgoing(ClusterNode node, String to, long generation, String clientId) implements SessionHandover {
        @Override
        public boolean begin(SessionSnapshot snapshot) {
            return send(new HandoverFrame.Begin(generation, clientId, HandoverFrame.SESSION, snapshot));
        }

        @Override
        public boolean entry(StoredEntry entry) {
            return send(new HandoverFrame.Entry(generation, clientId, entry));
        }

        @Override
        public boolean end(int entries) {
            if (!send(new HandoverFrame.End(generation, clientId, entries))) {
                return false;
            }
            LOG.info("cluster: session of client '{}' handed to node {} ({} queued messages)", clientId, to, entries);
            return true;
        }

        @Override
        public boolean congested() {
            return node.congested(to);
        }

        /** A frame the link dropped ends the move here; the claimant is told, if the link takes that. */
        private boolean send(HandoverFrame f) {
            if (node.send(to, f)) {
                return true;
            }
            LOG.warn("cluster: handover of client '{}' to node {} stopped: the data link is not taking frames",
                    clientId, to);
            node.send(to, new HandoverFrame.Abort(generation, clientId));
            return false;
        }

        @Override
        public void superseded() {
            node.send(to, new HandoverFrame.Begin(generation, clientId, HandoverFrame.STALE, null));
        }

        @Override
        public boolean carry(StoredEntry e) {
            return send(new HandoverFrame.Carry(generation, clientId, new io.ternmq.broker.message.Delivery(
                    e.message(), e.entry().qos(), e.entry().retain(), e.entry().subscriptionIds(),
                    e.entry().sharedGroup().isEmpty() ? null : e.entry().sharedGroup())));
        }
    }

    /** A CONNECT here whose session another node holds: the handover as it arrives. The connection's loop. */
    private final class Incoming {
        final ClusterNode node;
        final Key key;
        final SessionRequest request;
        final EventExecutor loop;
        final SessionConnection connection;
        final long generation;
        final String holder;
        private ScheduledFuture<?> timeout;
        private SessionSnapshot snapshot;
        private List<StoredEntry> entries;
        private Session session;
        private boolean finished;

        Incoming(ClusterNode node, SessionRequest request, EventExecutor loop, SessionConnection connection,
                 long generation, String holder) {
            this.node = node;
            this.key = new Key(request.clientId(), generation);
            this.request = request;
            this.loop = loop;
            this.connection = connection;
            this.generation = generation;
            this.holder = holder;
        }

        /** The holder is heard from: the wait for its next frame starts again (until the import starts). */
        void touch() {
            if (session != null) {
                return;
            }
            if (timeout != null) {
                timeout.cancel(false);
            }
            timeout = loop.schedule(() -> fail("node " + holder + " did not hand the session over within "
                    + HANDOVER_TIMEOUT_SECONDS + " s"), HANDOVER_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }

        void on(HandoverFrame frame) {
            if (frame instanceof HandoverFrame.Carry c) {
                if (session != null) {
                    local.carry(session, c.delivery());
                }
                return;
            }
            if (frame instanceof HandoverFrame.Carried c) {
                if (session != null) {
                    local.endHold(session);
                    // after what the holder carried and what waited here: the dead run's orphans it did not give
                    node.orphans().takeOver(session, c.accounted());
                }
                return;
            }
            if (finished) {
                return;
            }
            touch();
            if (frame instanceof HandoverFrame.Begin b) {
                if (b.status() == HandoverFrame.NOTHING) {
                    finish();
                    commitFresh(node, request, loop, connection, generation);
                } else if (b.status() == HandoverFrame.STALE) {
                    fail("a later CONNECT of this client id elsewhere took the session");
                } else {
                    snapshot = b.snapshot();
                    entries = new ArrayList<>();
                }
            } else if (frame instanceof HandoverFrame.Entry e) {
                if (entries != null) {
                    entries.add(e.entry());
                }
            } else if (frame instanceof HandoverFrame.Abort) {
                fail("node " + holder + " stopped the handover");
            } else if (frame instanceof HandoverFrame.End end && entries != null && session == null) {
                if (end.entries() != entries.size()) {
                    // a frame was lost on the way: importing would leave a gap in the queue
                    fail("node " + holder + " sent " + end.entries() + " queued messages, " + entries.size()
                            + " arrived");
                    return;
                }
                List<StoredEntry> all = entries;
                entries = null;
                // from here the directory's answer to the commit decides: a timeout after the commit was sent would
                // discard a session the directory may already say is here, while the holder waits for Done forever
                timeout.cancel(false);
                session = local.importSession(key.clientId(), generation, snapshot, all, loop, this::imported);
                // before it is routed here: what routing gives it is noted against the dead run's orphans
                node.orphans().movedHere(session, snapshot, local);
            }
        }

        /** Stored and routed here (the session's loop, which is this connection's). */
        private void imported() {
            if (finished) {
                return;
            }
            List<String> filters = snapshot.subscriptions().stream().map(Subscription::filter).toList();
            // the other node drops its routes only after every node routes these filters here
            node.routes().whenPeersHave(filters, () -> execute(loop, this::commit));
        }

        private void commit() {
            if (finished) {
                return;
            }
            node.directory().commit(key.clientId(), generation, node.nodeId(), true)
                    .whenCompleteAsync((entry, failure) -> {
                        if (finished) {
                            return;
                        }
                        if (failure != null || entry == null) {
                            fail(failure != null ? "the session directory did not answer: " + failure
                                    : "a later CONNECT of this client id elsewhere took the session");
                            return;
                        }
                        finish();
                        metrics.sessionsReceived.increment();
                        LOG.info("cluster: session of client '{}' taken over from node {}", key.clientId(), holder);
                        Session s = session;
                        // the replica drops the holder's incarnation (kept while the handover could be given up)
                        // before the client may change the session here
                        s.storedQueue().held(() -> {
                            local.attachImported(s, request, connection);
                            // after what this node routed to the holder for the session before it was routed here:
                            // a QoS 2 copy leaves only once its packet id is durable, and must not overtake Done (the
                            // holder stops taking the session's messages then)
                            node.router().afterEarlierWrites(loop,
                                    () -> node.send(holder, new HandoverFrame.Done(generation, key.clientId())));
                            // the holder may die before it says it carried everything: what waits here goes on then
                            loop.schedule(() -> local.endHold(s), HANDOVER_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                        });
                    }, loop);
        }

        /** Done waiting; carried messages are still taken for a while, then this is forgotten. */
        private void finish() {
            finished = true;
            timeout.cancel(false);
            loop.schedule(() -> incoming.remove(key, this), CARRY_SECONDS, TimeUnit.SECONDS);
        }

        void fail(String why) {
            if (finished) {
                return;
            }
            finished = true;
            incoming.remove(key, this);
            timeout.cancel(false);
            LOG.info("cluster: client '{}' not taken over from node {}: {}", key.clientId(), holder, why);
            // the holder stops its move and resumes the session (if it is moving it for this claim)
            node.send(holder, new HandoverFrame.Abort(generation, key.clientId()));
            connection.refuseSession(why);
            if (session != null) {
                local.endHold(session); // what waited for it goes with it
                local.discard(session); // the holder keeps its copy: it drops it only when told this node has it
            }
        }
    }

    @Override
    public void end(Session session) {
        local.end(session);
    }

    @Override
    public Session get(String clientId) {
        return local.get(clientId);
    }

    @Override
    public Collection<Session> all() {
        return local.all();
    }

    @Override
    public int size() {
        return local.size();
    }
}
