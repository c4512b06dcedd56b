package io.ternmq.broker.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.MessageCodec;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.metrics.RateLimitedLog;
import io.ternmq.broker.retain.RetainedReplication;
import io.ternmq.broker.retain.RetainedStore;
import io.ternmq.broker.routing.Router;
import io.ternmq.codec.MalformedPacketException;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.QoS;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Retained messages cluster-wide. The truth is the {@link RetainedMap} in Hazelcast; each node's own
 * {@link RetainedStore} is the index it matches new subscriptions against, and it holds the whole cluster's set.
 *
 * <p>A client's retained change goes to the map first, which versions it; then this node applies it to its index and
 * sends it, with its version, to every other member on the data link ({@link LinkFrame#RETAIN}); each applies it and
 * acknowledges ({@link LinkFrame#RETAIN_ACK}). Only when every member has acknowledged (or left) is the publisher
 * acknowledged, as a SUBACK waits for route acknowledgements: a subscriber on any node then finds it. Every node
 * keeps, per topic, the version its index holds and applies a change only if its version is higher, so concurrent
 * changes converge on the map's value on every node, in whatever order they arrive. Changes not acknowledged when a
 * link reconnects are sent again (applying twice is harmless).
 *
 * <p>A node that starts offers the retained messages it restored from its store to the map (kept only where the map
 * has nothing for the topic), waits until every member's data link to it is up, then loads the whole map: from then
 * on every change reaches it on the link.
 */
final class ClusterRetained implements RetainedReplication {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterRetained.class);
    private static final long TOMBSTONE_MILLIS = TimeUnit.MINUTES.toMillis(RetainedMap.TOMBSTONE_MINUTES);

    /** A change sent to other nodes and not yet acknowledged by all of them. */
    private static final class Pending {
        final byte[] frame;
        final Set<String> waiting = ConcurrentHashMap.newKeySet();
        final Runnable done;

        Pending(byte[] frame, Runnable done) {
            this.frame = frame;
            this.done = done;
        }
    }

    private record Tombstone(String topic, long version, long atMillis) {
    }

    private final ClusterNode cluster;
    private final Router router;
    private final RetainedStore index;
    private final BrokerMetrics metrics;
    private final RateLimitedLog failures = new RateLimitedLog(LOG, 10_000);
    private final Object lock = new Object();
    /** Topic to the version the index holds (or cleared it with); under {@link #lock}. */
    private final Map<String, Long> versions = new HashMap<>();
    /** Cleared topics, oldest first, whose version is forgotten after {@link RetainedMap#TOMBSTONE_MINUTES}. */
    private final ArrayDeque<Tombstone> tombstones = new ArrayDeque<>();
    private final AtomicLong seq = new AtomicLong();
    private final ConcurrentSkipListMap<Long, Pending> pending = new ConcurrentSkipListMap<>();
    private volatile RetainedMap map;

    ClusterRetained(ClusterNode cluster, Router router, BrokerMetrics metrics) {
        this.cluster = cluster;
        this.router = router;
        this.index = router.retained();
        this.metrics = metrics;
    }

    /**
     * Joins the cluster's retained set (blocking; at start, before the listeners open): offers what the store
     * restored, then loads the map.
     */
    void start(RetainedMap map) throws InterruptedException {
        this.map = map;
        long t0 = System.nanoTime();
        List<Message> restored = new ArrayList<>();
        index.match("#", restored::add);
        List<CompletableFuture<Long>> offers = new ArrayList<>(restored.size());
        for (Message m : restored) {
            offers.add(map.offer(m.topic(), encode(m), RetainedMap.stamp(m.createdAtMillis())).toCompletableFuture());
        }
        try {
            CompletableFuture.allOf(offers.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.warn("cluster: the retained messages restored from the store could not all be offered: {}",
                    e.toString());
        }
        int[] loaded = new int[1];
        map.forEach((topic, value) -> {
            try {
                byte[] bytes = RetainedMap.message(value);
                apply(bytes == null ? cleared(topic) : decode(bytes), RetainedMap.version(value));
                loaded[0]++;
            } catch (MalformedPacketException e) {
                LOG.warn("cluster: left out an unreadable retained message on '{}': {}", topic, e.getMessage());
            }
        });
        synchronized (lock) {
            // restored here, but not (any more) in the cluster's set
            for (Message m : restored) {
                if (!versions.containsKey(m.topic())) {
                    index.put(cleared(m.topic()));
                    router.storeRetained(cleared(m.topic()));
                }
            }
        }
        LOG.info("cluster: {} retained messages and tombstones loaded in {} ms ({} restored from the store)",
                loaded[0], (System.nanoTime() - t0) / 1_000_000, restored.size());
        cluster.every(60, this::forgetTombstones);
    }

    /**
     * Loads the map again (blocking; on a thread of its own): after this node lost members and sees them again (it
     * was cut off or paused, or they were), changes made on the other side did not reach it on the link. Highest
     * version wins, as always; after a merge the map holds the highest of both sides ({@link RetainedMergePolicy}).
     */
    void reload() {
        RetainedMap m = map;
        if (m == null) {
            return;
        }
        long t0 = System.nanoTime();
        int[] loaded = new int[1];
        try {
            m.forEach((topic, value) -> {
                try {
                    byte[] bytes = RetainedMap.message(value);
                    apply(bytes == null ? cleared(topic) : decode(bytes), RetainedMap.version(value));
                    loaded[0]++;
                } catch (MalformedPacketException e) {
                    LOG.warn("cluster: left out an unreadable retained message on '{}': {}", topic, e.getMessage());
                }
            });
        } catch (RuntimeException e) {
            LOG.warn("cluster: retained messages not reloaded: {}", e.toString());
            return;
        }
        LOG.info("cluster: {} retained messages and tombstones reloaded in {} ms after the membership healed",
                loaded[0], (System.nanoTime() - t0) / 1_000_000);
    }

    @Override
    public void replicate(Message message, Runnable done) {
        RetainedMap m = map;
        if (m == null) {
            done.run(); // not started: only wills of a node that is closing get here
            return;
        }
        byte[] bytes = message.payload().length == 0 ? null : encode(message);
        java.util.concurrent.CompletionStage<Long> set;
        try {
            set = m.set(message.topic(), bytes, RetainedMap.stamp(System.currentTimeMillis()));
        } catch (RuntimeException e) {
            failed(message, e, done); // Hazelcast is shutting down
            return;
        }
        set.whenComplete((version, e) -> {
            if (e != null) {
                failed(message, e, done);
                return;
            }
            apply(message, version);
            send(message, version, done);
        });
    }

    private void failed(Message message, Throwable e, Runnable done) {
        metrics.retainedReplicationFailures.increment();
        failures.warn("cluster: retained message on '{}' not replicated: {}", message.topic(), e.toString());
        done.run();
    }

    /** Sends a versioned change to every member and runs {@code done} once each has applied it. */
    private void send(Message message, long version, Runnable done) {
        long s = seq.incrementAndGet();
        ByteBuf b = LinkFrame.start(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, LinkFrame.RETAIN, 80 + message.topic().length()
                + message.payload().length).writeLong(s).writeLong(version);
        MessageCodec.write(message, b);
        byte[] frame = new byte[LinkFrame.finish(b).readableBytes()];
        b.readBytes(frame);
        b.release();
        Pending p = new Pending(frame, done);
        p.waiting.addAll(cluster.memberIds());
        pending.put(s, p);
        // a member that left between the two lines above is not waited for
        p.waiting.retainAll(cluster.memberIds());
        for (String peer : p.waiting) {
            sendTo(peer, s, p);
        }
        check(s, p);
    }

    private void sendTo(String peer, long s, Pending p) {
        if (!cluster.send(peer, Unpooled.wrappedBuffer(p.frame)) && p.waiting.contains(peer)) {
            // its link's queue is full: try again shortly (it is also sent again when the link reconnects)
            cluster.later(() -> {
                if (pending.get(s) == p && p.waiting.contains(peer)) {
                    sendTo(peer, s, p);
                }
            }, 1);
        }
    }

    private void check(long s, Pending p) {
        if (p.waiting.isEmpty() && pending.remove(s, p)) {
            p.done.run();
        }
    }

    /** A member acknowledged changes this node sent (its outbound link's loop). */
    void acknowledged(String peer, long[] seqs) {
        for (long s : seqs) {
            Pending p = pending.get(s);
            if (p != null) {
                p.waiting.remove(peer);
                check(s, p);
            }
        }
    }

    /** A member left: nobody waits for it any more. */
    void peerLeft(String peer) {
        for (Map.Entry<Long, Pending> e : pending.entrySet()) {
            e.getValue().waiting.remove(peer);
            check(e.getKey(), e.getValue());
        }
    }

    /** What a member's new link carries first: every change it has not acknowledged yet, in order. */
    List<ByteBuf> unacknowledged(String peer) {
        List<ByteBuf> frames = new ArrayList<>();
        for (Pending p : pending.values()) {
            if (p.waiting.contains(peer)) {
                frames.add(Unpooled.wrappedBuffer(p.frame));
            }
        }
        return frames;
    }

    /** A change another node sent (its inbound link's loop): applied before it is acknowledged. */
    void received(long version, Message message) {
        apply(message, version);
    }

    /** Applies a change to this node's index (and store) if it is newer than what the index holds. */
    private void apply(Message message, long version) {
        String topic = message.topic();
        synchronized (lock) {
            Long current = versions.get(topic);
            if (current != null && current >= version) {
                return;
            }
            versions.put(topic, version);
            if (message.payload().length == 0) {
                tombstones.add(new Tombstone(topic, version, System.currentTimeMillis()));
            }
            index.put(message);
            router.storeRetained(message);
        }
    }

    /** Forgets the versions of topics cleared long ago, as the map forgets their tombstones. */
    private void forgetTombstones() {
        long before = System.currentTimeMillis() - TOMBSTONE_MILLIS;
        synchronized (lock) {
            Tombstone t;
            while ((t = tombstones.peek()) != null && t.atMillis() < before) {
                tombstones.poll();
                versions.remove(t.topic(), t.version());
            }
        }
    }

    private static Message cleared(String topic) {
        return new Message(topic, QoS.AT_MOST_ONCE, true, new byte[0], MqttProperties.EMPTY, null, 0);
    }

    private static byte[] encode(Message m) {
        ByteBuf b = Unpooled.buffer(64 + m.topic().length() + m.payload().length);
        try {
            MessageCodec.write(m, b);
            byte[] bytes = new byte[b.readableBytes()];
            b.readBytes(bytes);
            return bytes;
        } finally {
            b.release();
        }
    }

    private static Message decode(byte[] bytes) throws MalformedPacketException {
        return MessageCodec.read(Unpooled.wrappedBuffer(bytes));
    }
}
