package io.ternmq.broker.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.MessageIdentity;
import io.ternmq.broker.message.MessageCodec;
import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.routing.TopicMatch;
import io.ternmq.broker.store.QueueEntry;
import io.ternmq.broker.store.ReplicatedSession;
import io.ternmq.broker.store.StoredEntry;
import io.ternmq.codec.QoS;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * QoS 1/2 messages forwarded to a node that left the cluster before confirming them (orphans), and how they still
 * reach its sessions. A publisher's PUBACK/PUBREC waits until the node holding each subscriber's session confirms
 * that it stored (and replicated) its copy ({@link PeerLink#forwardHeld}); a node that dies first leaves some
 * unconfirmed. Its persistent sessions are adopted by survivors from their replicas ({@link SessionAdoption}), and
 * each replica remembers, per sending stream, the last forwarded id its queue took (a forward mark). So:
 * <ol>
 *   <li>every survivor sends what it had not had confirmed by the dead node to every other member (and keeps it
 *   itself), then an end mark, even with none;</li>
 *   <li>a survivor adopting one of the dead node's sessions first waits for the end marks of every member (at most
 *   {@link #WAIT_SECONDS}), then adds to its queue, in each sender's order, the orphans that match its subscriptions
 *   and lie beyond its forward mark: those its copy lacks, and nothing it had already;</li>
 *   <li>the sender acknowledges its publishers once every other member keeps the orphans (a member that leaves
 *   meanwhile counts as done).</li>
 * </ol>
 * The dead node's routes stay on every member until its sessions are adopted (the directory names no session of
 * it, then {@link DeadNodeRoutes#GRACE_SECONDS} more, or at most {@link DeadNodeRoutes#KEPT_SECONDS}): QoS 1/2 messages published
 * meanwhile for its sessions are orphans too, sent to the members as they come; an adopter gives those that come
 * after an adoption to the adopted session at once, unless the sender says it forwarded the message to the adopter
 * as well (the adopted session, routed there, had it then). What each member keeps of a dead node goes after
 * {@link #KEEP_SECONDS}.
 */
final class OrphanedForwards {
    private static final Logger LOG = LoggerFactory.getLogger(OrphanedForwards.class);
    /** How long an adoption waits for the other members' orphans of the dead node. */
    static final long WAIT_SECONDS = 10;
    /** How long the orphans of a dead node are kept for adoptions (later ones: CONNECTs of its clients). */
    static final long KEEP_SECONDS = 600;
    /** What this needs of the node it runs on ({@link ClusterNode}; a test's stand-in). */
    interface Node {
        String nodeId();

        /** The other members now. */
        Set<String> memberIds();

        boolean isMember(String id);

        /** A member's node, or null. */
        RemoteNode member(String id);

        /** Sends a frame on the link to {@code to}; false (released) if that link does not take it. */
        boolean send(String to, ByteBuf frame);

        /** Runs {@code task} after {@code seconds}, on no particular thread. */
        void later(Runnable task, long seconds);

        /** Whether the node is stopping. */
        boolean isClosing();
    }

    private final Node cluster;
    private final io.ternmq.broker.routing.Router router;
    private final BrokerMetrics metrics;
    /** Dead nodes' routes, kept until their sessions are adopted. */
    private final DeadNodeRoutes routes;
    /**
     * What this node has of each dead node's orphans, by the membership id of the run that died (a node restarted on
     * its data keeps its node id; what is left of its earlier run's death must not be taken for its next one's).
     */
    private final Map<String, DeadNode> dead = new ConcurrentHashMap<>();
    /** Node id to the membership id of its last run that died here. */
    private final Map<String, String> runs = new ConcurrentHashMap<>();
    /** Orphans this node sent, by batch: who has yet to keep them, and whom that releases. */
    private final Map<Long, Sent> sent = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong batches = new java.util.concurrent.atomic.AtomicLong();
    /** Adopted sessions made here that may still get orphans, for {@link #noting}. */
    private final Map<io.ternmq.broker.session.Session, List<AdoptedOrphans>> watched = new ConcurrentHashMap<>();
    /**
     * How long an adopted session's forwards are noted: the dead node's routes stay at most
     * {@link DeadNodeRoutes#KEPT_SECONDS} on any member, and its orphans follow its forwards closely.
     */
    static final long WATCH_SECONDS = DeadNodeRoutes.KEPT_SECONDS + 30;
    /** At most this many forwards noted per adopted session: those whose orphan never comes go first. */
    static final int MAX_FORWARDED = 10_000;
    /** Per dead run: what was routed to it before its link handed over what it held. */
    private final Map<String, LinkHandover> handovers = new ConcurrentHashMap<>();

    /** @param routes where dead nodes' routes are kept (null: not kept, in a test) */
    OrphanedForwards(Node cluster, DeadNodeRoutes routes, io.ternmq.broker.routing.Router router,
                     BrokerMetrics metrics) {
        this.cluster = cluster;
        this.routes = routes;
        this.router = router;
        this.metrics = metrics;
    }

    // ------------------------------------------------------------------ this node as a sender

    /**
     * A member left (the membership's thread, before its link is closed and its sessions are adopted): from now on
     * adoptions of its sessions wait for the orphans of every member there is, this one included.
     */
    void nodeLeft(String deadId, String run, RemoteNode node) {
        runs.put(deadId, run);
        handovers.putIfAbsent(run, new LinkHandover());
        if (node != null && routes != null) {
            routes.keep(deadId, node);
        }
        Set<String> senders = new HashSet<>(cluster.memberIds());
        senders.add(cluster.nodeId());
        DeadNode d = dead.computeIfAbsent(run, k -> new DeadNode()); // or made by the others' first orphans
        d.expect(senders);
        cluster.later(() -> {
            dead.remove(run, d);
            runs.remove(deadId, run);
            handovers.remove(run);
        }, KEEP_SECONDS);
        // earlier dead nodes' adoptions stop waiting for this one; what it was sent it keeps no more
        for (Map.Entry<String, DeadNode> e : dead.entrySet()) {
            check(e.getKey(), e.getValue());
        }
        for (Map.Entry<Long, Sent> e : sent.entrySet()) {
            e.getValue().settledBy(deadId);
            if (e.getValue().done()) {
                settle(e.getKey(), e.getValue());
            }
        }
    }

    /**
     * A node (re)joined, its link queued (the membership's thread): it is told the run of it this node saw die, after
     * the orphans this node keeps of that run (every sender's), so that, restarted on its data, it adopts that run's
     * sessions with them, as a survivor would ({@link RestoredSessions#register}); none if this node saw
     * no run of it die. The routes kept of the earlier run stay until the new run says it holds those sessions and
     * every node routes them to it ({@link #runReady}): meanwhile what is published for them is orphaned as before,
     * and reaches them either way.
     */
    void nodeJoined(String id) {
        String run = runs.get(id);
        DeadNode d = run == null ? null : dead.get(run);
        int count = 0;
        if (d != null) {
            List<ByteBuf> frames = new ArrayList<>();
            synchronized (d) {
                for (Map.Entry<Long, TreeMap<Long, Message>> stream : d.byStream.entrySet()) {
                    for (Map.Entry<Long, Message> e : stream.getValue().entrySet()) {
                        frames.add(orphanFrame(run, stream.getKey(), e.getKey(), e.getValue(), false));
                    }
                }
            }
            for (ByteBuf f : frames) {
                cluster.send(id, f);
            }
            count = frames.size();
            ByteBuf end = LinkFrame.start(ByteBufAllocator.DEFAULT, LinkFrame.ORPHANS_END, 16 + run.length());
            LinkFrame.writeString(end, run);
            cluster.send(id, LinkFrame.finish(end.writeLong(0).writeLong(0).writeInt(count)));
        }
        String named = run == null ? "" : run;
        ByteBuf earlier = LinkFrame.start(ByteBufAllocator.DEFAULT, LinkFrame.EARLIER_RUN, 4 + named.length());
        LinkFrame.writeString(earlier, named);
        cluster.send(id, LinkFrame.finish(earlier));
        if (LOG.isDebugEnabled()) {
            LOG.debug("node {} joined: told it of its earlier run {} ({} orphans)", id, named, count);
        }
    }

    /** {@code from} adopted its earlier run's sessions (or had none to adopt): that run's kept routes go. */
    void runReady(String from) {
        if (routes != null) {
            routes.nodeJoined(from);
        }
    }

    /** Tells every member that this node holds its earlier run's sessions and every node routes them here. */
    void announceRunReady() {
        for (String member : cluster.memberIds()) {
            cluster.send(member, LinkFrame.finish(LinkFrame.start(ByteBufAllocator.DEFAULT, LinkFrame.RUN_READY, 0)));
        }
    }

    /** Members' answers to this node's joining: member to the run of this node it saw die ("" for none). */
    private final Map<String, String> earlierRuns = new java.util.HashMap<>();

    /** A member told this node which run of it died there ("" for none), after that run's orphans. */
    void earlierRun(String from, String run) {
        if (!run.isEmpty()) {
            String self = cluster.nodeId();
            runs.put(self, run);
            DeadNode d = dead.computeIfAbsent(run, k -> new DeadNode());
            d.addSender(from); // its orphans and their end came before, on the same link
            cluster.later(() -> {
                dead.remove(run, d);
                runs.remove(self, run);
            }, KEEP_SECONDS);
            check(run, d);
        }
        synchronized (earlierRuns) {
            earlierRuns.put(from, run);
            earlierRuns.notifyAll();
        }
    }

    /**
     * Blocks (at start, not on a loop) until each of {@code peers} said which run of this node it saw die, at most
     * {@code seconds}.
     *
     * @return that run (its orphans are here), or null if none did
     */
    String awaitEarlierRun(java.util.Collection<String> peers, long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(seconds);
        synchronized (earlierRuns) {
            while (!earlierRuns.keySet().containsAll(peers)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    java.util.Set<String> silent = new HashSet<>(peers);
                    silent.removeAll(earlierRuns.keySet());
                    LOG.warn("cluster: nodes {} did not say within {} s whether an earlier run of this node died",
                            silent, seconds);
                    break;
                }
                java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(earlierRuns, left);
            }
            return earlierRuns.values().stream().anyMatch(r -> !r.isEmpty()) ? runs.get(cluster.nodeId()) : null;
        }
    }

    /** Ids of messages for a dead node that never reached its link: above any its link gave. */
    private static final long LATE_IDS = Long.MAX_VALUE / 2;
    private final java.util.concurrent.atomic.AtomicLong lateIds = new java.util.concurrent.atomic.AtomicLong(LATE_IDS);

    /**
     * A QoS 1/2 message routed to a dead node whose routes are still kept (its sessions are being adopted), on the
     * publisher's loop: to the members, in the publisher's order, behind what this node's link to the dead node held.
     * The link closes on its own loop a little after the death is known: until it has handed over what it held, later
     * messages wait here, or an adopter could take them (and the sender's end mark) before the earlier ones.
     */
    void orphanedNow(String deadId, String deadRun, long stream, Message m, Runnable held) {
        PeerLink.HeldForward h = new PeerLink.HeldForward(io.netty.buffer.Unpooled.EMPTY_BUFFER, m, held);
        h.id = lateIds.incrementAndGet();
        // the run the copy was routed to: a QoS 2 copy leaves once its packet id is durable, which may be after that
        // run died and the node came back and died again (a chaos run lost 48 messages filed under the later run,
        // whose sessions were adopted nowhere, while the earlier run's adopter waited for them)
        String run = deadRun != null ? deadRun : runs.getOrDefault(deadId, deadId);
        LinkHandover handover = handovers.get(run);
        if (handover == null) {
            send(deadId, run, stream, List.of(h), false);
            return;
        }
        synchronized (handover) {
            if (handover.done) {
                send(deadId, run, stream, List.of(h), false); // under the lock: after what waited
            } else {
                handover.later.add(h);
            }
        }
    }

    /**
     * The link to {@code deadId} is closed for good (its loop): what it never confirmed (in the order sent) goes to
     * every other member and is kept here, followed by what was routed to the dead node meanwhile. Called with none
     * too, so that adopters know this node has nothing.
     */
    void orphaned(String deadId, String deadRun, long stream, List<PeerLink.HeldForward> held) {
        String run = deadRun != null ? deadRun : runs.getOrDefault(deadId, deadId);
        LinkHandover handover = handovers.get(run);
        if (handover == null) {
            orphanedHeld(deadId, run, stream, held);
            return;
        }
        synchronized (handover) {
            List<PeerLink.HeldForward> all = held;
            if (!handover.done) {
                handover.done = true;
                all = new ArrayList<>(held);
                all.addAll(handover.later);
                handover.later.clear();
            }
            orphanedHeld(deadId, run, stream, all);
        }
    }

    private void orphanedHeld(String deadId, String run, long stream, List<PeerLink.HeldForward> held) {
        if (cluster.isMember(deadId) || cluster.isClosing()) {
            for (PeerLink.HeldForward h : held) { // this node is stopping: its publishers are gone with it
                h.frame.release();
            }
            return;
        }
        send(deadId, run, stream, held, true);
    }

    /** @param run the membership id of the dead node's run, which the frames and the records here go by */
    private void send(String deadNode, String run, long stream, List<PeerLink.HeldForward> held, boolean log) {
        String deadId = run;
        Set<String> to = cluster.memberIds();
        long key = batches.incrementAndGet();
        Sent s = new Sent(to, held);
        sent.put(key, s); // before sending: an acknowledgement may come back at once
        for (String member : to) {
            RemoteNode m = cluster.member(member);
            for (PeerLink.HeldForward h : held) {
                // a message published after the death may have gone to that member too, for its own sessions
                boolean there = m != null && h.held instanceof io.ternmq.broker.routing.Router.NodeCopies copies
                        && copies.wentTo(m);
                cluster.send(member, orphanFrame(deadId, stream, h, there));
            }
            ByteBuf end = LinkFrame.start(ByteBufAllocator.DEFAULT, LinkFrame.ORPHANS_END, 16 + deadId.length());
            LinkFrame.writeString(end, deadId);
            cluster.send(member, LinkFrame.finish(end.writeLong(stream).writeLong(key).writeInt(held.size())));
        }
        for (PeerLink.HeldForward h : held) {
            // published here after the death, it reached the sessions routed here already: those it went to
            received(cluster.nodeId(), deadId, stream, h.id, h.message, false,
                    h.held instanceof io.ternmq.broker.routing.Router.NodeCopies copies ? copies : null);
            h.frame.release();
        }
        ended(cluster.nodeId(), deadId, key, held.size());
        metrics.forwardsOrphaned.add(held.size());
        if (log && !held.isEmpty()) {
            LOG.info("cluster: {} QoS 1/2 messages forwarded to node {} were not confirmed before it left; given to "
                    + "the members that adopt its sessions", held.size(), deadNode);
        }
        for (String member : to) {
            if (!cluster.isMember(member)) {
                s.settledBy(member); // left while this was sent
            }
        }
        if (s.done()) {
            settle(key, s);
        }
    }

    private static ByteBuf orphanFrame(String deadId, long stream, PeerLink.HeldForward h, boolean forwardedThere) {
        return orphanFrame(deadId, stream, h.id, h.message, forwardedThere);
    }

    private static ByteBuf orphanFrame(String deadId, long stream, long id, Message m, boolean forwardedThere) {
        ByteBuf f = LinkFrame.start(ByteBufAllocator.DEFAULT, LinkFrame.ORPHAN,
                96 + deadId.length() + m.topic().length() + m.payload().length);
        LinkFrame.writeString(f, deadId);
        f.writeLong(stream).writeLong(id).writeBoolean(forwardedThere);
        MessageCodec.write(m, f);
        return LinkFrame.finish(f);
    }

    /** A member keeps the orphans of {@code deadId} this node sent it in {@code batch}. */
    void acknowledged(String from, String deadId, long batch) {
        Long key = batch;
        Sent s = sent.get(key);
        if (s != null) {
            s.settledBy(from);
            if (s.done()) {
                settle(key, s);
            }
        }
    }

    /** Every member keeps the orphans (or left): their publishers are told. */
    private void settle(Long key, Sent s) {
        if (sent.remove(key, s)) {
            for (PeerLink.HeldForward h : s.held) {
                h.held.run();
            }
        }
    }

    // ------------------------------------------------------------------ this node as a possible adopter

    /** An orphan of {@code deadId} that {@code from} (or this node) had forwarded as {@code id} of {@code stream}. */
    void received(String from, String deadId, long stream, long id, Message m, boolean routedHere) {
        received(from, deadId, stream, id, m, routedHere, null);
    }

    /** @param local for a message published here, where it went; else null */
    private void received(String from, String deadId, long stream, long id, Message m, boolean routedHere,
                          io.ternmq.broker.routing.Router.NodeCopies local) {
        DeadNode d = dead.computeIfAbsent(deadId, k -> new DeadNode());
        List<Runnable> late = new ArrayList<>(0);
        synchronized (d) {
            d.byStream.computeIfAbsent(stream, k -> new TreeMap<>()).put(id, m);
            if (LOG.isDebugEnabled()) {
                LOG.debug("orphan {} of {} from {} ({}/{}, routed here {}, {} adopted here)", text(m), deadId, from,
                        stream, id, routedHere || local != null, d.adopted.size());
            }
            long now = System.currentTimeMillis();
            for (AdoptedOrphans a : d.adopted) {
                Delivery delivery = a.offer(stream, id, m, local, now);
                if (delivery != null) {
                    late.add(() -> a.give(router, stream, id, delivery, othersOf(a)));
                    if (LOG.isDebugEnabled()) {
                        LOG.debug("orphan {} of {} from {} ({}/{}): given to adopted {}", text(m), deadId, from,
                                stream, id, a.clientId);
                    }
                }
            }
        }
        late.forEach(Runnable::run);
    }

    /** {@code from} sent every orphan of {@code deadId} it had in {@code batch} (numbered by the sender). */
    void ended(String from, String deadId, long batch, int count) {
        DeadNode d = dead.computeIfAbsent(deadId, k -> new DeadNode());
        synchronized (d) {
            d.ended.add(from);
        }
        if (!from.equals(cluster.nodeId())) {
            ByteBuf ack = LinkFrame.start(ByteBufAllocator.DEFAULT, LinkFrame.ORPHANS_ACK, 16 + deadId.length());
            LinkFrame.writeString(ack, deadId);
            cluster.send(from, LinkFrame.finish(ack.writeLong(batch)));
        }
        check(deadId, d);
    }

    /** The membership id of the last run of node {@code nodeId} that this node saw die (else the node id). */
    String runOf(String nodeId) {
        return runs.getOrDefault(nodeId, nodeId);
    }

    /** What this node has of the last death of the node {@code deadId} (its node id), or null. */
    private DeadNode lastDeath(String deadId) {
        String run = runs.get(deadId);
        return run == null ? null : dead.get(run);
    }

    /**
     * Whether {@code target} is an adopted session whose replica held the QoS 2 message {@code m} that its publisher
     * sent again after its node, the dead run {@code deadId}, died: the replica of the publisher's session and that of
     * each subscriber's are written apart, so the dead node may have made the packet id durable without every
     * subscriber's copy. What the replica held travels with the session when it moves on
     * ({@link io.ternmq.broker.session.Adoption}). A session adopted from another run counts only if its replica
     * named {@code m}: it may have come from {@code deadId} through an adopter that died too (a chaos run gave a
     * message twice so), and what its own replica did not name it may lack.
     */
    boolean hadFromReplica(String deadId, io.ternmq.broker.routing.DeliveryTarget target, Message m) {
        if (!(target instanceof io.ternmq.broker.session.Session s)) {
            return false;
        }
        io.ternmq.broker.session.Adoption a = s.adoption();
        if (a == null) {
            return false;
        }
        return deadId.equals(a.deadRun()) ? a.held(m, System.currentTimeMillis()) : a.named(m);
    }

    /**
     * Whether {@code target} is an adopted session here that was given {@code m} as an orphan: a resend of it (its
     * publisher's node died before its PUBREC) is not for it (a chaos run stored one both ways, 1.4 s apart).
     */
    boolean gaveAsOrphan(io.ternmq.broker.routing.DeliveryTarget target, Message m) {
        if (!(target instanceof io.ternmq.broker.session.Session s)) {
            return false;
        }
        List<AdoptedOrphans> records = watched.get(s);
        if (records == null) {
            return false;
        }
        MessageIdentity k = MessageIdentity.of(m);
        for (AdoptedOrphans a : records) {
            if (a.gave(k)) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code target} is a session adopted from the dead run {@code deadId} (here, or before it moved here). */
    static boolean adoptedFrom(String deadId, io.ternmq.broker.routing.DeliveryTarget target) {
        if (!(target instanceof io.ternmq.broker.session.Session s)) {
            return false;
        }
        io.ternmq.broker.session.Adoption a = s.adoption();
        return a != null && deadId.equals(a.deadRun());
    }

    /**
     * Completes once every member has sent its orphans of {@code deadId} (or {@link #WAIT_SECONDS} passed), on no
     * particular thread; at once for a node whose leaving this node has no record of.
     */
    CompletionStage<Void> whenAllSent(String deadId) {
        DeadNode d = lastDeath(deadId);
        if (d == null) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> f = new CompletableFuture<>();
        synchronized (d) {
            d.waiting.add(f);
        }
        check(deadId, d);
        cluster.later(() -> {
            if (!f.isDone()) {
                LOG.warn("cluster: adopting sessions of node {} without the orphans of members {} (none came in {} s)",
                        deadId, d.missing(cluster), WAIT_SECONDS);
                f.complete(null);
            }
        }, WAIT_SECONDS);
        return f;
    }

    private void check(String deadId, DeadNode d) {
        List<CompletableFuture<Void>> ready;
        synchronized (d) {
            if (d.senders == null || !d.missing(cluster).isEmpty()) {
                return;
            }
            ready = new ArrayList<>(d.waiting);
            d.waiting.clear();
        }
        ready.forEach(f -> f.complete(null));
    }

    /**
     * The orphans of {@code deadId} that the adopted session {@code clientId} lacks, as queue entries after its
     * last: those matching its subscriptions beyond its forward mark of their stream, in each stream's order.
     */
    AdoptedOrphans entriesFor(String deadId, String clientId, ReplicatedSession.Import in) {
        DeadNode d = lastDeath(deadId);
        if (d == null) {
            return null;
        }
        List<StoredEntry> entries = in.entries();
        long seq = entries.isEmpty() ? 1 : entries.get(entries.size() - 1).entry().seq() + 1;
        long now = System.currentTimeMillis();
        AdoptedOrphans a = new AdoptedOrphans(clientId, in.subscriptions(), in.forwardMarks(), held(in));
        a.run = runs.get(deadId);
        synchronized (d) {
            d.adopted.add(a);
            for (Map.Entry<Long, TreeMap<Long, Message>> stream : d.byStream.entrySet()) {
                long mark = in.forwardMarks().getOrDefault(stream.getKey(), 0L);
                for (Map.Entry<Long, Message> e : stream.getValue().tailMap(mark, false).entrySet()) {
                    a.account(stream.getKey(), e.getKey()); // in its queue, or not for it: later holders skip it
                    Delivery delivery = a.hadIt(e.getValue()) ? null
                            : deliveryFor(e.getValue(), clientId, a.subs, a.filters, now);
                    if (delivery != null) {
                        if (LOG.isDebugEnabled()) {
                            LOG.debug("adopting {} of {}: orphan {} ({}/{}, mark {}) imported", clientId, deadId,
                                    text(e.getValue()), stream.getKey(), e.getKey(), mark);
                        }
                        a.entries.add(new StoredEntry(new QueueEntry(seq++, 0, delivery.qos(), delivery.retain(),
                                delivery.subscriptionIds(), "", false, e.getValue().payload().length),
                                e.getValue()));
                        a.imported(e.getValue());
                    }
                }
            }
        }
        return a;
    }

    /** What a session's replica held: its queue's messages and the latest QoS 2 messages that left it. */
    private static Set<MessageIdentity> held(ReplicatedSession.Import in) {
        Set<MessageIdentity> out = new HashSet<>(in.completedQos2());
        for (StoredEntry e : in.entries()) {
            out.add(MessageIdentity.of(e.message()));
        }
        return out;
    }

    /**
     * The session {@code clientId} adopted from the dead node {@code deadId} had been adopted before, by that node or
     * one before it, from other dead runs, whose late orphans may still come (its replica names them, with what its
     * holders accounted for): a record per such run, its orphans here that the session lacks waiting to be given
     * once it is made ({@link #made}).
     */
    List<AdoptedOrphans> earlierRuns(String deadId, String clientId, ReplicatedSession.Import in) {
        List<AdoptedOrphans> out = new ArrayList<>();
        String latest = runs.get(deadId);
        long now = System.currentTimeMillis();
        Set<MessageIdentity> had = in.orphans().isEmpty() ? Set.of() : held(in);
        for (Map.Entry<String, Map<Long, Set<Long>>> run : in.orphans().entrySet()) {
            if (run.getKey().equals(latest)) {
                continue;
            }
            AdoptedOrphans a = new AdoptedOrphans(clientId, in.subscriptions(), in.forwardMarks(), had);
            a.run = run.getKey();
            run.getValue().forEach((stream, ids) -> ids.forEach(id -> a.account(stream, id)));
            DeadNode d = dead.computeIfAbsent(run.getKey(), k -> new DeadNode());
            int lacking = 0;
            synchronized (d) {
                d.adopted.add(a);
                for (Map.Entry<Long, TreeMap<Long, Message>> stream : d.byStream.entrySet()) {
                    for (Map.Entry<Long, Message> e : stream.getValue().entrySet()) {
                        Delivery delivery = a.offer(stream.getKey(), e.getKey(), e.getValue(), null, now);
                        if (delivery != null) {
                            a.give(router, stream.getKey(), e.getKey(), delivery, List.of()); // kept until made
                            lacking++;
                        }
                    }
                }
            }
            out.add(a);
            if (LOG.isDebugEnabled()) {
                LOG.debug("adopting {} of {}: it was adopted from run {} before; {} of that run's orphans here lacking",
                        clientId, deadId, run.getKey(), lacking);
            }
        }
        return out;
    }

    /** The start of a message's payload, for debug lines. */
    static String text(Message m) {
        return m.topic() + " " + new String(m.payload(), 0, Math.min(40, m.payload().length),
                java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    /** One message as the session's subscriptions take it (as routing would), or null if they do not. */
    static Delivery deliveryFor(Message m, String clientId, List<Subscription> subs, List<String[]> filters,
                                        long now) {
        if (m.isExpired(now)) {
            return null;
        }
        QoS qos = null;
        boolean retain = false;
        List<Integer> ids = null;
        for (int i = 0; i < subs.size(); i++) {
            Subscription s = subs.get(i);
            if (!TopicMatch.matches(filters.get(i), m.topic()) || (s.noLocal() && clientId.equals(m.publisherId()))) {
                continue;
            }
            QoS q = QoS.min(m.qos(), s.qos());
            qos = qos == null || q.value() > qos.value() ? q : qos;
            retain |= m.retain() && s.retainAsPublished();
            if (s.subscriptionId() != 0) {
                ids = ids == null ? new ArrayList<>(1) : ids;
                ids.add(s.subscriptionId());
            }
        }
        if (qos == null || qos == QoS.AT_MOST_ONCE) {
            return null; // not for it, or not kept for it
        }
        int[] subscriptionIds = ids == null ? new int[0] : ids.stream().mapToInt(Integer::intValue).toArray();
        return new Delivery(m, qos, retain, subscriptionIds);
    }


    /** The records of the other dead runs of {@code a}'s session here (none while it is not made). */
    private List<AdoptedOrphans> othersOf(AdoptedOrphans a) {
        io.ternmq.broker.session.Session s = a.session();
        return s == null ? List.of() : watched.getOrDefault(s, List.of());
    }

    private void watch(io.ternmq.broker.session.Session s, AdoptedOrphans a) {
        watched.computeIfAbsent(s, k -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(a);
        cluster.later(() -> watched.computeIfPresent(s, (k, list) -> {
            list.remove(a);
            return list.isEmpty() ? null : list;
        }), WATCH_SECONDS);
    }

    /** The record of {@code s} for the dead run it was last adopted from, or null. */
    private AdoptedOrphans primary(io.ternmq.broker.session.Session s) {
        List<AdoptedOrphans> list = watched.get(s);
        if (list == null) {
            return null;
        }
        io.ternmq.broker.session.Adoption adoption = s.adoption();
        for (AdoptedOrphans a : list) {
            if (adoption != null ? adoption.deadRun().equals(a.run) : list.size() == 1) {
                return a;
            }
        }
        return null;
    }

    /**
     * The adopted session {@code s} moves on from this node (its loop; its routes here are gone): what its orphans
     * here accounted for, for the next holder; null if this node cannot tell (not adopted, long ago, or it moves on
     * before the node it came from told this one).
     */
    AccountedOrphans handedOn(io.ternmq.broker.session.Session s) {
        AdoptedOrphans a = primary(s);
        for (AdoptedOrphans other : watched.getOrDefault(s, List.of())) {
            if (other != a) {
                other.handOn(); // an earlier dead run's: its later orphans are lost to the session (docs/cluster.md)
            }
        }
        if (a == null) {
            return null;
        }
        AccountedOrphans out = a.handOn();
        if (out == null) {
            return null;
        }
        if (LOG.isDebugEnabled()) {
            LOG.debug("adopted {} moves on: {} orphans accounted for, {} routed notes", a.clientId,
                    out.ids().values().stream().mapToInt(x -> x.length).sum(), out.routed().size());
        }
        return out;
    }

    /**
     * An adopted session moved here from another node, imported ({@code s}; before it is routed here): it takes the
     * late orphans of the run it was adopted from, once the former holder says which it accounted for
     * ({@link #takeOver}). Meanwhile what routing gives it is noted, as at its adopter.
     */
    void movedHere(io.ternmq.broker.session.Session s, io.ternmq.broker.session.SessionSnapshot snapshot,
                   io.ternmq.broker.session.LocalSessionRegistry local) {
        io.ternmq.broker.session.Adoption adoption = snapshot.adoption();
        if (adoption == null) {
            return;
        }
        AdoptedOrphans a = new AdoptedOrphans(s.clientId(), snapshot.subscriptions(), Map.of());
        a.awaiting = true;
        a.run = adoption.deadRun();
        a.local = local;
        a.session = s;
        a.early = null;
        DeadNode d = dead.computeIfAbsent(adoption.deadRun(), k -> new DeadNode());
        synchronized (d) {
            d.adopted.add(a);
        }
        watch(s, a);
    }

    /**
     * The former holder of the adopted session {@code s} carried everything ({@code from}: what it accounted for of
     * the dead run's orphans, or null if it kept no record): the orphans here it did not account for go to the
     * session now (in each stream's order, after what it carried and what waited here), and later ones as they come.
     * The session's loop.
     */
    void takeOver(io.ternmq.broker.session.Session s, AccountedOrphans from) {
        AdoptedOrphans a = primary(s);
        if (a == null || a.run == null) {
            return;
        }
        DeadNode d = dead.get(a.run);
        if (d == null) {
            return;
        }
        long now = System.currentTimeMillis();
        int given = 0;
        synchronized (d) {
            synchronized (a) {
                if (!a.awaiting) {
                    return;
                }
                a.awaiting = false;
                if (from == null) {
                    // nobody says which orphans the session has: none is given here rather than some twice
                    a.handedOn = true;
                    LOG.debug("adopted {} moved here without a record of its orphans", a.clientId);
                    return;
                }
                a.inherit(from);
                a.record(); // in its replica here: should this node die too, its adopter goes on from there
                for (Map.Entry<Long, TreeMap<Long, Message>> stream : d.byStream.entrySet()) {
                    for (Map.Entry<Long, Message> e : stream.getValue().entrySet()) {
                        Delivery delivery = a.offer(stream.getKey(), e.getKey(), e.getValue(), null, now);
                        if (delivery != null) {
                            // under the dead node's lock: an orphan coming meanwhile goes after these
                            a.give(router, stream.getKey(), e.getKey(), delivery, othersOf(a));
                            given++;
                            if (LOG.isDebugEnabled()) {
                                LOG.debug("orphan {} of {} ({}/{}): given to adopted {}, moved here",
                                        text(e.getValue()), a.run, stream.getKey(), e.getKey(), a.clientId);
                            }
                        }
                    }
                }
            }
        }
        if (given > 0) {
            LOG.info("cluster: {} late QoS 1/2 messages of dead node run {} given to the session of client '{}', "
                    + "which moved here", given, a.run, a.clientId);
        }
    }

    /**
     * A session of this node's earlier run that died, restored from this node's store because its replica is
     * missing (nobody could adopt it): the orphans of that run the members kept that match its subscriptions and are
     * not in its queue ({@code queued}) go to it now, and later ones as they come. Those routed to the run after it
     * died never reached it; one forwarded to it before may have, and been delivered since (then it comes twice, as
     * a QoS 1 resend would: its replica's forward mark, which would tell, is what is missing). The session's loop.
     *
     * @return how many were given now
     */
    int restoredWithoutReplica(io.ternmq.broker.session.Session s, List<StoredEntry> queued,
                               io.ternmq.broker.session.LocalSessionRegistry local) {
        DeadNode d = lastDeath(cluster.nodeId());
        if (d == null) {
            return 0;
        }
        Set<MessageIdentity> have = new HashSet<>();
        for (StoredEntry e : queued) {
            have.add(MessageIdentity.of(e.message()));
        }
        AdoptedOrphans a = new AdoptedOrphans(s.clientId(), s.subscriptions(), Map.of(), have);
        a.run = runs.get(cluster.nodeId());
        long now = System.currentTimeMillis();
        int given = 0;
        synchronized (d) {
            d.adopted.add(a); // from here, those that come are offered to it (kept early until it is made)
            for (Map.Entry<Long, TreeMap<Long, Message>> stream : d.byStream.entrySet()) {
                for (Map.Entry<Long, Message> e : stream.getValue().entrySet()) {
                    a.account(stream.getKey(), e.getKey());
                    if (a.hadIt(e.getValue())) {
                        continue; // forwarded before the crash, and stored
                    }
                    Delivery delivery = deliveryFor(e.getValue(), s.clientId(), a.subs, a.filters, now);
                    if (delivery != null) {
                        synchronized (a) {
                            a.early.add(delivery);
                        }
                        given++;
                        if (LOG.isDebugEnabled()) {
                            LOG.debug("restored {} without a replica: orphan {} ({}/{}) given", s.clientId(),
                                    text(e.getValue()), stream.getKey(), e.getKey());
                        }
                    }
                }
            }
        }
        made(a, s, local);
        return given;
    }

    /**
     * The adopted session {@code s} is made here ({@code a} is what it was imported with): orphans that came meanwhile
     * go to it, and, while more may come, what routing gives it of the messages forwarded here is noted, so that the
     * orphan of such a message, which comes after its forward, does not give it again.
     */
    void made(AdoptedOrphans a, io.ternmq.broker.session.Session s, io.ternmq.broker.session.LocalSessionRegistry local) {
        watch(s, a);
        a.made(s, router, local, watched.getOrDefault(s, List.of()));
        synchronized (a) {
            a.record(); // in its replica: should this node die too, its adopter goes on from there
        }
    }

    /** Whether some adopted session here may still get orphans (then {@link #noting} is worth its cost). */
    boolean watching() {
        return !watched.isEmpty();
    }

    /**
     * A filter for routing {@code m}, forwarded by another node, that lets every target through and notes which
     * adopted sessions still awaiting orphans it reached (one note per session, however many subscriptions match).
     */
    java.util.function.Predicate<io.ternmq.broker.routing.DeliveryTarget> noting(Message m) {
        return new java.util.function.Predicate<>() {
            private List<AdoptedOrphans> last;

            @Override
            public boolean test(io.ternmq.broker.routing.DeliveryTarget t) {
                List<AdoptedOrphans> list = t instanceof io.ternmq.broker.session.Session s ? watched.get(s) : null;
                if (list != null && list != last) {
                    last = list; // a target's subscriptions are visited together
                    for (AdoptedOrphans a : list) {
                        a.forwarded(m);
                    }
                    if (LOG.isDebugEnabled()) {
                        LOG.debug("forward {} routed to adopted {}", text(m), list.get(0).clientId);
                    }
                }
                return true;
            }
        };
    }

    /** What this node has of one dead node. Guarded by itself. */
    private static final class DeadNode {
        /** The members (this node included) that send their orphans; null until this node saw it leave. */
        private Set<String> senders;
        private final Set<String> ended = new HashSet<>();
        /** Stream to id to message, streams in arrival order. */
        private final Map<Long, TreeMap<Long, Message>> byStream = new LinkedHashMap<>();
        private final List<CompletableFuture<Void>> waiting = new ArrayList<>();
        private final List<AdoptedOrphans> adopted = new ArrayList<>();

        synchronized void expect(Set<String> members) {
            senders = members;
        }

        /** One more member that sends its orphans (to a node restarted on its data, of its earlier run). */
        synchronized void addSender(String member) {
            if (senders == null) {
                senders = new HashSet<>();
            }
            senders.add(member);
        }

        /** Senders that have not ended and are still members (or this node). */
        synchronized Set<String> missing(Node cluster) {
            Set<String> out = new HashSet<>();
            if (senders != null) {
                for (String s : senders) {
                    if (!ended.contains(s) && (s.equals(cluster.nodeId()) || cluster.isMember(s))) {
                        out.add(s);
                    }
                }
            }
            return out;
        }
    }

    /** A dead run's link before and after it handed over what it held. Guarded by itself. */
    private static final class LinkHandover {
        private boolean done;
        private final List<PeerLink.HeldForward> later = new ArrayList<>();
    }

    /** Orphans this node sent: the members yet to keep them. */
    private static final class Sent {
        private final Set<String> pending;
        private final List<PeerLink.HeldForward> held;

        Sent(Set<String> to, List<PeerLink.HeldForward> held) {
            this.pending = ConcurrentHashMap.newKeySet();
            this.pending.addAll(to);
            this.held = held;
        }

        void settledBy(String member) {
            pending.remove(member);
        }

        boolean done() {
            return pending.isEmpty();
        }
    }
}
