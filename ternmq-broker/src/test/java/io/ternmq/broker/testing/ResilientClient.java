package io.ternmq.broker.testing;

import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Pubcomp;
import io.ternmq.codec.Publish;
import io.ternmq.codec.Pubrec;
import io.ternmq.codec.Pubrel;
import io.ternmq.codec.QoS;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * An MQTT 3.1.1 client with a persistent session that survives its broker being killed, for crash tests: it keeps
 * its own in-flight state, reconnects with Clean Session 0, and resends unacknowledged PUBLISHes (DUP, same packet
 * id) and PUBRELs, as the standard requires of a client [MQTT-4.4.0-1]. As a subscriber it is exactly-once on its
 * side (it remembers QoS 2 packet ids until PUBREL). Every callback runs on the client's single reader thread.
 */
public final class ResilientClient implements AutoCloseable {

    private final String clientId;
    private final int port;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;
    private volatile RawClient connection;

    // publisher side: packet id -> (sequence number, QoS, PUBREC seen)
    private final Map<Integer, long[]> inflight = new LinkedHashMap<>();
    private final Set<Long> acknowledged = new ConcurrentSkipListSet<>();
    private int nextPacketId = 1;

    // subscriber side
    private final Set<Integer> awaitingPubrel = ConcurrentHashMap.newKeySet();
    private final List<String> received = new CopyOnWriteArrayList<>();
    private final List<TopicSubscription> subscriptions;

    private ResilientClient(String clientId, int port, List<TopicSubscription> subscriptions) {
        this.clientId = clientId;
        this.port = port;
        this.subscriptions = subscriptions;
        this.thread = new Thread(this::readLoop, "resilient-" + clientId);
        thread.setDaemon(true);
    }

    public static ResilientClient subscriber(String clientId, int port, String filter, QoS qos) {
        ResilientClient c = new ResilientClient(clientId, port, List.of(new TopicSubscription(filter, qos)));
        c.thread.start();
        return c;
    }

    public static ResilientClient publisher(String clientId, int port) {
        ResilientClient c = new ResilientClient(clientId, port, List.of());
        c.thread.start();
        return c;
    }

    /** Messages received, as "topic payload", in arrival order (duplicates included). */
    public List<String> received() {
        return received;
    }

    /** Sequence numbers whose PUBACK (QoS 1) or PUBREC (QoS 2) arrived: the broker took responsibility. */
    public Set<Long> acknowledged() {
        return acknowledged;
    }

    public synchronized int inflightCount() {
        return inflight.size();
    }

    public boolean isConnected() {
        return connection != null;
    }

    /**
     * Publishes {@code seq} on the topic if connected and fewer than {@code window} are in flight.
     *
     * @return false if it could not be sent now (try the same seq again later)
     */
    public synchronized boolean tryPublish(String topic, QoS qos, long seq, int window) {
        RawClient c = connection;
        if (c == null || inflight.size() >= window) {
            return false;
        }
        int id = nextPacketId;
        while (inflight.containsKey(id)) {
            id = id == 0xFFFF ? 1 : id + 1;
        }
        nextPacketId = id == 0xFFFF ? 1 : id + 1;
        inflight.put(id, new long[] {seq, qos.value(), 0});
        try {
            c.send(new Publish(topic, qos, false, false, id, Long.toString(seq).getBytes(),
                    MqttProperties.EMPTY));
        } catch (RuntimeException e) {
            // the connection broke: the message stays in flight and is resent after reconnecting
        }
        return true;
    }

    private void readLoop() {
        while (running.get()) {
            RawClient c = connect();
            if (c == null) {
                continue;
            }
            try {
                while (running.get()) {
                    handle(c, c.readBlocking());
                }
            } catch (RuntimeException | AssertionError e) {
                // the broker went away: reconnect and resend
            } finally {
                synchronized (this) {
                    connection = null;
                }
                c.close();
            }
        }
    }

    private RawClient connect() {
        try {
            RawClient c = new RawClient(port);
            c.send(new Connect(MqttVersion.MQTT_3_1_1, clientId, false, 30, null, null, null, MqttProperties.EMPTY));
            MqttPacket ack = c.readBlocking();
            if (!(ack instanceof Connack connack) || connack.reasonCode() != 0) {
                c.close();
                return null;
            }
            if (!subscriptions.isEmpty() && !connack.sessionPresent()) {
                c.send(new Subscribe(1, subscriptions, MqttProperties.EMPTY));
            }
            synchronized (this) {
                // resend what is in flight, in order: PUBREL after PUBREC, else the PUBLISH again with DUP set
                for (Map.Entry<Integer, long[]> e : inflight.entrySet()) {
                    long[] f = e.getValue();
                    if (f[2] == 1) {
                        c.send(new Pubrel(e.getKey()));
                    } else {
                        c.send(new Publish(topicOf(), QoS.of((int) f[1]), false, true, e.getKey(),
                                Long.toString(f[0]).getBytes(), MqttProperties.EMPTY));
                    }
                }
                connection = c;
            }
            return c;
        } catch (RuntimeException | AssertionError e) {
            LockSupport.parkNanos(50_000_000); // the broker is restarting
            return null;
        }
    }

    private String resendTopic;

    /** The topic resends go to (a publisher here publishes on one topic). */
    private String topicOf() {
        return resendTopic;
    }

    public synchronized void topic(String topic) {
        this.resendTopic = topic;
    }

    private synchronized void handle(RawClient c, MqttPacket p) {
        switch (p.type()) {
            case PUBACK -> {
                long[] f = inflight.remove(((Puback) p).packetId());
                if (f != null) {
                    acknowledged.add(f[0]);
                }
            }
            case PUBREC -> {
                int id = ((Pubrec) p).packetId();
                long[] f = inflight.get(id);
                if (f != null) {
                    f[2] = 1;
                    acknowledged.add(f[0]);
                }
                c.send(new Pubrel(id));
            }
            case PUBCOMP -> inflight.remove(((Pubcomp) p).packetId());
            case PUBLISH -> {
                Publish pub = (Publish) p;
                String line = pub.topic() + " " + new String(pub.payload());
                switch (pub.qos()) {
                    case AT_MOST_ONCE -> received.add(line);
                    case AT_LEAST_ONCE -> {
                        received.add(line);
                        c.send(new Puback(pub.packetId()));
                    }
                    case EXACTLY_ONCE -> {
                        if (awaitingPubrel.add(pub.packetId())) {
                            received.add(line);
                        }
                        c.send(new Pubrec(pub.packetId()));
                    }
                }
            }
            case PUBREL -> {
                int id = ((Pubrel) p).packetId();
                awaitingPubrel.remove(id);
                c.send(new Pubcomp(id));
            }
            default -> {
                // SUBACK, PINGRESP
            }
        }
    }

    @Override
    public void close() {
        running.set(false);
        RawClient c = connection;
        if (c != null) {
            c.close();
        }
    }
}
