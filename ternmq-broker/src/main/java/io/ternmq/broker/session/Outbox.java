package io.ternmq.broker.session;

import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.metrics.RateLimitedLog;
import io.ternmq.broker.store.QueueEntry;
import io.ternmq.broker.store.QueueLimits;
import io.ternmq.broker.store.StoredEntry;
import io.ternmq.broker.store.StoredQueue;
import io.ternmq.codec.QoS;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A session's outbound side: the messages waiting to be sent, the in-flight window, and packet ids. Owner-thread
 * state; a stored session's queue in the store ({@link StoredQueue}) keeps the counters routing reads.
 *
 * <p><b>Stored sessions</b> (those that outlive their connection, from creation on) keep every QoS 1/2 delivery in
 * the store first: routing writes the queue entry, numbered by {@code seq} in the store's single order, and only then
 * posts it here.
 * In memory this class keeps a bounded window of those entries ({@code loadedUpTo} marks how far); the rest stay on
 * disk and are read back a page at a time while the client is online, so an offline session costs no heap for its
 * queue. The packet id of an entry follows from its seq, so after a restart a message is resent with the id it
 * first had.
 *
 * <p><b>Other sessions</b> keep their queue in memory, bounded by {@code max_queued_messages}.
 */
final class Outbox {
    private static final Logger LOG = LoggerFactory.getLogger(Outbox.class);
    private static final RateLimitedLog DROP_LOG = new RateLimitedLog(LOG, 10_000);
    private static final int PAGE = 256;
    /**
     * A bridge's session reads its stored queue in larger pages and keeps more of it in memory: there is one such
     * session per bridge, carrying many clients' messages, and a backlog it drains (or a live stream it falls behind
     * on) should not wait on a store read every few hundred messages.
     */
    private static final int BRIDGE_PAGE = 1024;

    /** One message on its way: its seq (0 for QoS 0), stored message id (0 when not stored), and PUBREC state. */
    static final class Entry {
        final long seq;
        final long messageId;
        final Delivery delivery;
        final int payloadBytes;
        boolean awaitingPubcomp;
        /** Sent on the current connection (false after a reconnect until resent). */
        boolean sent;
        /** May have been sent before the broker stopped: its first send now is a re-delivery, with DUP 1. */
        boolean mayHaveBeenSent;

        Entry(long seq, long messageId, Delivery delivery) {
            this.seq = seq;
            this.messageId = messageId;
            this.delivery = delivery;
            this.payloadBytes = delivery.message().payload().length;
        }

        boolean stored() {
            return messageId != 0;
        }
    }

    private final Session session;
    private final QueueLimits limits;

    // Most connections are idle or keep up: they start with shared empty collections (never written: the methods
    // that add replace them first) and get their own, small, on the first message.
    private static final ArrayDeque<Entry> NO_PENDING = new ArrayDeque<>(0) {
        @Override
        public void addLast(Entry e) {
            throw new IllegalStateException("the shared empty queue is read-only");
        }
    };
    private static final LinkedHashMap<Integer, Entry> NO_INFLIGHT = new LinkedHashMap<>(0) {
        @Override
        public Entry put(Integer key, Entry value) {
            throw new IllegalStateException("the shared empty window is read-only");
        }
    };
    private ArrayDeque<Entry> pending = NO_PENDING;
    private LinkedHashMap<Integer, Entry> inflight = NO_INFLIGHT;
    /** Volatile: routing on other loops asks it whether the client's socket is backed up. */
    private volatile SessionConnection connection;
    /** After a reconnect, some in-flight messages wait to be resent: nothing new may overtake them. */
    private boolean resendPending;
    private long localSeq;
    private long droppedMessages;

    /** The session's queue in the store, or null if it has none. */
    private final StoredQueue stored;
    /** Stored entries in flight: routing subtracts them, since limits bound what waits, as in Mosquitto. */

    /** Set while the in-memory queue is above half its bound; cleared below a quarter (hysteresis). */
    private volatile boolean congested;
    /**
     * When the client last acknowledged a message, or was given the first one of an empty window: a client counts as
     * stuck only once something has waited in flight for {@code STUCK_NANOS} without an acknowledgement.
     */
    private volatile long progressNanos = System.nanoTime();
    private static final long STUCK_NANOS = 2_000_000_000L;
    private long loadedUpTo = 1;
    private long lastAnnounced;
    private boolean loading;

    Outbox(Session session, QueueLimits limits) {
        this.session = session;
        this.stored = session.storedQueue();
        this.limits = limits;
    }

    private BrokerMetrics metrics() {
        return session.metrics();
    }

    /** Entries of a stored queue held in memory at most. */
    private int memoryWindow() {
        return limits.bridge() ? Math.max(BRIDGE_PAGE * 2, limits.maxInflight() * 2)
                : Math.max(PAGE, limits.maxInflight() * 2);
    }

    /** Entries of a stored queue read from the store at once. */
    private int pageSize() {
        return limits.bridge() ? BRIDGE_PAGE : PAGE;
    }

    /** After recovery: the stored queue holds {@code count} entries from {@code firstSeq} to {@code nextSeq - 1}. */
    void recovered(long count, long bytes, long firstSeq, long nextSeq) {
        stored.recovered(count, bytes, firstSeq, nextSeq, limits.maxInflight());
        loadedUpTo = count == 0 ? Math.max(nextSeq, 1) : firstSeq;
        lastAnnounced = nextSeq - 1;
    }

    /**
     * After a handover from another node: the queue (counted already) holds entries from {@code firstSeq} to
     * {@code nextSeq - 1}, read from the store once a connection attaches.
     */
    void imported(long firstSeq, long nextSeq) {
        loadedUpTo = Math.max(firstSeq, 1);
        lastAnnounced = nextSeq - 1;
    }

    /**
     * A handover to another node cleared this window and then stopped (a connection came back here): the queue is
     * read from the store again from its start, {@code inflight} entries of it marked as possibly sent.
     */
    void reloadFromStore(int inflight) {
        stored.resendFromStore(inflight, lastAnnounced + 1);
        loadedUpTo = 1;
    }

    // ------------------------------------------------------------------ connection

    void attached(SessionConnection c) {
        connection = c;
        progressNanos = System.nanoTime();
        for (Entry e : inflight.values()) {
            e.sent = false;
        }
        resendPending = !inflight.isEmpty();
        pump();
        c.requestFlush();
    }

    /**
     * Resends, in their original order, what was in flight when the last connection ended [MQTT-4.4.0-1]: PUBRELs
     * all, PUBLISHes (DUP set, same packet id) as far as this connection's window allows [MQTT-3.3.4-9].
     *
     * @return true if everything in flight has been sent on this connection
     */
    private boolean resendInflight(SessionConnection c) {
        int sent = 0;
        for (Entry e : inflight.values()) {
            if (e.sent) {
                sent++;
            }
        }
        boolean all = true;
        Iterator<Map.Entry<Integer, Entry>> it = inflight.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Integer, Entry> me = it.next();
            Entry e = me.getValue();
            if (e.sent) {
                continue;
            }
            if (e.awaitingPubcomp) {
                c.sendPubrel(me.getKey());
            } else if (sent >= c.maxInflight()) {
                all = false;
                continue;
            } else if (!c.sendPublish(me.getKey(), e.delivery, true)) {
                it.remove();
                if (e.stored()) {
                    stored.acknowledged();
                }
                forget(e);
                continue;
            }
            e.sent = true;
            sent++;
        }
        resendPending = !all;
        return all;
    }

    void detached() {
        connection = null;
        // Keep what is in flight (resent on resume); let go of what a store keeps anyway, and of QoS 0.
        Iterator<Entry> it = pending.iterator();
        long firstStored = 0;
        while (it.hasNext()) {
            Entry e = it.next();
            if (e.stored()) {
                if (firstStored == 0) {
                    firstStored = e.seq;
                }
                it.remove();
            } else if (e.delivery.qos() == QoS.AT_MOST_ONCE && !limits.queueQos0Messages()) {
                it.remove();
            }
        }
        if (firstStored != 0) {
            loadedUpTo = Math.min(loadedUpTo, firstStored);
        }
    }

    // ------------------------------------------------------------------ arrivals

    /** A delivery that is not stored: QoS 0, or any QoS for a session without a store. */
    void deliver(Delivery d, boolean keepWhileOffline) {
        if (d.message().expires() && d.message().isExpired(System.currentTimeMillis())) {
            metrics().expiredMessages.increment();
            return;
        }
        SessionConnection c = connection;
        if (c == null) {
            if (!keepWhileOffline) {
                return;
            }
            if (d.qos() == QoS.AT_MOST_ONCE && !limits.queueQos0Messages()) {
                metrics().offlineQos0Drops.increment();
                return;
            }
        }
        long seq = d.qos() == QoS.AT_MOST_ONCE ? 0 : ++localSeq;
        Entry e = new Entry(seq, 0, d);
        if (c != null && pending.isEmpty() && (seq == 0 || canSend(c, e))) {
            send(c, e);
            c.requestFlush();
            return;
        }
        enqueueInMemory(e);
        if (c != null) {
            pump();
        }
    }

    /** A stored entry, posted by routing in seq order once it is durable. */
    void stored(StoredEntry se) {
        QueueEntry qe = se.entry();
        lastAnnounced = Math.max(lastAnnounced, qe.seq());
        if (qe.seq() < loadedUpTo) {
            return; // already read back from the store
        }
        SessionConnection c = connection;
        if (c != null && !loading && qe.seq() == loadedUpTo && pending.size() < memoryWindow()) {
            loadedUpTo = qe.seq() + 1;
            accept(qe, se.message(), stored.mayHaveBeenSent(qe.seq()));
            pump();
            c.requestFlush();
        } else {
            maybeLoad();
        }
    }

    /**
     * A bridge's QoS 1 entry whose write is under way: sent now if nothing older waits (the store's page reads and
     * {@link #stored} are caught up to it), so the bridge does not add the sync to each message's latency. The
     * publisher's acknowledgement still waits for the sync; a crash before it makes the publisher resend, so the
     * remote may get a duplicate, which QoS 1 allows. A remote's PUBACK arriving first removes the entry: the delete
     * is written after the put (the writer took the put's batch before telling us), and the durable notice that
     * follows finds the entry below {@code loadedUpTo} and is ignored. {@code lastAnnounced} moves only with durable
     * entries, so a page read never counts on this one being in the store. Otherwise the entry waits for
     * {@link #stored}, as every QoS 2 entry does.
     */
    void writing(StoredEntry se) {
        QueueEntry qe = se.entry();
        SessionConnection c = connection;
        if (c == null || loading || qe.seq() != loadedUpTo || pending.size() >= memoryWindow()) {
            return;
        }
        loadedUpTo = qe.seq() + 1;
        accept(qe, se.message(), stored.mayHaveBeenSent(qe.seq()));
        pump();
        c.requestFlush();
    }

    private void accept(QueueEntry qe, Message m, boolean mayHaveBeenSent) {
        Entry e = new Entry(qe.seq(), qe.messageId(), new Delivery(m, qe.qos(), qe.retain(), qe.subscriptionIds(),
                qe.sharedGroup().isEmpty() ? null : qe.sharedGroup()));
        e.mayHaveBeenSent = mayHaveBeenSent;
        if (qe.released()) {
            // PUBREC arrived before a restart: only the PUBREL is left to send
            e.awaitingPubcomp = true;
            putInflight(packetId(e.seq), e);
            resendPending = true; // pump() sends the PUBREL
            return;
        }
        ownPending().add(e);
    }

    /** Reads the next page of stored entries when the client is online and the in-memory window has room. */
    private void maybeLoad() {
        if (connection == null || loading || lastAnnounced < loadedUpTo || pending.size() > memoryWindow() / 2) {
            return;
        }
        loading = true;
        long from = loadedUpTo;
        long upTo = lastAnnounced;
        int generation = session.attachGeneration();
        int max = pageSize();
        stored.read(from, max, entries -> page(entries, from, upTo, generation, max));
    }

    private void page(List<StoredEntry> entries, long from, long upTo, int generation, int max) {
        loading = false;
        if (session.isAdopted() && Session.TRACE.isDebugEnabled()) {
            Session.TRACE.debug("adopted {}: read {} entries from seq {} (announced up to {}, loaded up to {}): {}",
                    session.clientId(), entries.size(), from, upTo, loadedUpTo, entries.stream()
                            .map(e -> e.entry().seq() + "=" + Session.text(e.message())).toList());
        }
        if (generation != session.attachGeneration() || from != loadedUpTo) {
            maybeLoad(); // the session detached or moved on meanwhile: read again from where it stands
            return;
        }
        long now = System.currentTimeMillis();
        boolean pastAnnounced = false;
        for (StoredEntry se : entries) {
            QueueEntry qe = se.entry();
            if (qe.seq() < loadedUpTo) {
                continue;
            }
            if (qe.seq() > upTo) {
                // written but maybe not yet durable (the store syncs behind its writes): it comes with its notice
                pastAnnounced = true;
                break;
            }
            loadedUpTo = qe.seq() + 1;
            boolean mayHaveBeenSent = stored.mayHaveBeenSent(qe.seq()); // an expired entry held its place too
            if (!qe.released() && se.message().isExpired(now)) {
                // never delivered from a queue once expired [MQTT-3.3.2-5]
                metrics().expiredMessages.increment();
                deleteStored(qe.seq(), qe.messageId(), qe.payloadBytes());
                continue;
            }
            accept(qe, se.message(), mayHaveBeenSent);
        }
        if (entries.size() < max || pastAnnounced) {
            // every entry announced before the read was in the store when it ran: none is left below upTo + 1
            loadedUpTo = Math.max(loadedUpTo, upTo + 1);
        }
        if (connection != null) {
            pump();
            connection.requestFlush();
        }
        maybeLoad();
    }

    // ------------------------------------------------------------------ sending

    private boolean canSend(SessionConnection c, Entry e) {
        return !resendPending && inflight.size() < c.maxInflight() && !inflight.containsKey(packetId(e.seq));
    }

    private ArrayDeque<Entry> ownPending() {
        if (pending == NO_PENDING) {
            pending = new ArrayDeque<>(4);
        }
        return pending;
    }

    private void putInflight(int id, Entry e) {
        if (inflight == NO_INFLIGHT) {
            inflight = new LinkedHashMap<>(8);
        }
        if (inflight.isEmpty()) {
            progressNanos = System.nanoTime(); // the client's clock starts now, not at its last acknowledgement
        }
        inflight.put(id, e);
        if (e.stored()) {
            stored.sent();
        }
    }

    private void removeInflight(int id) {
        progressNanos = System.nanoTime();
        Entry e = inflight.remove(id);
        if (e != null && e.stored()) {
            stored.acknowledged();
        }
    }

    /** Packet ids follow from seqs, so a resent message keeps its id, even across a restart. */
    private static int packetId(long seq) {
        return (int) (seq % 0xFFFF) + 1;
    }

    private void send(SessionConnection c, Entry e) {
        if (e.delivery.qos() == QoS.AT_MOST_ONCE) {
            c.sendPublish(0, e.delivery, false);
            forget(e);
            return;
        }
        int id = packetId(e.seq);
        putInflight(id, e);
        e.sent = true;
        if (!c.sendPublish(id, e.delivery, e.mayHaveBeenSent)) {
            // too large for this client: dropped as if delivered [MQTT-3.1.2-25]
            removeInflight(id);
            forget(e);
        }
    }

    /** Sends waiting messages while the window has room. */
    void pump() {
        SessionConnection c = connection;
        if (c == null) {
            return;
        }
        if (resendPending && !resendInflight(c)) {
            return; // older messages still wait for room: nothing new may overtake them
        }
        long now = 0;
        Entry e;
        while ((e = pending.peek()) != null) {
            if (e.delivery.message().expires()) {
                if (now == 0) {
                    now = System.currentTimeMillis();
                }
                if (e.delivery.message().isExpired(now)) {
                    // an expired message is never delivered from a queue [MQTT-3.3.2-5]
                    pending.poll();
                    metrics().expiredMessages.increment();
                    forget(e);
                    continue;
                }
            }
            if (e.delivery.qos() != QoS.AT_MOST_ONCE && !canSend(c, e)) {
                break;
            }
            pending.poll();
            send(c, e);
        }
        if (congested) {
            updateCongestion();
        }
        maybeLoad();
    }

    // ------------------------------------------------------------------ acknowledgements

    /** @return false if no QoS 1 message awaited this PUBACK */
    boolean onPuback(int packetId) {
        Entry e = inflight.get(packetId);
        if (e == null || e.delivery.qos() != QoS.AT_LEAST_ONCE) {
            return false;
        }
        removeInflight(packetId);
        forget(e);
        pumpAndFlush();
        return true;
    }

    /**
     * PUBREC: the message is delivered; from now on only PUBREL is resent, never the PUBLISH. For a stored entry
     * that state is made durable before the PUBREL goes out.
     *
     * @return false if no QoS 2 message awaited it
     */
    boolean onPubrec(int packetId) {
        Entry e = inflight.get(packetId);
        if (e == null || e.delivery.qos() != QoS.EXACTLY_ONCE) {
            return false;
        }
        if (e.awaitingPubcomp) {
            connection.sendPubrel(packetId); // a repeated PUBREC: answer again
            connection.requestFlush();
            return true;
        }
        e.awaitingPubcomp = true;
        e.delivery.settle(); // the client has it: it is not given to another member any more
        if (!e.stored()) {
            connection.sendPubrel(packetId);
            connection.requestFlush();
            return true;
        }
        int generation = session.attachGeneration();
        stored.markReleased(e.seq, () -> {
            if (connection != null && generation == session.attachGeneration() && inflight.get(packetId) == e) {
                connection.sendPubrel(packetId);
                connection.requestFlush();
            }
        });
        return true;
    }

    /** MQTT 5 PUBREC with an error code: the client refused the message; the flow ends there. */
    void onPubrecError(int packetId) {
        Entry e = inflight.get(packetId);
        if (e != null && e.delivery.qos() == QoS.EXACTLY_ONCE && !e.awaitingPubcomp) {
            removeInflight(packetId);
            forget(e);
            pumpAndFlush();
        }
    }

    /** @return false if no PUBREL awaited this PUBCOMP */
    boolean onPubcomp(int packetId) {
        Entry e = inflight.get(packetId);
        if (e == null || !e.awaitingPubcomp) {
            return false;
        }
        removeInflight(packetId);
        forget(e);
        pumpAndFlush();
        return true;
    }

    private void pumpAndFlush() {
        if (!pending.isEmpty() || lastAnnounced >= loadedUpTo || resendPending) {
            pump();
            if (connection != null) {
                connection.requestFlush();
            }
        }
    }

    // ------------------------------------------------------------------ limits and removal

    /**
     * See {@link Session#wantsBackpressure()}.
     *
     * @param waiting       deliveries not in the in-memory queue yet (in the inbox)
     * @param storedBacklog a stored session's QoS 1/2 entries stored and not in flight (0 for other sessions)
     * @param unstored      a stored session's deliveries still waiting for the store's writer (0 for others)
     */
    boolean congested(long waiting, long storedBacklog, long unstored) {
        SessionConnection c = connection;
        if (c == null || !session.isOnline()) {
            return false; // an offline session's queue just fills (and overflows)
        }
        // QoS 1/2 backlog: the client consumes if it acknowledges
        boolean acknowledging = System.nanoTime() - progressNanos < STUCK_NANOS;
        if (congested && acknowledging) {
            return true;
        }
        int max = limits.maxQueuedMessages();
        int half = max / 2;
        // A stored backlog holds publishers from half the bound, like a memory queue; with what is still being
        // written, from three quarters: one group commit lands all of that at once, and must not land past the
        // bound (the quarter left is for the one message each publisher still routes when it is told to wait).
        // It is QoS 1/2, so a writable socket proves nothing: the client consumes if it acknowledges, or has nothing
        // in flight to acknowledge (then the backlog waits on the broker, its store, not on the client).
        if (stored != null && (storedBacklog >= half || storedBacklog + unstored >= max - max / 4)
                && (acknowledging || stored.inflight() == 0)) {
            return true;
        }
        // deliveries not queued yet: the client consumes if it acknowledges or its socket drains
        if (waiting >= half && (acknowledging || c.clientConsuming())) {
            return true;
        }
        return c.socketBackedUp();
    }

    private void updateCongestion() {
        int size = pending.size();
        if (!congested && size >= limits.maxQueuedMessages() / 2) {
            congested = true;
        } else if (congested && size <= limits.maxQueuedMessages() / 4) {
            congested = false;
        }
    }

    private void enqueueInMemory(Entry e) {
        if (pending.size() >= limits.maxQueuedMessages()) {
            if (limits.dropOldest() && dropOldestInMemory()) {
                ownPending().add(e);
            } else {
                dropped();
            }
            return;
        }
        ownPending().add(e);
        updateCongestion();
    }

    private boolean dropOldestInMemory() {
        Iterator<Entry> it = pending.iterator();
        if (!it.hasNext()) {
            return false;
        }
        Entry oldest = it.next();
        it.remove();
        forget(oldest);
        dropped();
        return true;
    }

    /** Routing stored one entry too many for this session's limits: make room by dropping the oldest queued. */
    void dropOldestStored() {
        for (Iterator<Entry> it = pending.iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (e.stored()) {
                it.remove();
                forget(e);
                dropped();
                return;
            }
        }
        stored.removeOldest(loadedUpTo);
        dropped();
    }

    /** Counts (and, at a bounded rate, logs) a message this session could not keep. */
    void dropped() {
        (limits.bridge() ? metrics().bridgeQueueDrops : metrics().queueOverflowDrops).increment();
        droppedNoted();
    }

    /** The per-session side of a drop whose broker-wide count routing already made. */
    void droppedNoted() {
        droppedMessages++;
        if (limits.bridge()) {
            DROP_LOG.warn("Queue of bridge '{}' is full: dropped a message ({} dropped for this bridge; "
                            + "bridge_max_queued_messages/bridge_max_queued_bytes set the bound)", session.clientId(),
                    droppedMessages);
            return;
        }
        DROP_LOG.warn("Queue of client '{}' is full: dropped a message ({} dropped for this client, {} in total; "
                        + "max_queued_messages/max_queued_bytes set the bound)", session.clientId(), droppedMessages,
                metrics().queueOverflowDrops.sum());
    }

    /** A message is done with (acknowledged, expired, dropped, too large): remove it from the store if it is there. */
    private void forget(Entry e) {
        e.delivery.settle();
        if (e.stored()) {
            deleteStored(e.seq, e.messageId, e.payloadBytes);
        }
    }

    private void deleteStored(long seq, long messageId, int payloadBytes) {
        stored.remove(seq, messageId, payloadBytes);
    }

    // ------------------------------------------------------------------ ending

    /**
     * What may go to another shared-subscription member when this session ends: queued messages, and QoS 1 ones in
     * flight. A QoS 2 message in flight stays: the standard forbids sending it elsewhere.
     */
    List<Delivery> takeShared() {
        List<Delivery> out = new ArrayList<>();
        for (Iterator<Entry> it = inflight.values().iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (e.delivery.sharedGroup() != null && e.delivery.qos() == QoS.AT_LEAST_ONCE) {
                out.add(e.delivery);
                it.remove();
                if (e.stored()) {
                    stored.acknowledged();
                }
            }
        }
        for (Iterator<Entry> it = pending.iterator(); it.hasNext(); ) {
            Delivery d = it.next().delivery;
            if (d.sharedGroup() != null) {
                out.add(d);
                it.remove();
            }
        }
        return out;
    }

    void clear() {
        pending = NO_PENDING;
        inflight = NO_INFLIGHT;
        if (stored != null) {
            stored.windowCleared();
        }
        connection = null;
    }

    int inflightCount() {
        return inflight.size();
    }

    int queuedCount() {
        return stored == null ? pending.size()
                : pending.size() + (int) Math.max(0, stored.count() - inflightStoredCount() - pendingStored());
    }

    private long inflightStoredCount() {
        return inflight.values().stream().filter(Entry::stored).count();
    }

    private long pendingStored() {
        return pending.stream().filter(Entry::stored).count();
    }
}
