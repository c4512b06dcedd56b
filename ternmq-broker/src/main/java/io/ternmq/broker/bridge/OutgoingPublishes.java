package io.ternmq.broker.bridge;

import io.netty.channel.Channel;
import io.netty.util.concurrent.ScheduledFuture;
import io.ternmq.broker.config.BridgeSettings;
import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.session.Session;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Publish;
import io.ternmq.codec.Pubrel;
import io.ternmq.codec.QoS;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The outgoing side of one connection to the remote broker: the bridge session's deliveries become PUBLISHes there
 * (remapped, hop counted, within the remote's Maximum QoS and Retain Available, paced by {@code bridge_publish_rate}),
 * and the remote's acknowledgements go back to the session. Keeps what is in flight for the ack timeout. The
 * connection's event loop.
 */
final class OutgoingPublishes {
    private final BridgeSettings settings;
    private final BrokerMetrics metrics;
    private final BridgeAccess access;
    private final BridgeTopicTable topics;
    private final Channel channel;
    private final boolean v5;
    private final BridgePeers.Link peerLink;
    private Session session;
    private int remoteReceiveMaximum = 65_535;
    /** MQTT 5 CONNACK's Maximum QoS: messages above it go at it, and complete here as the remote acks. */
    private int remoteMaxQos = 2;
    private boolean remoteRetainAvailable = true;
    /** QoS 2 messages sent at QoS 1: their PUBACK completes them. */
    private final Set<Integer> downgraded = new HashSet<>();
    /** QoS 2 messages whose PUBREL the remote never hears of: the session completes them itself. */
    private final Set<Integer> completeOnPubrel = new HashSet<>();
    /** QoS 1/2 packet ids written and not yet acknowledged (PUBACK, PUBCOMP). */
    private final Set<Integer> unacknowledged = new HashSet<>();
    private long lastAckNanos;
    /** bridge_publish_rate: PUBLISHes waiting for the bucket to refill, in order. */
    private final ArrayDeque<Publish> paced = new ArrayDeque<>();
    private double tokens;
    private long tokensAtNanos = System.nanoTime();
    private ScheduledFuture<?> pacer;

    OutgoingPublishes(BridgeSettings settings, BrokerMetrics metrics, BridgeAccess access, BridgeTopicTable topics,
                      Channel channel, boolean v5, BridgePeers.Link peerLink) {
        this.peerLink = peerLink;
        this.settings = settings;
        this.metrics = metrics;
        this.access = access;
        this.topics = topics;
        this.channel = channel;
        this.v5 = v5;
        this.tokens = settings.publishRate();
    }

    /** The remote broker's limits from its CONNACK (MQTT 5; null where it sent none). */
    void remoteLimits(Integer receiveMaximum, Integer maxQos, Integer retainAvailable) {
        if (receiveMaximum != null) {
            remoteReceiveMaximum = receiveMaximum;
        }
        if (maxQos != null) {
            remoteMaxQos = maxQos;
        }
        remoteRetainAvailable = retainAvailable == null || retainAvailable != 0;
    }

    /** The session now sends through this connection (null: detached). */
    void session(Session s) {
        session = s;
        lastAckNanos = System.nanoTime();
    }

    int maxInflight() {
        return Math.min(settings.maxInflight(), remoteReceiveMaximum);
    }

    /** A delivery of the bridge's session, sent to the remote broker; false if dropped (hop limit, ACL). */
    boolean send(int packetId, Delivery delivery, boolean dup) {
        Message m = delivery.message();
        int hops = BridgeHops.of(m.properties());
        if (hops >= settings.hopLimit()) {
            BridgeHops.limitReached(metrics, settings, m.topic(), hops);
            return false;
        }
        if (!access.mayReceive(m.topic())) {
            metrics.deliveriesDenied.increment();
            return false;
        }
        if (peerLink.fromPeer(m.publisherId())) {
            return false; // the remote broker's own bridge brought it here: it has it
        }
        if (!dup && !peerLink.peers.isEmpty()) {
            // only a link that knows its remote broker's bridges here waits for copies (hashing the payload costs)
            peerLink.sent(new BridgePeers.Copy(m.topic(), m.payload()));
        }
        String topic = topics.toRemote(m.topic());
        MqttProperties props = MqttProperties.EMPTY;
        if (v5) {
            props = BridgeHops.with(m.properties(), hops + 1);
            if (m.expires()) {
                props = props.toBuilder().set(PropertyId.MESSAGE_EXPIRY_INTERVAL,
                        m.remainingExpirySeconds(System.currentTimeMillis())).build();
            }
        }
        QoS qos = delivery.qos();
        if (qos.value() > remoteMaxQos) {
            // the remote takes no more (MQTT 5 Maximum QoS): sent at its maximum, completed as it acks
            qos = QoS.of(remoteMaxQos);
            int id = packetId;
            QoS asked = delivery.qos();
            if (qos == QoS.AT_MOST_ONCE) {
                channel.eventLoop().execute(() -> completeHere(id, asked));
            } else {
                downgraded.add(id);
            }
        }
        boolean retain = settings.outgoingRetain() && delivery.retain() && remoteRetainAvailable;
        Publish p = new Publish(topic, qos, retain, dup && qos != QoS.AT_MOST_ONCE,
                qos == QoS.AT_MOST_ONCE ? 0 : packetId, m.payload(), props);
        if (settings.publishRate() > 0 && (!paced.isEmpty() || !takeToken())) {
            paced.add(p);
            schedulePacer();
            return true;
        }
        write(p);
        return true;
    }

    private void write(Publish p) {
        if (p.qos() != QoS.AT_MOST_ONCE) {
            if (unacknowledged.isEmpty()) {
                lastAckNanos = System.nanoTime();
            }
            unacknowledged.add(p.packetId());
        }
        channel.write(p);
    }

    private boolean takeToken() {
        long now = System.nanoTime();
        int rate = settings.publishRate();
        tokens = Math.min(rate, tokens + (now - tokensAtNanos) * rate / 1e9);
        tokensAtNanos = now;
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }

    private void schedulePacer() {
        if (pacer != null || !channel.isActive()) {
            return;
        }
        long waitNanos = (long) Math.max(1_000_000, 1e9 / settings.publishRate());
        pacer = channel.eventLoop().schedule(() -> {
            pacer = null;
            while (!paced.isEmpty() && takeToken()) {
                write(paced.poll());
            }
            channel.flush();
            if (!paced.isEmpty()) {
                schedulePacer();
            }
        }, waitNanos, TimeUnit.NANOSECONDS);
    }

    /** A message sent at QoS 0 for a remote whose Maximum QoS is 0: done once written. */
    private void completeHere(int packetId, QoS asked) {
        if (session == null) {
            return;
        }
        if (asked == QoS.AT_LEAST_ONCE) {
            session.onPuback(packetId);
        } else {
            completeOnPubrel.add(packetId);
            session.onPubrec(packetId);
        }
    }

    /** The session's PUBREL for a QoS 2 message the remote acknowledged with PUBREC. */
    void sendPubrel(int packetId) {
        if (completeOnPubrel.remove(packetId)) {
            // the remote got it at a lower QoS: no PUBREL to send, the flow ends here (after this call returns)
            channel.eventLoop().execute(() -> {
                if (session != null) {
                    session.onPubcomp(packetId);
                }
            });
            return;
        }
        channel.write(new Pubrel(packetId));
    }

    void puback(int packetId) {
        acknowledged(packetId);
        if (session != null) {
            if (downgraded.remove(packetId)) {
                completeOnPubrel.add(packetId);
                session.onPubrec(packetId);
            } else {
                session.onPuback(packetId);
            }
        }
    }

    void pubrec(int packetId, int reasonCode) {
        lastAckNanos = System.nanoTime();
        if (session != null) {
            if (reasonCode >= 0x80) {
                acknowledged(packetId);
                session.onPubrecError(packetId);
            } else {
                session.onPubrec(packetId);
            }
        }
    }

    void pubcomp(int packetId) {
        acknowledged(packetId);
        if (session != null) {
            session.onPubcomp(packetId);
        }
    }

    private void acknowledged(int packetId) {
        unacknowledged.remove(packetId);
        lastAckNanos = System.nanoTime();
    }

    /** Whether messages are in flight and none was acknowledged for {@code bridge_ack_timeout}. */
    boolean ackOverdue() {
        return !unacknowledged.isEmpty()
                && System.nanoTime() - lastAckNanos > TimeUnit.SECONDS.toNanos(settings.ackTimeoutSeconds());
    }

    int inFlight() {
        return unacknowledged.size();
    }

    /** The connection ended: no more pacing. */
    void close() {
        if (pacer != null) {
            pacer.cancel(false);
        }
    }
}
