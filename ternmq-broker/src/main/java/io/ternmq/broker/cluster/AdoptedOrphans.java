package io.ternmq.broker.cluster;

import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.MessageIdentity;
import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.store.StoredEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A session adopted from a dead node, here: what it was imported with (its orphans among its queue entries),
 * and, once it is made here, where later orphans go. It came from the dead node's replica, or from the node that
 * held it before (then it takes the orphans that node did not account for, once that node says which).
 */
final class AdoptedOrphans {
    /** The orphans' logger: {@code -Dternmq.orphans.log=DEBUG} traces these too. */
    private static final Logger LOG = LoggerFactory.getLogger(OrphanedForwards.class);

    final String clientId;
    final List<Subscription> subs;
    final List<String[]> filters;
    /** Per stream, the forward mark its replica had: orphans up to it were in the dead node's queue. */
    final Map<Long, Long> marks;
    /** The orphans it is imported with, after its own queue. */
    final List<StoredEntry> entries = new ArrayList<>();
    /** Orphans that came before it was made here. Guarded by this. */
    List<Delivery> early = new ArrayList<>();
    volatile io.ternmq.broker.session.Session session;
    io.ternmq.broker.session.LocalSessionRegistry local;
    /**
     * Messages forwarded here that routing gave the session, until their orphan comes (the sender sends a
     * message's orphans after its forward: {@link DeliveryTarget#isDeparted}), by what identifies a message on
     * both frames. Guarded by this.
     */
    final Map<MessageIdentity, Integer> forwarded = new LinkedHashMap<>();
    /**
     * Per stream, the orphans beyond its mark that its holders accounted for: given to it, in its queue, or not
     * for it. What a later holder must not give again. Guarded by this.
     */
    final Map<Long, Set<Long>> accounted = new java.util.HashMap<>();
    /** Moved on: later orphans are its next holder's. Guarded by this. */
    boolean handedOn;
    /** Moved here: which orphans are its own waits for the former holder's word (takeOver). */
    boolean awaiting;
    /** The dead run whose orphans these are. */
    String run;
    /** What the session's replica held when it was imported (see the constructor). */
    private final Set<MessageIdentity> had;
    /**
     * The messages given to the session as orphans of this run (imported with it, or given since), the latest
     * {@value #MAX_GIVEN}: one routed to two dead runs in turn (the session's node died, then its adopter) comes as an
     * orphan of each, and goes to the session once (a chaos run gave a QoS 2 message twice so). Guarded by itself
     * alone (a leaf lock: another record's is asked while this one's lock is held).
     */
    private final Set<MessageIdentity> given = new java.util.LinkedHashSet<>();
    private static final int MAX_GIVEN = 4096;

    AdoptedOrphans(String clientId, java.util.Collection<Subscription> subscriptions, Map<Long, Long> marks) {
        this(clientId, subscriptions, marks, Set.of());
    }

    /**
     * @param subscriptions the session's; its shared ones take no orphans (their groups have their own redelivery)
     * @param had           what its replica held: its queue's messages and the latest QoS 2 messages that left it.
     *                      An orphan among them is not given, whatever the records of what its holders accounted for
     *                      say (a record not yet copied when its holder died: a chaos run gave a completed QoS 2
     *                      message again so)
     */
    AdoptedOrphans(String clientId, java.util.Collection<Subscription> subscriptions, Map<Long, Long> marks,
                   Set<MessageIdentity> had) {
        this.clientId = clientId;
        this.subs = new ArrayList<>();
        this.filters = new ArrayList<>();
        for (Subscription sub : subscriptions) {
            if (!io.ternmq.codec.TopicSyntax.isSharedSubscription(sub.filter())) {
                subs.add(sub);
                filters.add(io.ternmq.broker.routing.TopicMatch.levels(sub.filter()));
            }
        }
        this.marks = new java.util.HashMap<>(marks);
        this.had = had;
    }

    /**
     * The session is made here (imported, then routed): orphans that came meanwhile go to it now, but those the
     * records of its other dead runs here ({@code others}) gave it.
     */
    void made(io.ternmq.broker.session.Session s, io.ternmq.broker.routing.Router router,
              io.ternmq.broker.session.LocalSessionRegistry local, List<AdoptedOrphans> others) {
        this.local = local;
        synchronized (this) { // those that come meanwhile (give) wait for these: in order
            session = s;
            for (Delivery d : early) {
                if (givenByOther(d.message(), others)) {
                    continue;
                }
                note(d.message());
                if (local.carried(s, d.message())) { // a copy routed to it while it holds is not stored again
                    router.deliverStored(s, d);
                }
            }
            early = null;
        }
    }

    /** Whether the session's replica held {@code m} when it was imported. */
    boolean hadIt(Message m) {
        return !had.isEmpty() && had.contains(MessageIdentity.of(m));
    }

    /** An orphan imported with the session (among its queue entries). */
    void imported(Message m) {
        note(m);
    }

    private void note(Message m) {
        synchronized (given) {
            given.add(MessageIdentity.of(m));
            if (given.size() > MAX_GIVEN) {
                given.remove(given.iterator().next());
            }
        }
    }

    boolean gave(MessageIdentity m) {
        synchronized (given) {
            return given.contains(m);
        }
    }

    /** Whether the record of another dead run of the session here gave it {@code m}. */
    private boolean givenByOther(Message m, List<AdoptedOrphans> others) {
        MessageIdentity k = null;
        for (AdoptedOrphans o : others) {
            if (o != this) {
                k = k == null ? MessageIdentity.of(m) : k;
                if (o.gave(k)) {
                    if (LOG.isDebugEnabled()) {
                        LOG.debug("orphan {} of run {}: adopted {} had it as an orphan of run {}",
                                OrphanedForwards.text(m), run, clientId, o.run);
                    }
                    return true;
                }
            }
        }
        return false;
    }

    io.ternmq.broker.session.Session session() {
        return session;
    }

    /** Routing gave the session {@code m}, forwarded by another node. */
    synchronized void forwarded(Message m) {
        if (forwarded.size() >= OrphanedForwards.MAX_FORWARDED) { // those with no orphan to come: the oldest go
            forwarded.remove(forwarded.keySet().iterator().next());
        }
        forwarded.merge(MessageIdentity.of(m), 1, Integer::sum);
    }

    /** Whether routing gave the session {@code m} when it was forwarded here (each forward answers once). */
    synchronized boolean tookForwarded(Message m) {
        MessageIdentity k = MessageIdentity.of(m);
        Integer n = forwarded.get(k);
        if (n == null) {
            return false;
        }
        if (n == 1) {
            forwarded.remove(k);
        } else {
            forwarded.put(k, n - 1);
        }
        return true;
    }

    synchronized void account(long stream, long id) {
        accounted.computeIfAbsent(stream, k -> new HashSet<>()).add(id);
    }

    /** Accounted for, and so recorded in the session's replica once the session is here. */
    void accountRecorded(long stream, long id) {
        account(stream, id);
        io.ternmq.broker.session.Session s = session;
        if (early == null && s != null && run != null && s.storedQueue() != null) {
            s.storedQueue().recordOrphans(run, Map.of(), Map.of(stream, new long[] {id, id}));
        }
    }

    /** All it accounted for, into the session's replica (after what the session stored before). */
    synchronized void record() {
        io.ternmq.broker.session.Session s = session;
        if (run == null || s == null || s.storedQueue() == null) {
            return;
        }
        s.storedQueue().recordOrphans(run, new java.util.HashMap<>(marks), ranges());
    }

    /** All it accounted for so far, written with the adopted session's import (the store's thread). */
    synchronized void recordWith(io.ternmq.broker.store.StoreWriter w, String key) {
        if (run != null) {
            io.ternmq.broker.store.StoredQueue.writeOrphans(w, key, run, marks, ranges());
        }
    }

    private Map<Long, long[]> ranges() {
        Map<Long, long[]> ranges = new java.util.HashMap<>();
        accounted.forEach((stream, ids) -> ranges.put(stream, AccountedOrphans.ranges(ids)));
        return ranges;
    }

    boolean isAccounted(long stream, long id) {
        Set<Long> ids = accounted.get(stream);
        return id <= marks.getOrDefault(stream, 0L) || ids != null && ids.contains(id);
    }

    /**
     * An orphan {@code id} of {@code stream} came (the dead node's lock held): what to give the session, or null
     * if it has it (in its queue, routed to it, given before), it is not for it, or not this node's to give.
     */
    synchronized Delivery offer(long stream, long id, Message m,
                                io.ternmq.broker.routing.Router.NodeCopies localCopies, long now) {
        if (handedOn || isAccounted(stream, id)) {
            return null;
        }
        if (hadIt(m)) {
            account(stream, id);
            return null;
        }
        io.ternmq.broker.session.Session s = session;
        // a note of a message routed to it counts whatever the orphan's "forwarded here too" says: the note may
        // be its former holder's, where the message was forwarded
        boolean routed = tookForwarded(m) || localCopies != null && s != null && localCopies.wentTo(s);
        if (routed) {
            if (LOG.isDebugEnabled()) {
                LOG.debug("orphan {} ({}/{}): adopted {} had it routed", OrphanedForwards.text(m), stream, id, clientId);
            }
            accountRecorded(stream, id); // the session took it when it was routed here (forwarded, or here)
            return null;
        }
        if (awaiting) {
            return null; // decided once the former holder says which orphans it accounted for
        }
        Delivery delivery = OrphanedForwards.deliveryFor(m, clientId, subs, filters, now);
        if (delivery == null) {
            account(stream, id);
        }
        return delivery; // accounted when given
    }

    /**
     * Submitted to the store under this lock: the store queues its writes in the order they come.
     *
     * @param others the records of the session's other dead runs here, whose orphans it got too
     */
    synchronized void give(io.ternmq.broker.routing.Router router, long stream, long id, Delivery d,
                           List<AdoptedOrphans> others) {
        if (handedOn) {
            // it moved on meanwhile: the orphan is not accounted for here, so its next holder gives it
            return;
        }
        if (early != null) {
            account(stream, id);
            early.add(d);
            return;
        }
        if (givenByOther(d.message(), others)) {
            accountRecorded(stream, id);
            return;
        }
        if (!session.isEnded() && local.get(clientId) == session) {
            note(d.message());
            if (local.carried(session, d.message())) {
                router.deliverStored(session, d);
            }
            accountRecorded(stream, id); // after the entry: a crash between them gives it twice, not never
        } else {
            account(stream, id);
            if (LOG.isDebugEnabled()) {
                LOG.debug("orphan {} not given to adopted {}: it ended", OrphanedForwards.text(d.message()), clientId);
            }
        }
    }

    /**
     * The session moves on (its routes here are gone; on its loop, before the store barrier after which this
     * node tells the next holder it carried everything): orphans given so far were stored before the barrier,
     * and so carried; those that come from now on are the next holder's.
     */
    synchronized AccountedOrphans handOn() {
        handedOn = true;
        if (awaiting) {
            // it moves on before the node it came from said what it accounted for: nor can this node tell
            return null;
        }
        Map<Long, long[]> ids = new java.util.HashMap<>();
        for (Map.Entry<Long, Set<Long>> e : accounted.entrySet()) {
            ids.put(e.getKey(), AccountedOrphans.ranges(e.getValue()));
        }
        List<MessageIdentity> notes = new ArrayList<>();
        for (Map.Entry<MessageIdentity, Integer> e : forwarded.entrySet()) {
            for (int i = 0; i < e.getValue(); i++) {
                notes.add(e.getKey());
            }
        }
        // the newest notes: an orphan follows its forward closely
        if (notes.size() > AccountedOrphans.MAX_NOTES) {
            notes = new ArrayList<>(notes.subList(notes.size() - AccountedOrphans.MAX_NOTES, notes.size()));
        }
        return new AccountedOrphans(new java.util.HashMap<>(marks), ids, notes);
    }

    /** What the former holder accounted for is this session's too; its notes of routed messages as well. */
    synchronized void inherit(AccountedOrphans from) {
        from.marks().forEach((stream, mark) -> marks.merge(stream, mark, Math::max));
        from.ids().forEach((stream, ranges) -> {
            Set<Long> mine = accounted.computeIfAbsent(stream, k -> new HashSet<>());
            for (int i = 0; i + 1 < ranges.length; i += 2) {
                for (long id = ranges[i]; id <= ranges[i + 1]; id++) {
                    mine.add(id);
                }
            }
        });
        for (MessageIdentity m : from.routed()) {
            if (forwarded.size() >= OrphanedForwards.MAX_FORWARDED) {
                forwarded.remove(forwarded.keySet().iterator().next());
            }
            forwarded.merge(m, 1, Integer::sum);
        }
    }
}
