package io.ternmq.broker.session;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.codec.QoS;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server side of one client's session: subscriptions, the outbound in-flight window and queue, packet ids, and
 * inbound QoS 2 state. It outlives network connections when persistent.
 *
 * <p><b>Threading.</b> One event loop, the owner, touches this state: the attached connection's loop, or the last one
 * while offline. Other threads never call the state methods; they {@link #submit} work, which lands in an inbox
 * (multi-producer queue) that the owner drains in order. Because the inbox is the only way in, ownership can move to
 * a new connection's loop (takeover) without reordering deliveries: the move is itself an inbox task, and whichever
 * loop owns the session next drains the same queue.
 */
public final class Session {
    private static final Logger LOG = LoggerFactory.getLogger(Session.class);
    private static final AtomicLong LAST_DROP_LOG_MILLIS = new AtomicLong();
    private static final long DROP_LOG_INTERVAL_MILLIS = 10_000;

    /** Session Expiry Interval meaning "never": MQTT 5's 0xFFFFFFFF, and every MQTT 3.x persistent session. */
    public static final long NEVER_EXPIRES = 0xFFFF_FFFFL;

    private final String clientId;
    private final SessionLimits limits;
    private final BrokerMetrics metrics;
    private final SessionHost host;

    private volatile EventExecutor owner;
    /** Whether a connection is attached; written by the owner, read by shared-subscription routing anywhere. */
    private volatile boolean online;
    private final Queue<Object> inbox = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();

    // Owner-thread state below.
    /** Seconds the session outlives its connection: 0 ends it with the connection, NEVER_EXPIRES never. */
    private long expiryInterval;
    private boolean ended;
    /** Counts attaches, so timers and late notices from an earlier connection can tell they are stale. */
    private int attachGeneration;
    private Message pendingWill;
    private ScheduledFuture<?> willTimer;
    private ScheduledFuture<?> expiryTimer;
    private SessionConnection connection;
    private final Map<String, Subscription> subscriptions = new HashMap<>();
    private final LinkedHashMap<Integer, Inflight> inflight = new LinkedHashMap<>();
    private final ArrayDeque<Delivery> queue = new ArrayDeque<>();
    private final Set<Integer> awaitingPubrel = new HashSet<>();
    private int lastPacketId;
    private long droppedMessages;

    public Session(String clientId, long expiryInterval, EventExecutor owner, SessionLimits limits,
                   BrokerMetrics metrics, SessionHost host) {
        this.clientId = clientId;
        this.expiryInterval = expiryInterval;
        this.owner = owner;
        this.limits = limits;
        this.metrics = metrics;
        this.host = host;
    }

    public String clientId() {
        return clientId;
    }

    public EventExecutor owner() {
        return owner;
    }

    // ---------------------------------------------------------------- inbox

    /**
     * Runs a task or hands a {@link Delivery} to this session on its owner loop, in submission order. Safe from any
     * thread. On the owner loop with nothing waiting, it runs at once.
     */
    public void submit(Object work) {
        if (owner.inEventLoop() && inbox.isEmpty() && !drainScheduled.get()) {
            handle(work);
            return;
        }
        inbox.offer(work);
        if (drainScheduled.compareAndSet(false, true)) {
            owner.execute(this::drain);
        }
    }

    /** Like {@link #submit} but always through the inbox, never run inline: for callers holding a lock. */
    void post(Object work) {
        inbox.offer(work);
        if (drainScheduled.compareAndSet(false, true)) {
            owner.execute(this::drain);
        }
    }

    private void drain() {
        EventExecutor o = owner;
        if (!o.inEventLoop()) {
            o.execute(this::drain);
            return;
        }
        drainScheduled.set(false);
        Object work;
        while ((work = inbox.poll()) != null) {
            handle(work);
            if (owner != o) {
                // a takeover moved the session: the new owner drains the rest
                owner.execute(this::drain);
                return;
            }
        }
    }

    private void handle(Object work) {
        if (work instanceof Delivery d) {
            deliver(d);
        } else {
            ((Runnable) work).run();
        }
    }

    // ---------------------------------------------------------------- lifecycle (owner thread)

    /** Moves ownership to another event loop; must be the last thing a task does with this session. */
    void moveTo(EventExecutor newOwner) {
        owner = newOwner;
    }

    /** Closes the attached connection, if any, because a new connection takes the session over. */
    void detachForTakeover() {
        SessionConnection c = connection;
        connection = null;
        online = false;
        if (c != null) {
            metrics.sessionTakeovers.increment();
            c.closeTakenOver();
        }
    }

    /**
     * Attaches a connection: CONNACK first, then resend what was in flight [MQTT-4.4.0-1], then the queue. A will
     * still waiting for its delay is dropped: the session was resumed in time [MQTT-3.1.3-9].
     */
    void attach(SessionConnection c, boolean sessionPresent, long newExpiryInterval) {
        expiryInterval = newExpiryInterval;
        attachGeneration++;
        cancelTimers();
        pendingWill = null;
        if (!c.sessionReady(this, sessionPresent)) {
            return;
        }
        connection = c;
        online = true;
        Iterator<Map.Entry<Integer, Inflight>> it = inflight.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Integer, Inflight> e = it.next();
            Inflight f = e.getValue();
            if (f.awaitingPubcomp) {
                c.sendPubrel(e.getKey());
            } else if (!c.sendPublish(e.getKey(), f.delivery, true)) {
                it.remove();
            }
        }
        pump();
        c.requestFlush();
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
     * @param will the will to publish after {@code willDelaySeconds} (or when the session ends), or null
     */
    public void closed(SessionConnection c, int generation, Message will, long willDelaySeconds) {
        if (ended) {
            // a Clean Start elsewhere ended this session first: nothing delays the will any more
            if (will != null) {
                host.publishWill(will);
            }
            return;
        }
        if (generation != attachGeneration || connection != c) {
            return; // taken over and resumed: a delayed will is not published [MQTT-3.1.3-9]
        }
        connection = null;
        online = false;
        if (!limits.queueQos0Messages()) {
            queue.removeIf(d -> d.qos() == QoS.AT_MOST_ONCE);
        }
        int gen = attachGeneration;
        if (will != null) {
            pendingWill = will;
            long delay = Math.min(willDelaySeconds, expiryInterval);
            willTimer = owner.schedule(() -> submit((Runnable) () -> willDelayElapsed(gen)), delay, TimeUnit.SECONDS);
        }
        if (expiryInterval == 0) {
            host.endSession(this);
        } else if (expiryInterval != NEVER_EXPIRES) {
            expiryTimer = owner.schedule(() -> submit((Runnable) () -> expiryElapsed(gen)), expiryInterval,
                    TimeUnit.SECONDS);
        }
    }

    private void willDelayElapsed(int generation) {
        if (generation == attachGeneration && connection == null && pendingWill != null && !ended) {
            Message w = pendingWill;
            pendingWill = null;
            host.publishWill(w);
        }
    }

    private void expiryElapsed(int generation) {
        if (generation == attachGeneration && connection == null && !ended) {
            host.endSession(this);
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

    /** Safe from any thread; a hint that may be a moment stale. */
    public boolean isOnline() {
        return online;
    }

    public boolean isPersistent() {
        return expiryInterval != 0;
    }

    /**
     * Forgets all state; later deliveries are dropped. The caller removes the subscriptions from routing.
     *
     * @return the will that was waiting for its delay, to publish now that the session ends, or null
     */
    Message end() {
        ended = true;
        connection = null;
        online = false;
        cancelTimers();
        inflight.clear();
        queue.clear();
        awaitingPubrel.clear();
        Message w = pendingWill;
        pendingWill = null;
        return w;
    }

    public boolean isEnded() {
        return ended;
    }

    // ---------------------------------------------------------------- subscriptions (owner thread)

    /** @return the subscription it replaces, or null */
    public Subscription putSubscription(Subscription s) {
        return subscriptions.put(s.filter(), s);
    }

    /** @return the removed subscription, or null if there was none */
    public Subscription removeSubscription(String filter) {
        return subscriptions.remove(filter);
    }

    /** @return the subscription to exactly this filter, or null */
    public Subscription subscription(String filter) {
        return subscriptions.get(filter);
    }

    public int subscriptionCount() {
        return subscriptions.size();
    }

    public Collection<Subscription> subscriptions() {
        return Collections.unmodifiableCollection(subscriptions.values());
    }

    // ---------------------------------------------------------------- outbound (owner thread)

    /** Sends the message now if the window allows, or queues it; offline, keeps it only if the session persists. */
    public void deliver(Delivery d) {
        if (ended) {
            if (d.sharedGroup() != null) {
                host.redirectShared(d);
            }
            return;
        }
        if (d.message().expires() && d.message().isExpired(System.currentTimeMillis())) {
            metrics.expiredMessages.increment();
            return;
        }
        SessionConnection c = connection;
        if (c == null) {
            if (expiryInterval == 0 && d.sharedGroup() == null) {
                return; // ends with its connection; a shared delivery waits here until the end hands it on
            }
            if (d.qos() == QoS.AT_MOST_ONCE && !limits.queueQos0Messages()) {
                metrics.offlineQos0Drops.increment();
                return;
            }
            enqueue(d);
            return;
        }
        // Anything already queued goes first, QoS 0 included, so that order per topic holds.
        if (!queue.isEmpty() || (d.qos() != QoS.AT_MOST_ONCE && inflight.size() >= c.maxInflight())) {
            enqueue(d);
            return;
        }
        send(c, d);
        c.requestFlush();
    }

    private void send(SessionConnection c, Delivery d) {
        if (d.qos() == QoS.AT_MOST_ONCE) {
            c.sendPublish(0, d, false);
            return;
        }
        int id = nextPacketId();
        inflight.put(id, new Inflight(d));
        if (!c.sendPublish(id, d, false)) {
            // too large for this client: dropped as if delivered [MQTT-3.1.2-25]
            inflight.remove(id);
        }
    }

    private void enqueue(Delivery d) {
        if (queue.size() >= limits.maxQueuedMessages()) {
            droppedMessages++;
            metrics.queueOverflowDrops.increment();
            logDrop();
            return;
        }
        queue.add(d);
    }

    private void logDrop() {
        long now = System.currentTimeMillis();
        long last = LAST_DROP_LOG_MILLIS.get();
        if (now - last >= DROP_LOG_INTERVAL_MILLIS && LAST_DROP_LOG_MILLIS.compareAndSet(last, now)) {
            LOG.warn("Queue of client '{}' is full ({} messages): dropped a message ({} dropped for this client, "
                    + "{} in total; max_queued_messages sets the bound)", clientId, limits.maxQueuedMessages(),
                    droppedMessages, metrics.queueOverflowDrops.sum());
        }
    }

    /** Sends queued messages while the window has room. */
    private void pump() {
        SessionConnection c = connection;
        if (c == null) {
            return;
        }
        Delivery d;
        long now = 0;
        while ((d = queue.peek()) != null) {
            if (d.message().expires()) {
                if (now == 0) {
                    now = System.currentTimeMillis();
                }
                if (d.message().isExpired(now)) {
                    // an expired message is never delivered from a queue [MQTT-3.3.2-5]
                    queue.poll();
                    metrics.expiredMessages.increment();
                    continue;
                }
            }
            if (d.qos() != QoS.AT_MOST_ONCE && inflight.size() >= c.maxInflight()) {
                return;
            }
            queue.poll();
            send(c, d);
        }
    }

    private int nextPacketId() {
        int id = lastPacketId;
        do {
            id = id == 0xFFFF ? 1 : id + 1;
        } while (inflight.containsKey(id));
        lastPacketId = id;
        return id;
    }

    /** PUBACK from the client. @return false if no QoS 1 message awaited it */
    public boolean onPuback(int packetId) {
        Inflight f = inflight.get(packetId);
        if (f == null || f.delivery.qos() != QoS.AT_LEAST_ONCE) {
            return false;
        }
        inflight.remove(packetId);
        pumpAndFlush();
        return true;
    }

    /** PUBREC from the client: the message is delivered; from now on only PUBREL is resent, never the PUBLISH. */
    public boolean onPubrec(int packetId) {
        Inflight f = inflight.get(packetId);
        if (f == null || f.delivery.qos() != QoS.EXACTLY_ONCE) {
            return false;
        }
        f.awaitingPubcomp = true;
        return true;
    }

    /** MQTT 5 PUBREC with an error code: the client refused the message; the flow ends there. */
    public void onPubrecError(int packetId) {
        Inflight f = inflight.get(packetId);
        if (f != null && f.delivery.qos() == QoS.EXACTLY_ONCE && !f.awaitingPubcomp) {
            inflight.remove(packetId);
            pumpAndFlush();
        }
    }

    /** PUBCOMP from the client. @return false if no PUBREL awaited it */
    public boolean onPubcomp(int packetId) {
        Inflight f = inflight.get(packetId);
        if (f == null || !f.awaitingPubcomp) {
            return false;
        }
        inflight.remove(packetId);
        pumpAndFlush();
        return true;
    }

    private void pumpAndFlush() {
        if (!queue.isEmpty()) {
            pump();
            SessionConnection c = connection;
            if (c != null) {
                c.requestFlush();
            }
        }
    }

    /**
     * Takes out what this session holds through shared subscriptions and may go to another member: queued messages,
     * and QoS 1 messages in flight. A QoS 2 message in flight stays: the standard forbids sending it elsewhere.
     * Called when the session ends.
     */
    public List<Delivery> takeSharedDeliveries() {
        List<Delivery> out = new ArrayList<>();
        Iterator<Inflight> it = inflight.values().iterator();
        while (it.hasNext()) {
            Delivery d = it.next().delivery;
            if (d.sharedGroup() != null && d.qos() == QoS.AT_LEAST_ONCE) {
                out.add(d);
                it.remove();
            }
        }
        Iterator<Delivery> q = queue.iterator();
        while (q.hasNext()) {
            Delivery d = q.next();
            if (d.sharedGroup() != null) {
                out.add(d);
                q.remove();
            }
        }
        return out;
    }

    public int awaitingPubrelCount() {
        return awaitingPubrel.size();
    }

    public int inflightCount() {
        return inflight.size();
    }

    public int queuedCount() {
        return queue.size();
    }

    // ---------------------------------------------------------------- inbound QoS 2 (owner thread)

    /**
     * Records an inbound QoS 2 packet id until its PUBREL.
     *
     * @return false if the id was already recorded: the PUBLISH is a resend and must not be routed again
     */
    public boolean markAwaitingPubrel(int packetId) {
        return awaitingPubrel.add(packetId);
    }

    public boolean isAwaitingPubrel(int packetId) {
        return awaitingPubrel.contains(packetId);
    }

    /** @return false if no PUBLISH with that id awaited PUBREL */
    public boolean releasePubrel(int packetId) {
        return awaitingPubrel.remove(packetId);
    }

    /** Snapshot for tests and diagnostics: packet ids in flight, in send order. */
    public Iterator<Integer> inflightIds() {
        return inflight.keySet().iterator();
    }

    private static final class Inflight {
        final Delivery delivery;
        boolean awaitingPubcomp;

        Inflight(Delivery delivery) {
            this.delivery = delivery;
        }
    }
}
