package io.ternmq.broker.session;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.routing.DeliveryTarget;
import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.store.QueueLimits;
import io.ternmq.broker.store.SessionRecord;
import io.ternmq.broker.store.Store;
import io.ternmq.broker.store.StoredEntry;
import io.ternmq.broker.store.StoredQueue;
import io.ternmq.codec.ReasonCode;

import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The server side of one client's session: subscriptions, the outbound queue and in-flight window ({@link Outbox}),
 * inbound QoS 2 state, the will waiting for its delay, and the expiry clock. A session whose expiry is not 0 outlives
 * its network connection, and keeps all of that in the store too ({@link StoredQueue}). Routing reaches it as a
 * {@link DeliveryTarget}.
 *
 * <p><b>Threading.</b> One event loop, the owner, touches this state: the attached connection's loop, or the last one
 * while offline. Other threads never call the state methods; they {@link #submit} work, which lands in an inbox
 * (multi-producer queue) that the owner drains in order. Because the inbox is the only way in, ownership can move to
 * a new connection's loop (takeover) without reordering deliveries: the move is itself an inbox task, and whichever
 * loop owns the session next drains the same queue.
 */
public final class Session extends SessionInbox implements DeliveryTarget, StoredQueue.Owner {

    /** Session Expiry Interval meaning "never": MQTT 5's 0xFFFFFFFF, and MQTT 3.x persistent sessions by default. */
    public static final long NEVER_EXPIRES = 0xFFFF_FFFFL;

    private final String clientId;
    private final BrokerMetrics metrics;
    private final SessionHost host;
    /** Set when the session outlives its connection at creation: then it lives in the store too. */
    private final StoredQueue stored;
    private final Outbox outbox;
    private final QueueLimits limits;

    /** Whether a connection is attached; written by the owner, read by shared-subscription routing anywhere. */
    private volatile boolean online;

    // Owner-thread state below.
    /** Seconds the session outlives its connection: 0 ends it with the connection, NEVER_EXPIRES never. */
    private long expiryInterval;
    /** Written by the owner; read on other loops by deliveries that come too late. */
    private volatile boolean ended;
    /** Counts attaches, so timers and late notices from an earlier connection can tell they are stale. */
    private int attachGeneration;
    private SessionConnection connection;
    private int protocolLevel;
    private Message will;
    private long willDelaySeconds;
    private boolean willPending;
    private ScheduledFuture<?> willTimer;
    private ScheduledFuture<?> expiryTimer;
    /** Null until the first subscription (many clients only publish). */
    private Map<String, Subscription> subscriptions;
    /** Null until the first inbound QoS 2 message. */
    private Set<Integer> awaitingPubrel;
    /** Of those, the ids a node that died had routed, until resent ({@link DeadNodeInbound}); null if none. */
    private java.util.Map<Integer, DeadNodeInbound> deadNodeInbound;
    /** Null unless adopted from a dead node's replica. Volatile: read by routing on any loop. */
    private volatile Adoption adoption;
    /**
     * The cluster's claims on this session; null on a single node and until the first claim. Guarded by this
     * session's monitor. Apart, like {@link #export}: every session on every broker would carry their fields.
     */
    private Claims claims;
    /** Set while the session is being handed to another node: it takes what arrives from then on. */
    private SessionExport export;
    /** Set while the session, just moved here, may still get messages carried from its old node. */
    private volatile DeliveryHold hold;
    /** A stale copy of a session another node holds: see {@link #staleCopy()}. Owner loop. */
    private boolean staleCopy;

    /** See {@link #fence()} and {@link #holdGeneration()}. */
    private static final class Claims {
        long fence;
        long holdGeneration;
    }

    /**
     * @param store the broker's store; used only if the session outlives its connection ({@code expiryInterval != 0})
     */
    public Session(String clientId, long expiryInterval, EventExecutor owner, QueueLimits limits,
                   BrokerMetrics metrics, SessionHost host, Store store) {
        this(clientId, expiryInterval, owner, limits, metrics, host, store,
                java.util.concurrent.ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
    }

    /**
     * A session of a known incarnation, as restored from the store.
     *
     * @param epoch tells this incarnation of the client's session from earlier ones in the store, so that a new
     *              session never sees what an ended one left while it is still being purged
     */
    public Session(String clientId, long expiryInterval, EventExecutor owner, QueueLimits limits,
                   BrokerMetrics metrics, SessionHost host, Store store, long epoch) {
        super(owner);
        this.clientId = clientId;
        this.expiryInterval = expiryInterval;
        this.metrics = metrics;
        this.host = host;
        this.limits = limits;
        this.stored = expiryInterval != 0
                ? new StoredQueue(store, clientId, epoch, this, limits.bridge() ? limits : null) : null;
        this.outbox = new Outbox(this, limits); // after the stored queue is set: the outbox asks for it
    }

    @Override
    public String clientId() {
        return clientId;
    }

    /** This session's state in the store, or null if it ends with its connection. */
    @Override
    public StoredQueue storedQueue() {
        return stored;
    }

    /** What reaches adopted sessions, for chaos runs ({@code -Dternmq.orphans.log=DEBUG}). */
    static final org.slf4j.Logger TRACE = org.slf4j.LoggerFactory.getLogger("io.ternmq.broker.session.AdoptedTrace");

    static String text(io.ternmq.broker.message.Message m) {
        return m.topic() + " " + new String(m.payload(), 0, Math.min(40, m.payload().length),
                java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    BrokerMetrics metrics() {
        return metrics;
    }

    // ---------------------------------------------------------------- inbox

    /**
     * Runs a task on the owner loop, in submission order with everything else this session is handed. Safe from any
     * thread. On the owner loop with nothing waiting, it runs at once.
     */
    public void submit(Runnable task) {
        enter(task);
    }

    /** Hands over a delivery that needs no store: sent, queued or dropped on the owner loop, in order. */
    @Override
    public void deliver(Delivery delivery) {
        enter(delivery);
    }

    @Override
    public boolean holdsDeliveries() {
        return hold != null;
    }

    @Override
    public boolean isAdopted() {
        // while the dead node's orphans and its publishers' resends may still come (Adoption#knownUntilMillis): the
        // Router makes its QoS 2 deliveries wait behind earlier ones still on their way as orphans until then
        Adoption a = adoption;
        return a != null && System.currentTimeMillis() <= a.knownUntilMillis();
    }

    @Override
    public boolean hold(Delivery delivery, Runnable stored) {
        DeliveryHold h = hold;
        return h != null && h.hold(delivery, stored);
    }

    /**
     * QoS 1/2 messages routed to it wait ({@link DeliveryHold}) until {@link #endHold}: it moved here and its old node
     * may still carry it messages, or it was restored here and the orphans kept for it may come first.
     */
    void beginHold() {
        hold = new DeliveryHold();
    }

    /**
     * {@code m} joins its queue besides routing (its old node carried it, or it is given as an orphan): a copy routed
     * to it while it holds its deliveries is not stored again.
     *
     * @return held messages of its publisher to store before it ({@link DeliveryHold#carried}); null: it is stored
     *         already
     */
    List<DeliveryHold.Waiting> carried(io.ternmq.broker.message.Message m) {
        DeliveryHold h = hold;
        return h == null ? List.of() : h.carried(m);
    }

    /**
     * What had to come first is in (or will not come): what waited goes to {@code store}, in order; only then does
     * routing store this session's messages itself, so none overtakes them.
     *
     * @return how many went to {@code store}
     */
    int endHold(java.util.function.Consumer<DeliveryHold.Waiting> store) {
        DeliveryHold h = hold;
        if (h == null) {
            return 0;
        }
        int released = h.release(store);
        hold = null;
        return released;
    }

    /** A durable entry of this session's stored queue, from the store's writer in seq order. */
    @Override
    public void stored(StoredEntry entry) {
        if (adoption != null && TRACE.isDebugEnabled()) {
            TRACE.debug("adopted {}: stored seq {} {}", clientId, entry.entry().seq(), text(entry.message()));
        }
        enter(entry);
    }

    /** A bridge's QoS 1 entry being written: it may go out before it is durable (never run inline: writer thread). */
    @Override
    public void writing(StoredEntry entry) {
        post(() -> outbox.writing(entry));
    }

    @Override
    public void refused() {
        (limits.bridge() ? metrics.bridgeQueueDrops : metrics.queueOverflowDrops).increment();
        submit(outbox::droppedNoted);
    }

    @Override
    public void overflowed() {
        submit(outbox::dropOldestStored);
    }

    @Override
    public void resume(Runnable then) {
        enter(then);
    }

    /** Like {@link #submit} but always through the inbox, never run inline: for callers holding a lock. */
    void post(Runnable task) {
        push(task);
    }


    @Override
    void handle(Object work) {
        if (export != null && !ended && !(work instanceof Runnable)) {
            export.arrived(work);
            return;
        }
        if (work instanceof Delivery d) {
            accept(d);
        } else if (work instanceof StoredEntry e) {
            if (ended) {
                if (e.entry().sharedGroup().isEmpty()) {
                    return;
                }
                host.redirectShared(new Delivery(e.message(), e.entry().qos(), e.entry().retain(),
                        e.entry().subscriptionIds(), e.entry().sharedGroup()));
                return;
            }
            outbox.stored(e);
        } else if (work instanceof Runnable task) {
            task.run();
        }
    }

    // ---------------------------------------------------------------- cluster (owner thread unless said)

    /**
     * Honours a claim of the cluster's session directory: true if {@code generation} is above every one honoured
     * before (then it is the latest), false if a later claim was honoured already. Any thread.
     */
    public synchronized boolean raiseFence(long generation) {
        if (generation <= fence()) {
            return false; // also every claim of a single node (0), which then makes no Claims
        }
        claims().fence = generation;
        return true;
    }

    /** The cluster's fencing generation of the latest claim this session honoured; 0 on a single node. */
    public synchronized long fence() {
        return claims == null ? 0 : claims.fence;
    }

    private Claims claims() {
        if (claims == null) {
            claims = new Claims();
        }
        return claims;
    }

    /**
     * The claim generation under which this node holds the session (its own latest claim for a connection here, or
     * the one it took the session over with); unlike the fence, not raised by other nodes' claims. 0 on one node.
     */
    public synchronized long holdGeneration() {
        return claims == null ? 0 : claims.holdGeneration;
    }

    /** This node holds the session under that claim generation (a CONNECT here, a handover here, a restore). */
    public synchronized void held(long generation) {
        if (generation > holdGeneration()) {
            claims().holdGeneration = generation;
        }
    }

    /**
     * Hands this session to another node: closes the connection (MQTT 5: DISCONNECT 0x8E), then {@link SessionExport}
     * streams the state and the stored queue to {@code to}; what arrives afterwards is carried. A later handover
     * replaces an earlier one, which stops. The session stays here, subscribed, until
     * {@link LocalSessionRegistry#handedOver}.
     */
    void handOver(SessionHandover to) {
        int inflight;
        if (export != null) {
            export.to().superseded();
            inflight = export.inflightBefore();
        } else {
            inflight = outbox.inflightCount();
        }
        detachForTakeover();
        attachGeneration++; // a connection still waiting for its attach here is closed instead
        outbox.clear(); // the store has every stored entry; nothing of the window may go to shared groups here
        export = new SessionExport(this, to, inflight);
        List<Integer> qos2 = awaitingPubrel == null ? List.of() : List.copyOf(awaitingPubrel);
        if (!export.start(new SessionSnapshot(expiryInterval, protocolLevel, inflight, List.copyOf(subscriptions()),
                qos2, deadNodeInbound == null ? java.util.Map.of() : java.util.Map.copyOf(deadNodeInbound),
                adoption))) {
            handoverAborted();
        }
    }

    /** The handover under way, or null; owner loop. */
    SessionExport export() {
        return export;
    }

    /**
     * The handover stopped before the other node had the session (it refused or gave up, or a frame could not be
     * sent): the session stays here, offline, and its queue is reloaded from the store (as {@link #attach} does),
     * since the handover cleared the in-memory window and everything since is in the store.
     */
    void handoverAborted() {
        SessionExport m = export;
        if (m == null || ended) {
            return;
        }
        export = null;
        outbox.reloadFromStore(m.inflightBefore());
        cancelTimers();
        startExpiryClock(expiryInterval);
    }

    /** The node it was handed to has it: nothing more is carried. */
    void handoverCompleted() {
        export = null;
    }

    /** Whether this session is being handed over for that claim. */
    boolean handingOverFor(long generation) {
        return export != null && fence() == generation;
    }

    /**
     * Makes a session handed over by another node ready here, offline, once its state is durable: subscriptions,
     * inbound QoS 2 ids, where its queue starts; its expiry clock runs until a connection attaches.
     */
    void imported(SessionSnapshot snapshot, long firstSeq, long nextSeq) {
        protocolLevel = snapshot.protocolLevel();
        for (Subscription sub : snapshot.subscriptions()) {
            putSubscription(sub);
        }
        if (!snapshot.inboundQos2().isEmpty()) {
            awaitingPubrel().addAll(snapshot.inboundQos2());
        }
        snapshot.deadNodeInbound().forEach(this::deadNodeInbound);
        adoptedFrom(snapshot.adoption());
        outbox.imported(firstSeq, nextSeq);
        startExpiryClock(expiryInterval);
    }

    // ---------------------------------------------------------------- lifecycle (owner thread)

    /** Closes the attached connection, if any, because a new connection takes the session over. */
    void detachForTakeover() {
        SessionConnection c = connection;
        connection = null;
        online = false;
        if (c != null) {
            outbox.detached();
            metrics.sessionTakeovers.increment();
            c.closeByServer(ReasonCode.SESSION_TAKEN_OVER, "taken over by a new connection");
        }
    }

    /**
     * Attaches a connection. A stored session first makes its record durable (so a resumed client finds the session
     * after a crash); then CONNACK, then what was in flight is resent [MQTT-4.4.0-1], then the queue. A will still
     * waiting for its delay is dropped: the session was resumed in time [MQTT-3.1.3-9].
     */
    void attach(SessionConnection c, boolean sessionPresent, long newExpiryInterval, int level, Message newWill,
                long newWillDelay) {
        expiryInterval = newExpiryInterval;
        protocolLevel = level;
        attachGeneration++;
        if (export != null) {
            export.to().superseded(); // a connection here again: a handover that has not completed stops
            int inflightBefore = export.inflightBefore();
            export = null;
            // the handover cleared the in-memory window; everything is still in the store
            outbox.reloadFromStore(inflightBefore);
        }
        cancelTimers();
        willPending = false;
        will = newWill;
        willDelaySeconds = newWillDelay;
        int generation = attachGeneration;
        if (stored == null) {
            finishAttach(c, sessionPresent, generation);
            return;
        }
        stored.putRecord(record(0), () -> finishAttach(c, sessionPresent, generation));
    }

    private void finishAttach(SessionConnection c, boolean sessionPresent, int generation) {
        if (generation != attachGeneration || ended) {
            // another connection took the session while this one waited for the store: it never had it
            c.refuseSession("a newer connection of this client id took the session first");
            return;
        }
        if (!c.sessionReady(this, sessionPresent)) {
            return;
        }
        connection = c;
        online = true;
        outbox.attached(c);
    }

    /**
     * The session's record as its store holds it, disconnected now (a restored session's replica is made from it,
     * with {@link #subscriptions()}, {@link #inboundQos2()} and the stored queue). Owner loop.
     */
    public SessionRecord storedRecord() {
        return record(System.currentTimeMillis());
    }

    /** Inbound QoS 2 packet ids awaiting their PUBREL. Owner loop. */
    public List<Integer> inboundQos2() {
        return awaitingPubrel == null ? List.of() : List.copyOf(awaitingPubrel);
    }

    private SessionRecord record(long disconnectedAt) {
        return new SessionRecord(clientId, stored.epoch(), protocolLevel, expiryInterval, disconnectedAt, will,
                willDelaySeconds);
    }

    /** The attach generation of the connection attached now; a connection remembers it for {@link #closed}. */
    public int attachGeneration() {
        return attachGeneration;
    }

    /**
     * The connection attached at {@code generation} has closed. Detaches it if it is still attached; takes its will
     * (whose publication the connection decided to delay) unless a newer connection resumed the session meanwhile;
     * then ends the session if it does not outlive its connection, or starts its expiry clock.
     *
     * @param delayedWill the will to publish after {@code delaySeconds} (or when the session ends), or null
     */
    public void closed(SessionConnection c, int generation, Message delayedWill, long delaySeconds) {
        if (ended) {
            // a Clean Start elsewhere ended this session first: nothing delays the will any more
            if (delayedWill != null) {
                host.publishWill(delayedWill);
            }
            return;
        }
        if (generation != attachGeneration || connection != c) {
            return; // taken over and resumed: a delayed will is not published [MQTT-3.1.3-9]
        }
        connection = null;
        online = false;
        outbox.detached();
        int gen = attachGeneration;
        will = delayedWill;
        willDelaySeconds = delaySeconds;
        if (delayedWill != null) {
            willPending = true;
            long delay = Math.min(delaySeconds, expiryInterval);
            willTimer = owner().schedule(() -> submit(() -> willDelayElapsed(gen)), delay, TimeUnit.SECONDS);
        }
        if (expiryInterval == 0) {
            host.endSession(this);
            return;
        }
        if (stored != null) {
            stored.putRecord(record(System.currentTimeMillis()), null);
        }
        startExpiryClock(expiryInterval);
    }

    /**
     * The connection attached at {@code generation} was closed because the broker is stopping. Unlike
     * {@link #closed}, no clock starts: the will is kept with the stored session, undelivered, so that recovery
     * publishes it after the restart (with what is left of its delay). A session that does not outlive its
     * connection ends, and its will with it: nothing would be left to publish it after the restart.
     */
    public void closedByShutdown(SessionConnection c, int generation, Message will, long willDelaySeconds) {
        if (ended || generation != attachGeneration || connection != c) {
            return;
        }
        connection = null;
        online = false;
        outbox.detached();
        if (expiryInterval == 0) {
            host.endSession(this);
            return;
        }
        this.will = will;
        this.willDelaySeconds = willDelaySeconds;
        willPending = will != null;
        if (stored != null) {
            stored.putRecord(record(System.currentTimeMillis()), null);
        }
    }

    private void startExpiryClock(long seconds) {
        if (seconds != NEVER_EXPIRES) {
            int gen = attachGeneration;
            expiryTimer = owner().schedule(() -> submit(() -> expiryElapsed(gen)), seconds,
                    TimeUnit.SECONDS);
        }
    }

    private void willDelayElapsed(int generation) {
        if (generation == attachGeneration && connection == null && willPending && !ended) {
            Message due = will;
            willPending = false;
            will = null;
            if (stored != null) {
                stored.putRecord(record(System.currentTimeMillis()), null);
            }
            host.publishWill(due);
        }
    }

    private void expiryElapsed(int generation) {
        if (generation == attachGeneration && connection == null && !ended) {
            host.endSession(this);
        }
    }

    /**
     * Restores a stored session at start-up, offline: its subscriptions are re-added by the caller; here the queue
     * summary, inbound QoS 2 ids, and the clocks. A will that was waiting (or whose client was connected when the
     * broker stopped) is pending again with what is left of its delay; the expiry clock starts from the last
     * disconnection, or from now if the client was connected.
     */
    public void recover(SessionRecord record, List<Integer> inboundQos2, long queuedCount, long queuedBytes,
                        long firstSeq, long nextSeq) {
        protocolLevel = record.protocolLevel();
        if (!inboundQos2.isEmpty()) {
            awaitingPubrel().addAll(inboundQos2);
        }
        outbox.recovered(queuedCount, queuedBytes, firstSeq, nextSeq);
        long now = System.currentTimeMillis();
        long disconnectedAt = record.disconnectedAtMillis() == 0 ? now : record.disconnectedAtMillis();
        long offlineSeconds = Math.max(0, (now - disconnectedAt) / 1000);
        if (record.will() != null) {
            will = record.will();
            willDelaySeconds = record.willDelaySeconds();
            willPending = true;
            long left = Math.max(0, Math.min(willDelaySeconds, expiryInterval) - offlineSeconds);
            int gen = attachGeneration;
            willTimer = owner().schedule(() -> submit(() -> willDelayElapsed(gen)), left, TimeUnit.SECONDS);
        }
        if (expiryInterval != NEVER_EXPIRES) {
            startExpiryClock(Math.max(0, expiryInterval - offlineSeconds));
        }
    }

    /** MQTT 5: a DISCONNECT may change the expiry interval (never from 0 to more, which the caller refuses). */
    public void setExpiryInterval(long seconds) {
        expiryInterval = seconds;
    }

    public long expiryInterval() {
        return expiryInterval;
    }

    private void cancelTimers() {
        if (willTimer != null) {
            willTimer.cancel(false);
            willTimer = null;
        }
        if (expiryTimer != null) {
            expiryTimer.cancel(false);
            expiryTimer = null;
        }
    }

    public boolean isConnected() {
        return connection != null;
    }

    /**
     * Ends the attached connection for a reason of the server's (MQTT 5 clients are told {@code reasonCode}); the
     * session then lives on, or ends, as its expiry says. Owner loop.
     *
     * @return whether a connection was attached
     */
    public boolean disconnect(int reasonCode, String why) {
        return disconnect(reasonCode, why, null);
    }

    /** As {@link #disconnect(int, String)}, with a Server Reference for MQTT 5 clients (null: none). */
    public boolean disconnect(int reasonCode, String why, String serverReference) {
        SessionConnection c = connection;
        if (c == null) {
            return false;
        }
        c.closeByServer(reasonCode, why, serverReference);
        return true;
    }

    /**
     * Ends the attached connection as an administrator would: MQTT 5 clients are told {@code reasonCode}; the will
     * is published unless {@code publishWill} is false; with {@code endSession} the session ends when the connection
     * has closed, whatever its expiry said. Owner loop.
     *
     * @return whether a connection was attached
     */
    public boolean disconnect(int reasonCode, String why, boolean publishWill, boolean endSession) {
        SessionConnection c = connection;
        if (c == null) {
            return false;
        }
        if (endSession) {
            expiryInterval = 0; // closed() then ends it
        }
        c.closeByServer(reasonCode, why, publishWill);
        return true;
    }

    /** Whether the session holds a will (its connection's, or one waiting for its delay). Owner loop. */
    public boolean hasWill() {
        return will != null;
    }

    /**
     * Drops the will an offline session keeps for its delay, and stores the session without it, so that a restart
     * does not bring it back. Owner loop.
     */
    public void discardPendingWill() {
        discardWill();
        if (stored != null && !ended) {
            stored.putRecord(record(System.currentTimeMillis()), null);
        }
    }

    /** Whether an offline session's will waits for its Will Delay Interval. Owner loop. */
    public boolean hasPendingWill() {
        return willPending && connection == null;
    }

    /** Forgets a will still waiting for its delay (an offline session an administrator ends). Owner loop. */
    public void discardWill() {
        if (willTimer != null) {
            willTimer.cancel(false);
            willTimer = null;
        }
        willPending = false;
        will = null;
    }

    /** What listings show of this session; owner loop. */
    public SessionInfo info() {
        SessionConnection c = connection;
        return new SessionInfo(clientId, c == null ? null : c.info(), expiryInterval, subscriptionCount(),
                inflightCount(), queuedCount());
    }

    /** Safe from any thread; a hint that may be a moment stale. */
    @Override
    public boolean isOnline() {
        return online;
    }

    /** Whether the session lives on after its connection closes (its expiry interval is not 0). */
    public boolean outlivesConnection() {
        return expiryInterval != 0;
    }

    /**
     * Forgets all state, in memory and in the store; later deliveries are dropped (or, through a shared
     * subscription, redirected). The caller removes the subscriptions from routing.
     *
     * @return the will that was waiting for its delay, to publish now that the session ends, or null
     */
    Message end() {
        ended = true;
        if (export != null) {
            export.to().superseded();
        }
        export = null;
        connection = null;
        online = false;
        cancelTimers();
        outbox.clear();
        awaitingPubrel = null;
        if (stored != null) {
            if (staleCopy) {
                stored.deleteStaleCopy();
            } else {
                stored.delete();
            }
        }
        Message w = willPending ? will : null;
        willPending = false;
        will = null;
        return w;
    }

    public boolean isEnded() {
        return ended;
    }

    /**
     * Another node holds this session now: this copy is stale, and its end leaves the cluster's copy (that node's)
     * alone. Owner loop, before the end.
     */
    void staleCopy() {
        staleCopy = true;
    }

    // ---------------------------------------------------------------- subscriptions (owner thread)

    /** @return the subscription it replaces, or null */
    public Subscription putSubscription(Subscription s) {
        if (subscriptions == null) {
            subscriptions = new HashMap<>(4);
        }
        return subscriptions.put(s.filter(), s);
    }

    /** @return the removed subscription, or null if there was none */
    public Subscription removeSubscription(String filter) {
        return subscriptions == null ? null : subscriptions.remove(filter);
    }

    /** @return the subscription to exactly this filter, or null */
    public Subscription subscription(String filter) {
        return subscriptions == null ? null : subscriptions.get(filter);
    }

    public int subscriptionCount() {
        return subscriptions == null ? 0 : subscriptions.size();
    }

    public Collection<Subscription> subscriptions() {
        return subscriptions == null ? List.of() : Collections.unmodifiableCollection(subscriptions.values());
    }

    /** Stores subscription changes of a stored session; {@code then} runs on the owner loop once they are durable. */
    public void storeSubscriptions(List<Subscription> added, List<String> removed, Runnable then) {
        if (stored == null) {
            then.run();
            return;
        }
        stored.storeSubscriptions(added, removed, then);
    }

    // ---------------------------------------------------------------- outbound (owner thread)

    /** A delivery that is not stored (QoS 0, or a session without a store): send now, queue, or drop. Owner loop. */
    private void accept(Delivery d) {
        if (ended) {
            if (d.sharedGroup() != null) {
                host.redirectShared(d);
            }
            return;
        }
        // a session that ends with its connection keeps nothing offline; a shared delivery waits for the end to
        // hand it on
        outbox.deliver(d, expiryInterval != 0 || d.sharedGroup() != null);
    }

    public boolean onPuback(int packetId) {
        return outbox.onPuback(packetId);
    }

    public boolean onPubrec(int packetId) {
        return outbox.onPubrec(packetId);
    }

    public void onPubrecError(int packetId) {
        outbox.onPubrecError(packetId);
    }

    public boolean onPubcomp(int packetId) {
        return outbox.onPubcomp(packetId);
    }

    /**
     * Whether publishers to this session should slow down: its queue is half full and its client is still
     * consuming. A client that stopped consuming altogether does not hold publishers back; its queue overflows and
     * drops instead, so that one stuck client never stalls the others. Safe from any thread.
     */
    @Override
    public boolean wantsBackpressure() {
        if (stored == null) {
            // the inbox adds to the in-memory queue, which may hold up to half the bound before it counts as
            // congested: so the inbox may hold a quarter at most, or both together could reach the bound and drop
            return outbox.congested(2L * inboxDeliveries(), 0, 0);
        }
        // the stored backlog counts what the in-memory queue and the inbox hold of it. What the writer has not taken
        // yet is read first: the writer counts an entry before it stops calling it unstored, so one moving between
        // the two is seen twice at worst, never missed
        long unstored = stored.unstored();
        return outbox.congested(inboxDeliveries(), stored.queued(), unstored);
    }

    /** What may go to another member of a shared group when this session ends. */
    public List<Delivery> takeSharedDeliveries() {
        return outbox.takeShared();
    }

    public int inflightCount() {
        return outbox.inflightCount();
    }

    public int queuedCount() {
        return outbox.queuedCount();
    }

    // ---------------------------------------------------------------- inbound QoS 2 (owner thread)

    /**
     * Records an inbound QoS 2 packet id until its PUBREL (a stored session stores it with the message's routing).
     *
     * @return false if the id was already recorded: the PUBLISH is a resend and must not be routed again
     */
    public boolean markAwaitingPubrel(int packetId) {
        return awaitingPubrel().add(packetId);
    }

    /** The inbound QoS 2 id's message was routed by a node that died ({@link DeadNodeInbound}); owner loop. */
    public void deadNodeInbound(int packetId, DeadNodeInbound routed) {
        if (deadNodeInbound == null) {
            deadNodeInbound = new java.util.HashMap<>(4);
        }
        deadNodeInbound.put(packetId, routed);
    }

    /**
     * The session was adopted from a dead node's replica (kept when the session moves on): which run died, and which
     * QoS 2 messages the replica held, so that a publisher's resend of one of them is not given again. Set before the
     * session is visible; the set is dropped once it is no longer needed.
     */
    public void adoptedFrom(Adoption adoption) {
        this.adoption = adoption;
        if (adoption != null && !adoption.replicaQos2().isEmpty()) {
            long wait = Math.max(0, adoption.knownUntilMillis() - System.currentTimeMillis());
            owner().schedule(() -> {
                if (this.adoption == adoption) {
                    this.adoption = adoption.forgotten();
                }
            }, wait, TimeUnit.MILLISECONDS);
        }
    }

    /** @see #adoptedFrom(Adoption); null if it was never adopted */
    public Adoption adoption() {
        return adoption;
    }

    /** For a resend of an inbound QoS 2 id a dead node had routed: what it was, once; else null. Owner loop. */
    public DeadNodeInbound takeDeadNodeInbound(int packetId) {
        return deadNodeInbound == null ? null : deadNodeInbound.remove(packetId);
    }

    public boolean isAwaitingPubrel(int packetId) {
        return awaitingPubrel != null && awaitingPubrel.contains(packetId);
    }

    public int awaitingPubrelCount() {
        return awaitingPubrel == null ? 0 : awaitingPubrel.size();
    }

    private Set<Integer> awaitingPubrel() {
        if (awaitingPubrel == null) {
            awaitingPubrel = new HashSet<>(4);
        }
        return awaitingPubrel;
    }

    /**
     * PUBREL: forgets the id; {@code then} runs on the owner loop once that is durable, and gets whether the id was
     * known. Until it is durable the PUBCOMP must wait, or a crash could make a new message with the same id look
     * like a resend.
     */
    public void releasePubrel(int packetId, java.util.function.Consumer<Boolean> then) {
        boolean known = awaitingPubrel != null && awaitingPubrel.remove(packetId);
        if (stored == null || !known) {
            then.accept(known);
            return;
        }
        stored.releaseInboundQos2(packetId, () -> then.accept(true));
    }
}
