package io.ternmq.broker.bridge;

import io.ternmq.broker.config.BridgeSettings;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.metrics.RateLimitedLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Two brokers bridged toward each other at MQTT 3.x: this broker's bridge to a remote broker (its <em>link</em>) and
 * that broker's bridge into this one (an <em>inbound</em> bridge connection, a client here) are two paths between the
 * same pair of brokers, and 3.x messages carry no origin id ({@link BridgeOrigins}) to tell the copies apart. Without
 * care every message would cross twice and come back: a loop, as between two Mosquittos.
 *
 * <p>A link learns which inbound bridges are its remote broker's from that broker's bridge notifications: it
 * subscribes there to {@code $SYS/broker/connection/+/state}, where Mosquitto and TernMQ publish the state of their own
 * bridges, named by the client id those bridges use here. Then:
 * <ul>
 *   <li>a message from this broker goes to the remote broker once, over the link when the link carries its topic
 *   (the inbound bridge connection does not get it), else over the inbound bridge;</li>
 *   <li>what either path brought in does not go back over the other;</li>
 *   <li>of the two copies the remote broker sends of its messages (one over each path), the second is dropped, and so
 *   is what the link sent coming back over the inbound bridge: both recognised by topic and payload, counted per
 *   topic and payload (identical messages each get their copy), within {@link #WINDOW_MILLIS}, counted
 *   {@code bridgeDuplicateDrops}.</li>
 * </ul>
 * Any thread: the peers of a link are an immutable set replaced on the link's loop; each pair's copies in flight are
 * guarded by the pair's lock, taken only for messages of the two paths.
 */
public final class BridgePeers {
    /**
     * Where Mosquitto and TernMQ publish the state of their own bridges, retained, named by the client id each uses
     * on its remote broker: a 3.x link subscribes to it to learn which of the remote broker's bridges come here. An
     * inbound bridge that subscribes to it is a TernMQ bridge doing the same: it sends nothing back.
     */
    public static final String NOTIFICATIONS = "$SYS/broker/connection/+/state";
    /** How long a copy is waited for: the two paths deliver within milliseconds; a reconnect takes seconds. */
    static final long WINDOW_MILLIS = 30_000;
    /** Copies remembered per pair of brokers at most (about 100 bytes each). */
    static final int MAX_REMEMBERED = 16_384;
    private static final Logger LOG = LoggerFactory.getLogger(BridgePeers.class);
    private static final RateLimitedLog COPY_LOG = new RateLimitedLog(LOG, 10_000);

    private final BrokerMetrics metrics;
    /** Each link by its local_clientid (the publisher of what it brings in). */
    private final Map<String, Link> links = new HashMap<>();
    /** Each remote bridge's client id here, to the link toward its broker; replaced whole. */
    private volatile Map<String, Link> inbound = Map.of();
    /** Inbound bridges that learn their pairs too (TernMQ's): they send back nothing that went to their broker. */
    private final Set<String> learning = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public BridgePeers(List<BridgeSettings> bridges, BrokerMetrics metrics) {
        this.metrics = metrics;
        for (BridgeSettings b : bridges) {
            links.put(b.localClientId(), new Link(b, new BridgeTopicTable(b.topics()), learning));
        }
    }

    Link link(String localClientId) {
        return links.get(localClientId);
    }

    /** The remote broker of {@code link} announced its bridge {@code remoteBridgeId} (a client id here). */
    void announced(Link link, String remoteBridgeId) {
        if (remoteBridgeId.equals(link.settings.remoteClientId()) || link.peers.contains(remoteBridgeId)) {
            return; // the link's own notification, or known
        }
        Set<String> peers = new HashSet<>(link.peers);
        peers.add(remoteBridgeId);
        link.peers = Set.copyOf(peers);
        synchronized (this) {
            Map<String, Link> m = new HashMap<>(inbound);
            m.put(remoteBridgeId, link);
            inbound = Map.copyOf(m);
        }
        LOG.info("Bridge {}: '{}' is the remote broker's bridge toward this one: messages cross between the two "
                + "brokers once", link.settings.name(), remoteBridgeId);
    }

    /** The inbound bridge {@code clientId} subscribed to {@link #NOTIFICATIONS}: a TernMQ bridge, learning too. */
    public void learningBridge(String clientId) {
        if (learning.add(clientId)) {
            LOG.info("Bridges: '{}' is a bridge that recognises its pairs: it sends nothing back here", clientId);
        }
    }

    /**
     * Whether a message coming in is to be routed: false for a second copy from the remote broker of a pair, or
     * one this broker sent coming back (counted in {@code bridgeDuplicateDrops}). Messages with an origin id are
     * {@link BridgeOrigins}'.
     */
    public boolean admit(Message m) {
        Map<String, Link> in = inbound;
        if (in.isEmpty()) {
            return true;
        }
        String publisher = m.publisherId();
        Link link = in.get(publisher);
        int path = Link.VIA_INBOUND;
        if (link == null) {
            link = links.get(publisher);
            path = Link.VIA_LINK;
            if (link == null || link.peers.isEmpty()) {
                return true;
            }
        }
        if (BridgeOrigins.of(m.properties()) != null || m.topic().equals(link.settings.stateTopic())) {
            return true; // origin ids are BridgeOrigins'; the link's own state notification is no copy
        }
        if (link.admit(new Copy(m.topic(), m.payload()), path, System.currentTimeMillis())) {
            return true;
        }
        metrics.bridgeDuplicateDrops.increment();
        COPY_LOG.warn("Bridge {}: dropped a copy of a message on '{}' that came over both bridges between this broker "
                + "and the remote broker (or went there and back)", link.settings.name(), m.topic());
        return false;
    }

    /**
     * Whether the inbound bridge connection {@code clientId} is not to get {@code m}: the link toward the same
     * broker brought it in, or carries it there.
     */
    public boolean carriedByLink(String clientId, Message m) {
        Map<String, Link> in = inbound;
        if (in.isEmpty()) {
            return false;
        }
        Link link = in.get(clientId);
        if (link == null) {
            return false;
        }
        if (m.topic().equals(link.settings.stateTopic())) {
            return false; // the link's state notification: the remote bridge learns this broker's bridges from it
        }
        return m.publisherId().equals(link.settings.localClientId()) || link.topics.carriesOut(m.topic());
    }

    /** A message as the two paths' copies are matched: its topic here and its payload. */
    record Copy(String topic, int payloadHash, int length) {
        Copy(String topic, byte[] payload) {
            this(topic, Arrays.hashCode(payload), payload.length);
        }
    }

    /** One bridge of this broker's, with what it learned of its remote broker's bridges toward this one. */
    static final class Link {
        static final int SENT = 0;
        static final int VIA_LINK = 1;
        static final int VIA_INBOUND = 2;

        final BridgeSettings settings;
        final BridgeTopicTable topics;
        /** The remote broker's bridges' client ids here; replaced whole on the link's loop. */
        volatile Set<String> peers = Set.of();
        private final Set<String> learning;
        /** Per copy, when each of its expected arrivals was counted: sent, came over the link, over the inbound. */
        private final Map<Copy, ArrayDeque<Long>[]> expected = new HashMap<>();
        /** Every counted arrival in time order, to forget the expired ones. */
        private final ArrayDeque<Object[]> order = new ArrayDeque<>();

        Link(BridgeSettings settings, BridgeTopicTable topics, Set<String> learning) {
            this.settings = settings;
            this.topics = topics;
            this.learning = learning;
        }

        /** Whether a message published here by {@code publisherId} is the remote broker's (over its bridge). */
        boolean fromPeer(String publisherId) {
            Set<String> p = peers;
            return !p.isEmpty() && p.contains(publisherId);
        }

        /**
         * The link sent this message to the remote broker: if it comes back over the inbound bridge, it is dropped.
         * A Mosquitto bridge sends it back (it came from another client there); a TernMQ bridge that learns its pairs
         * does not, and nothing is waited for.
         */
        synchronized void sent(Copy c) {
            Set<String> p = peers;
            if (p.isEmpty()) {
                return;
            }
            for (String id : p) {
                if (learning.contains(id)) {
                    return;
                }
            }
            count(c, SENT, System.currentTimeMillis());
        }

        /**
         * Whether an arrival over {@code path} is new. Over the inbound bridge come the twins of what came over the
         * link, and what the link sent, coming back (the remote broker does not send that back over the link: its
         * subscriptions there are no-local); over the link, the twins of what came over the inbound bridge.
         */
        synchronized boolean admit(Copy c, int path, long now) {
            expire(now);
            ArrayDeque<Long>[] slot = expected.get(c);
            if (slot != null) {
                boolean twin = path == VIA_LINK ? slot[VIA_INBOUND].pollFirst() != null
                        : slot[VIA_LINK].pollFirst() != null || slot[SENT].pollFirst() != null;
                if (twin) {
                    if (slot[SENT].isEmpty() && slot[VIA_LINK].isEmpty() && slot[VIA_INBOUND].isEmpty()) {
                        expected.remove(c);
                    }
                    return false;
                }
            }
            count(c, path, now);
            return true;
        }

        @SuppressWarnings("unchecked")
        private void count(Copy c, int kind, long now) {
            ArrayDeque<Long>[] slot = expected.computeIfAbsent(c, k -> new ArrayDeque[]{
                    new ArrayDeque<Long>(1), new ArrayDeque<Long>(1), new ArrayDeque<Long>(1)});
            slot[kind].addLast(now);
            order.addLast(new Object[]{c, kind, now});
            if (order.size() > MAX_REMEMBERED) {
                forget(order.pollFirst());
            }
        }

        private void expire(long now) {
            while (!order.isEmpty() && (long) order.peekFirst()[2] < now - WINDOW_MILLIS) {
                forget(order.pollFirst());
            }
        }

        /** Forgets one counted arrival, if it was not matched yet (a matched one was polled from its slot). */
        private void forget(Object[] event) {
            Copy c = (Copy) event[0];
            ArrayDeque<Long>[] slot = expected.get(c);
            if (slot == null) {
                return;
            }
            ArrayDeque<Long> q = slot[(int) event[1]];
            if (!q.isEmpty() && q.peekFirst() <= (long) event[2]) {
                q.pollFirst();
            }
            if (slot[SENT].isEmpty() && slot[VIA_LINK].isEmpty() && slot[VIA_INBOUND].isEmpty()) {
                expected.remove(c);
            }
        }
    }
}
