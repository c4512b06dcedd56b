package io.ternmq.broker.cluster;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.DecoderException;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.internal.PlatformDependent;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.MessageCodec;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.routing.LocalRoutes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * This node's connection to one other node, for what this node sends it: its route changes (a snapshot first on
 * every connection, then each change) and the messages it forwards; the other node answers route acknowledgements
 * and retained acknowledgements on it. One connection per node pair and direction keeps the order of each publisher's messages.
 *
 * <p>Messages are encoded into their frame on the publisher's loop and handed over through a lock-free queue; the
 * link's loop writes what has gathered and flushes once per batch. The queue is bounded (frames and bytes): past
 * it, messages are dropped and counted; past 4 MiB while the link is up, publishers are held back. While the link
 * is down (connecting, or after a failure) messages wait in the queue and the link reconnects with backoff, as long
 * as the other node is a member.
 */
final class PeerLink implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(PeerLink.class);
    private static final int BACKLOG_FRAMES = 65_536;
    private static final long MAX_BACKOFF_MILLIS = 5_000;
    private static final long BACKPRESSURE_BYTES = 4L << 20;

    private final String peerId;
    private final String selfId;
    private final EventLoop loop;
    private final Class<? extends Channel> channelClass;
    private final LinkHandshake handshake;
    private final LocalRoutes routes;
    private final BrokerMetrics metrics;
    private final LinkRefusals refusals;
    private final ClusterRetained retained;
    private final int maxFrameLength;
    private final long backlogMaxBytes;
    /** Frames ({@link ByteBuf}) and messages awaiting confirmation ({@link HeldForward}), in the order given. */
    private final Queue<Object> backlog = PlatformDependent.newMpscQueue();
    private final AtomicInteger backlogFrames = new AtomicInteger();
    private final AtomicLong backlogBytes = new AtomicLong();
    /**
     * This link's stream of messages the other node confirms (QoS 1/2): a number of its own, so that ids are never
     * mistaken for those of an earlier link to that node (or of this node's earlier run).
     */
    private final long stream = java.util.concurrent.ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
    long stream() {
        return stream;
    }

    /** The last id given on {@link #stream}; the link's loop only. */
    private long lastHeldId;
    /** Sent and not confirmed yet, by id: sent again on the next connection. The link's loop only. */
    private final java.util.TreeMap<Long, HeldForward> unconfirmed = new java.util.TreeMap<>();
    /** Told, on the link's loop, what the node never confirmed once it left the cluster. */
    private final OrphanedForwards orphans;
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private volatile Peer peer;
    private volatile boolean closed;
    private volatile boolean established;
    /** Route changes go on this connection; read and written under the routes' lock. */
    private boolean live;
    /** The link's loop only, from here on. */
    private Channel channel;
    private long backoffMillis;
    private ScheduledFuture<?> reconnect;
    /** The node left and {@link #orphans} was told (the link's loop). */
    private boolean orphansTold;
    /** The run (membership id) of the node this link goes to, once the membership named it; else null. */
    private volatile String peerRun;

    void run(String memberId) {
        peerRun = memberId;
    }

    PeerLink(String peerId, String selfId, ClusterNode.LinkLoop linkLoop, LinkHandshake handshake, LocalRoutes routes,
             BrokerMetrics metrics, LinkRefusals refusals, ClusterRetained retained, OrphanedForwards orphans,
             int maxFrameLength) {
        this.orphans = orphans;
        this.peerId = peerId;
        this.selfId = selfId;
        this.loop = linkLoop.loop();
        this.channelClass = linkLoop.channel();
        this.handshake = handshake;
        this.routes = routes;
        this.metrics = metrics;
        this.refusals = refusals;
        this.retained = retained;
        this.maxFrameLength = maxFrameLength;
        this.backlogMaxBytes = Math.max(64L << 20, 4L * maxFrameLength);
    }

    boolean isEstablished() {
        return established;
    }

    /**
     * Whether publishers should wait for this link: it is up but its queue has grown past a few MiB (the node reads
     * slower than we forward). A link that is down holds nobody back; its queue overflows instead.
     */
    boolean isCongested() {
        return established && backlogBytes.get() > BACKPRESSURE_BYTES;
    }

    /** The membership announced where the node's link listens: connect (again, if its address changed). */
    void connectTo(Peer p) {
        Peer before = peer;
        peer = p;
        execute(() -> {
            if (before != null && !before.equals(p) && channel != null) {
                channel.close(); // reconnects to the new address
            } else {
                connect();
            }
        });
    }

    /** Queues a message for the node; any thread (routing runs on the publisher's loop). */
    void forward(Message m) {
        if (closed || backlogBytes.get() >= backlogMaxBytes) {
            metrics.forwardDrops.increment(); // counted before encoding what could not be queued anyway
            return;
        }
        ByteBuf frame = LinkFrame.start(ByteBufAllocator.DEFAULT, LinkFrame.FORWARD,
                64 + m.topic().length() + m.payload().length);
        finishWith(frame, null, m);
        int bytes = frame.readableBytes();
        if (backlogBytes.get() + bytes > backlogMaxBytes || backlogFrames.get() >= BACKLOG_FRAMES
                || !offer(frame, bytes)) {
            frame.release();
            metrics.forwardDrops.increment();
            return;
        }
        metrics.forwardedSent.increment();
        metrics.forwardedBytesSent.add(bytes);
        scheduleDrain();
    }

    /**
     * Queues a QoS 1/2 message for the node, which confirms it once it holds it for good; any thread. Never dropped:
     * {@code held} runs once the node confirmed it, or, if it leaves the cluster first, once the members that may
     * adopt its sessions have it ({@link OrphanedForwards}). The publishers wait for that, so their in-flight windows
     * bound how much waits here while the node is unreachable.
     */
    void forwardHeld(Message m, Runnable held) {
        int packetId = 0;
        String resentFrom = "";
        if (held instanceof io.ternmq.broker.routing.Router.NodeCopies copies) {
            packetId = copies.publisherPacketId();
            resentFrom = copies.resentFrom() == null ? "" : copies.resentFrom();
        }
        ByteBuf frame = LinkFrame.start(ByteBufAllocator.DEFAULT, LinkFrame.FORWARD_HELD,
                96 + resentFrom.length() + m.topic().length() + m.payload().length)
                .writeLong(stream).writeLong(0).writeShort(packetId);
        finishWith(frame, resentFrom, m);
        int bytes = frame.readableBytes();
        backlog.offer(new HeldForward(frame, m, held));
        backlogFrames.incrementAndGet();
        backlogBytes.addAndGet(bytes);
        metrics.forwardedSent.increment();
        metrics.forwardedBytesSent.add(bytes);
        scheduleDrain();
    }

    /** Ends a message frame: a string (or none), the message, the length; the frame is released if that fails. */
    private static void finishWith(ByteBuf frame, String string, Message m) {
        try {
            if (string != null) {
                LinkFrame.writeString(frame, string);
            }
            MessageCodec.write(m, frame);
        } catch (RuntimeException e) {
            frame.release();
            throw e;
        }
        LinkFrame.finish(frame);
    }

    /** The node confirmed these messages of this link's stream (the link's loop). */
    private void confirmed(long[] ids) {
        for (long id : ids) {
            HeldForward h = unconfirmed.remove(id);
            if (h != null) {
                h.frame.release();
                h.held.run();
            }
        }
    }

    /**
     * Queues a message for one member of a shared group on the node; any thread. Bounded like {@link #forward}.
     *
     * @param id what the node confirms it by, or 0 (QoS 0)
     * @return false if it was dropped (counted)
     */
    boolean forwardShared(long id, String group, Message m) {
        if (closed || backlogBytes.get() >= backlogMaxBytes) {
            metrics.forwardDrops.increment();
            return false;
        }
        if (backlogFrames.get() >= BACKLOG_FRAMES) {
            metrics.forwardDrops.increment();
            return false;
        }
        ByteBuf frame = LinkFrame.start(ByteBufAllocator.DEFAULT, LinkFrame.SHARED,
                80 + group.length() + m.topic().length() + m.payload().length).writeLong(id);
        finishWith(frame, group, m);
        int bytes = frame.readableBytes();
        if (backlogBytes.get() + bytes > backlogMaxBytes || !offer(frame, bytes)) {
            frame.release();
            metrics.forwardDrops.increment();
            return false;
        }
        metrics.forwardedSent.increment();
        metrics.forwardedBytesSent.add(bytes);
        scheduleDrain();
        return true;
    }

    /**
     * Queues a frame of a session handover; any thread. Handover frames share the queue with forwarded messages, so
     * what a node forwards and what it carries of a moving session keep their order.
     *
     * @return false if it could not be queued (the frame is released)
     */
    boolean send(ByteBuf frame) {
        if (closed || !offer(frame, frame.readableBytes())) {
            frame.release();
            return false;
        }
        scheduleDrain();
        return true;
    }

    /** A change of this node's routes; called under the routes' lock, which orders the changes. */
    void announce(LocalRoutes.Change c) {
        if (!live) {
            return; // the snapshot of the next connection includes it
        }
        ByteBuf frame = LinkFrame.routeFrame(ByteBufAllocator.DEFAULT,
                c.added() ? LinkFrame.ROUTE_ADD : LinkFrame.ROUTE_REMOVE, c.seq(), c.filter());
        if (!offer(frame, frame.readableBytes())) {
            // a lost change would go unnoticed: start over with a snapshot on a new connection
            frame.release();
            live = false;
            execute(() -> {
                if (channel != null) {
                    channel.close();
                }
            });
            return;
        }
        scheduleDrain();
    }

    private boolean offer(ByteBuf frame, int bytes) {
        if (!backlog.offer(frame)) {
            return false;
        }
        backlogFrames.incrementAndGet();
        backlogBytes.addAndGet(bytes);
        if (closed) {
            scheduleDrain(); // the drain releases what a closed link still holds
        }
        return true;
    }

    /** The node left: no reconnect, and what waits for it is dropped. */
    void close() {
        closed = true;
        execute(() -> {
            if (reconnect != null) {
                reconnect.cancel(false);
            }
            if (channel != null) {
                channel.close();
            }
            run();
        });
    }

    private void execute(Runnable task) {
        try {
            loop.execute(task);
        } catch (RejectedExecutionException e) {
            // the link's loop is shutting down with the broker
        }
    }

    private void scheduleDrain() {
        if (drainScheduled.compareAndSet(false, true)) {
            execute(this);
        }
    }

    /** Writes what the queue holds while the connection takes it, then flushes once. The link's loop. */
    @Override
    public void run() {
        drainScheduled.set(false);
        Object o;
        if (closed) {
            while ((o = backlog.poll()) != null) {
                ByteBuf f = taken(o);
                if (o instanceof HeldForward h) {
                    unconfirmed.put(h.id, h); // never sent: an orphan like those sent
                } else {
                    f.release();
                    metrics.forwardDrops.increment();
                }
            }
            if (!unconfirmed.isEmpty() || !orphansTold) {
                orphansTold = true;
                List<HeldForward> left = new ArrayList<>(unconfirmed.values());
                unconfirmed.clear();
                orphans.orphaned(peerId, peerRun, stream, left);
            }
            return;
        }
        Channel ch = channel;
        if (!established || ch == null) {
            return; // kept until the link is up
        }
        int n = 0;
        while (ch.isWritable() && (o = backlog.poll()) != null) {
            ByteBuf f = taken(o);
            if (o instanceof HeldForward h) {
                unconfirmed.put(h.id, h);
                f = f.retainedDuplicate(); // kept until confirmed, to be sent again on a new connection
            }
            ch.write(f, ch.voidPromise());
            n++;
        }
        if (n > 0) {
            ch.flush();
        }
    }

    /** A queued item leaves the queue (the link's loop): a held message gets its id, in queue order. */
    private ByteBuf taken(Object o) {
        backlogFrames.decrementAndGet();
        ByteBuf f;
        if (o instanceof HeldForward h) {
            h.id = ++lastHeldId;
            f = h.frame;
            f.setLong(f.readerIndex() + LinkFrame.HELD_ID_OFFSET, h.id);
        } else {
            f = (ByteBuf) o;
        }
        backlogBytes.addAndGet(-f.readableBytes());
        return f;
    }

    private void connect() {
        Peer p = peer;
        if (closed || p == null || channel != null || reconnect != null) {
            return;
        }
        ChannelFuture f = new Bootstrap().group(loop).channel(channelClass)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5_000)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new LinkFrame.Decoder(maxFrameLength), new Handler());
                    }
                })
                .connect(p.host(), p.linkPort());
        channel = f.channel();
        f.addListener(done -> {
            if (!done.isSuccess()) {
                LOG.debug("cluster: cannot reach node {} at {}:{}: {}", peerId, p.host(), p.linkPort(),
                        done.cause().toString());
                disconnected(f.channel()); // never active: no channelInactive
            }
        });
    }

    private void disconnected(Channel ch) {
        if (channel != ch) {
            return;
        }
        synchronized (routes) {
            live = false;
        }
        if (established) {
            LOG.info("cluster: data link to node {} down", peerId);
        }
        established = false;
        channel = null;
        if (closed) {
            run();
            return;
        }
        backoffMillis = backoffMillis == 0 ? 100 : Math.min(backoffMillis * 2, MAX_BACKOFF_MILLIS);
        reconnect = loop.schedule(() -> {
            reconnect = null;
            connect();
        }, backoffMillis, TimeUnit.MILLISECONDS);
    }

    /** Authenticated: the routes snapshot goes first, then every change and message in order. */
    private void goLive(Channel ch) {
        // taken under the routes' lock, written after it (subscribing loops wait on that lock): changes made
        // meanwhile are queued once live is set and drained by run() on this loop, after the snapshot's frames
        List<String> filters = new ArrayList<>();
        long seq;
        synchronized (routes) {
            seq = routes.snapshot(filters::add);
            live = true;
        }
        ch.write(LinkFrame.finish(LinkFrame.start(ch.alloc(), LinkFrame.SNAPSHOT_START, 0)), ch.voidPromise());
        for (String filter : filters) {
            ch.write(LinkFrame.routeFrame(ch.alloc(), LinkFrame.ROUTE_ADD, 0, filter), ch.voidPromise());
        }
        ch.write(LinkFrame.seqFrame(ch.alloc(), LinkFrame.SNAPSHOT_END, seq), ch.voidPromise());
        // retained changes the node has not acknowledged may have died with the last connection
        for (ByteBuf f : retained.unacknowledged(peerId)) {
            ch.write(f, ch.voidPromise());
        }
        // so may messages it had not confirmed: it confirms those it has already without taking them twice
        for (HeldForward h : unconfirmed.values()) {
            ch.write(h.frame.retainedDuplicate(), ch.voidPromise());
        }
        ch.flush();
        established = true;
        backoffMillis = 0;
        LOG.info("cluster: data link to node {} up", peerId);
        run();
    }

    /** The connecting side of the handshake, then route acknowledgements. */
    private final class Handler extends ChannelInboundHandlerAdapter {
        private final byte[] nonce = LinkHandshake.nonce();
        private boolean authenticated;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ByteBuf hello = LinkFrame.start(ctx.alloc(), LinkFrame.HELLO, 64).writeInt(LinkFrame.VERSION);
            LinkFrame.writeString(hello, handshake.clusterName());
            LinkFrame.writeString(hello, selfId);
            hello.writeBytes(nonce);
            ctx.writeAndFlush(LinkFrame.finish(hello));
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf frame = (ByteBuf) msg;
            try {
                byte type = frame.readByte();
                if (type == LinkFrame.CHALLENGE && !authenticated) {
                    challenge(ctx, frame);
                } else if (type == LinkFrame.ROUTE_ACK && authenticated) {
                    routes.acknowledged(peerId, frame.readLong());
                } else if (type == LinkFrame.RETAIN_ACK && authenticated) {
                    retained.acknowledged(peerId, LinkFrame.readIds(frame));
                } else if (type == LinkFrame.FORWARD_ACK && authenticated) {
                    confirmed(LinkFrame.readIds(frame));
                } else {
                    refusals.refuse(ctx.channel(), "unexpected frame type " + type);
                }
            } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
                refusals.refuse(ctx.channel(), "malformed frame: " + e.getMessage());
            } finally {
                frame.release();
            }
        }

        private void challenge(ChannelHandlerContext ctx, ByteBuf frame) {
            int version = frame.readInt();
            if (version != LinkFrame.VERSION) {
                refusals.refuse(ctx.channel(), "node " + peerId + " speaks link version " + version + ", this node "
                        + LinkFrame.VERSION);
                return;
            }
            String name = LinkFrame.readString(frame);
            String id = LinkFrame.readString(frame);
            byte[] theirNonce = new byte[LinkHandshake.NONCE_BYTES];
            frame.readBytes(theirNonce);
            byte[] mac = new byte[LinkHandshake.MAC_BYTES];
            frame.readBytes(mac);
            if (!name.equals(handshake.clusterName())) {
                refusals.refuse(ctx.channel(), "cluster name '" + name + "', not '" + handshake.clusterName() + "'");
            } else if (!id.equals(peerId)) {
                refusals.refuse(ctx.channel(), "node " + id + " answered, not " + peerId);
            } else if (!LinkHandshake.matches(handshake.acceptorMac(selfId, nonce, id, theirNonce), mac)) {
                refusals.refuse(ctx.channel(), "node " + peerId + " does not know the cluster secret");
            } else {
                authenticated = true;
                ByteBuf proof = LinkFrame.start(ctx.alloc(), LinkFrame.PROOF, LinkHandshake.MAC_BYTES);
                proof.writeBytes(handshake.connectorMac(selfId, nonce, id, theirNonce));
                ctx.write(LinkFrame.finish(proof));
                goLive(ctx.channel());
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                scheduleDrain();
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            disconnected(ctx.channel());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof DecoderException || cause instanceof LinkFrame.Decoder.TruncatedFrameException) {
                refusals.refuse(ctx.channel(), cause.getMessage());
            } else {
                LOG.debug("cluster: data link to node {}: {}", peerId, cause.toString());
                ctx.close();
            }
        }
    }

    /** A QoS 1/2 message forwarded to the node and not confirmed yet: its frame (id set when sent) and whom to tell. */
    static final class HeldForward {
        final ByteBuf frame;
        final Message message;
        final Runnable held;
        /** Given on the link's loop when it leaves the queue. */
        long id;

        HeldForward(ByteBuf frame, Message message, Runnable held) {
            this.frame = frame;
            this.message = message;
            this.held = held;
        }
    }
}
