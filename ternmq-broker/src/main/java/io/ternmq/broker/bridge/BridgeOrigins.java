package io.ternmq.broker.bridge;

import io.ternmq.broker.message.Message;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.metrics.RateLimitedLog;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.UserProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The {@code ternmq-bridge-origin} user property, {@code <node id>/<random 64-bit hex>}: which broker a message entered
 * first, and which message it is. On a broker with bridges every message gets one as it comes in (unless it has one),
 * so all copies of it, over whichever bridges they travel, carry the same id. A message that comes in with an id this
 * broker gave, or one it has taken in already (among the last {@link #WINDOW} ids), is a copy that went round a loop
 * or a parallel path: dropped and counted. The hop count alone cannot tell such copies apart. MQTT 3.x has no
 * properties: across a 3.x bridge the id is lost (and a new one given on the far side).
 *
 * <p>Any thread (each connection's event loop publishes here); the window is guarded by its own lock, taken only for
 * messages that carry an id from elsewhere.
 */
public final class BridgeOrigins {
    public static final String PROPERTY = "ternmq-bridge-origin";
    /**
     * A CONNECT user property by which a TernMQ bridge says "a bridge" at MQTT 5 (where the protocol level has no
     * bridge bit): that connection gets the origin ids; other MQTT 5 clients get messages without them.
     */
    public static final String CONNECT_PROPERTY = "ternmq-bridge";
    /** Ids remembered: bounded memory (about 100 bytes each), enough for the copies of a loop to arrive in. */
    static final int WINDOW = 16_384;
    private static final Logger LOG = LoggerFactory.getLogger(BridgeOrigins.class);
    private static final RateLimitedLog DUPLICATE_LOG = new RateLimitedLog(LOG, 10_000);

    private final String prefix;
    private final BrokerMetrics metrics;
    private final String[] ring = new String[WINDOW];
    private final Set<String> seen = new HashSet<>(WINDOW * 2);
    private int next;

    /** @param nodeId this broker's id (kept in its data directory) */
    public BridgeOrigins(String nodeId, BrokerMetrics metrics) {
        this.prefix = nodeId + "/";
        this.metrics = metrics;
    }

    /**
     * The message to route: {@code message} with an origin id added if it had none; or null for a copy that was
     * here already (counted in {@code bridgeDuplicateDrops}).
     */
    public Message admit(Message message) {
        String origin = of(message.properties());
        if (origin == null) {
            return withOrigin(message, prefix + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        }
        if (origin.startsWith(prefix) || !firstTime(origin)) {
            metrics.bridgeDuplicateDrops.increment();
            DUPLICATE_LOG.warn("Bridges: dropped a copy of a message on '{}' that arrived here before (origin {}; "
                    + "a loop of bridges or parallel bridges)", message.topic(), origin);
            return null;
        }
        return message;
    }

    private synchronized boolean firstTime(String origin) {
        if (!seen.add(origin)) {
            return false;
        }
        String evicted = ring[next];
        if (evicted != null) {
            seen.remove(evicted);
        }
        ring[next] = origin;
        next = (next + 1) % WINDOW;
        return true;
    }

    /** Whether a CONNECT's properties announce a TernMQ bridge ({@link #CONNECT_PROPERTY}). */
    public static boolean announcedIn(MqttProperties connectProperties) {
        if (connectProperties.isEmpty()) {
            return false;
        }
        for (UserProperty p : connectProperties.userProperties()) {
            if (p.name().equals(CONNECT_PROPERTY)) {
                return true;
            }
        }
        return false;
    }

    /** The properties without the origin id: what a client that is not a bridge gets. */
    public static MqttProperties withoutOrigin(MqttProperties properties) {
        if (of(properties) == null) {
            return properties;
        }
        List<UserProperty> users = new ArrayList<>(properties.userProperties().size());
        for (UserProperty p : properties.userProperties()) {
            if (!p.name().equals(PROPERTY)) {
                users.add(p);
            }
        }
        return properties.toBuilder().clearUserProperties().userProperties(users).build();
    }

    /** The origin id a message carries, or null. */
    static String of(MqttProperties properties) {
        if (properties.isEmpty()) {
            return null;
        }
        for (UserProperty p : properties.userProperties()) {
            if (p.name().equals(PROPERTY)) {
                return p.value();
            }
        }
        return null;
    }

    private static Message withOrigin(Message m, String origin) {
        // every message on a broker with bridges gets one: the cheap way, sharing the other properties
        MqttProperties props = m.properties().withUserProperty(PROPERTY, origin);
        return new Message(m.topic(), m.qos(), m.retain(), m.payload(), props, m.publisherId(),
                m.createdAtMillis(), m.expiryAtMillis());
    }
}
