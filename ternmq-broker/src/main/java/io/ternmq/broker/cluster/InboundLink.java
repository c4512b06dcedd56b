package io.ternmq.broker.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.util.concurrent.ScheduledFuture;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.MessageCodec;
import io.ternmq.broker.routing.DeliveryTarget;
import io.ternmq.codec.MalformedPacketException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A connection another node opened to this one, for what it sends: the accepting side of the handshake, then its
 * route changes (applied to its {@link RemoteNode}'s proxy subscriptions and acknowledged once per read batch) and
 * the messages it forwards (routed to this node's own subscribers only), and its retained changes (applied, then
 * acknowledged once per read batch). Anything unexpected closes the connection
 * through {@link LinkRefusals}.
 */
final class InboundLink extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(InboundLink.class);
    private static final long HANDSHAKE_TIMEOUT_SECONDS = 10;

    private enum State { HELLO, PROOF, ESTABLISHED }

    private final ClusterNode cluster;
    private final LinkHandshake handshake;
    private final LinkRefusals refusals;
    private State state = State.HELLO;
    private String peerId;
    private byte[] peerNonce;
    private byte[] nonce;
    private RemoteNode node;
    private ScheduledFuture<?> handshakeTimeout;
    /** Routes seen in the snapshot being received, or null outside one. */
    private Set<String> snapshot;
    /** The latest route change applied on this connection; -1 until its snapshot is. */
    private long applied = -1;
    private boolean ackDue;
    /** While set, a subscriber here is falling behind and this link is not read (see {@link #holdBack}). */
    private DeliveryTarget slow;
    /** Frames read while {@link #slow} is set, handled in order once it caught up. */
    private final ArrayDeque<ByteBuf> held = new ArrayDeque<>();
    /** RETAIN frames applied in this read batch, acknowledged at its end. */
    private long[] retainAcks = new long[8];
    private int retainAckCount;
    /** FORWARD_HELD ids held for good here and not yet confirmed to the sender (this link's loop). */
    private long[] heldAcks = new long[16];
    private int heldAckCount;

    InboundLink(ClusterNode cluster, LinkHandshake handshake, LinkRefusals refusals) {
        this.cluster = cluster;
        this.handshake = handshake;
        this.refusals = refusals;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        handshakeTimeout = ctx.executor().schedule(() -> {
            if (state != State.ESTABLISHED) {
                refusals.refuse(ctx.channel(), "no handshake within " + HANDSHAKE_TIMEOUT_SECONDS + " s");
            }
        }, HANDSHAKE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        if (slow != null) {
            held.add(frame); // read before the pause took effect: handled after it, in order
            return;
        }
        process(ctx, frame);
    }

    private void process(ChannelHandlerContext ctx, ByteBuf frame) {
        try {
            if (ctx.channel().isOpen()) {
                read(ctx, frame.readByte(), frame);
            }
        } catch (IndexOutOfBoundsException | IllegalArgumentException | MalformedPacketException e) {
            refusals.refuse(ctx.channel(), "malformed frame: " + e.getMessage());
        } finally {
            frame.release();
        }
    }

    private void read(ChannelHandlerContext ctx, byte type, ByteBuf frame) throws MalformedPacketException {
        if (state == State.HELLO && type == LinkFrame.HELLO) {
            hello(ctx, frame);
            return;
        }
        if (state == State.PROOF && type == LinkFrame.PROOF) {
            proof(ctx, frame);
            return;
        }
        if (state != State.ESTABLISHED) {
            refusals.refuse(ctx.channel(), "frame type " + type + " before the handshake");
            return;
        }
        switch (type) {
            case LinkFrame.FORWARD -> {
                int bytes = 5 + frame.readableBytes(); // the whole frame, as its sender counts it
                Message m = MessageCodec.read(frame);
                DeliveryTarget congested = cluster.forwarded(m, bytes);
                if (congested != null) {
                    holdBack(ctx, congested);
                }
            }
            case LinkFrame.FORWARD_HELD -> {
                int bytes = 5 + frame.readableBytes();
                long stream = frame.readLong();
                long id = frame.readLong();
                int packetId = frame.readUnsignedShort();
                String resentFrom = LinkFrame.readString(frame);
                Message m = MessageCodec.read(frame);
                DeliveryTarget congested = cluster.forwardedHeld(node, m, bytes, stream, id, packetId,
                        resentFrom.isEmpty() ? null : resentFrom, ctx.executor(), () -> confirm(ctx, id));
                if (congested != null) {
                    holdBack(ctx, congested);
                }
            }
            case LinkFrame.ORPHAN -> {
                String dead = LinkFrame.readString(frame);
                long stream = frame.readLong();
                long id = frame.readLong();
                boolean routedHere = frame.readBoolean();
                cluster.orphans().received(peerId, dead, stream, id, MessageCodec.read(frame), routedHere);
            }
            case LinkFrame.ORPHANS_END -> {
                String dead = LinkFrame.readString(frame);
                frame.readLong(); // the stream, for the record
                long batch = frame.readLong();
                int count = frame.readInt();
                cluster.orphans().ended(peerId, dead, batch, count);
            }
            case LinkFrame.EARLIER_RUN -> cluster.orphans().earlierRun(peerId, LinkFrame.readString(frame));
            case LinkFrame.RUN_READY -> cluster.orphans().runReady(peerId);
            case LinkFrame.ORPHANS_ACK -> {
                String dead = LinkFrame.readString(frame);
                cluster.orphans().acknowledged(peerId, dead, frame.readLong());
            }
            case LinkFrame.ROUTE_ADD -> {
                long seq = frame.readLong();
                String filter = LinkFrame.readString(frame);
                if (snapshot != null) {
                    snapshot.add(filter);
                    node.addRoute(filter);
                } else if (applied >= 0 && seq > applied) {
                    node.addRoute(filter);
                    applied(seq);
                }
            }
            case LinkFrame.ROUTE_REMOVE -> {
                long seq = frame.readLong();
                String filter = LinkFrame.readString(frame);
                if (snapshot == null && applied >= 0 && seq > applied) {
                    node.removeRoute(filter);
                    applied(seq);
                }
            }
            case LinkFrame.SNAPSHOT_START -> snapshot = new HashSet<>();
            case LinkFrame.SNAPSHOT_END -> {
                long seq = frame.readLong();
                if (snapshot == null) {
                    throw new IllegalArgumentException("snapshot end without a start");
                }
                node.keepOnly(snapshot);
                snapshot = null;
                applied(Math.max(seq, applied));
                node.routesReceived();
            }
            case LinkFrame.RETAIN -> {
                long seq = frame.readLong();
                long version = frame.readLong();
                cluster.retained().received(version, MessageCodec.read(frame));
                if (retainAckCount == retainAcks.length) {
                    retainAcks = java.util.Arrays.copyOf(retainAcks, retainAckCount * 2);
                }
                retainAcks[retainAckCount++] = seq;
            }
            case LinkFrame.SHARED -> {
                int bytes = 5 + frame.readableBytes();
                long id = frame.readLong();
                String group = LinkFrame.readString(frame);
                if (!io.ternmq.codec.TopicSyntax.isSharedSubscription(group)
                        || !io.ternmq.codec.TopicSyntax.isValidTopicFilter(group)) {
                    throw new IllegalArgumentException("'" + group + "' is not a shared subscription");
                }
                Message m = MessageCodec.read(frame);
                cluster.metricsForwarded(bytes);
                cluster.shared().received(peerId, id, group, m);
            }
            case LinkFrame.SHARED_ACK -> cluster.shared().confirmed(peerId, frame.readLong());
            case LinkFrame.HANDOVER_REQUEST, LinkFrame.HANDOVER_BEGIN, LinkFrame.HANDOVER_ENTRY,
                    LinkFrame.HANDOVER_END, LinkFrame.HANDOVER_CARRY, LinkFrame.HANDOVER_DONE,
                    LinkFrame.HANDOVER_ABORT, LinkFrame.HANDOVER_CARRIED ->
                    cluster.handover(peerId, HandoverFrame.read(type, frame));
            default -> refusals.refuse(ctx.channel(), "unexpected frame type " + type);
        }
    }

    /**
     * A subscriber here is falling behind but consuming: stop reading this link until it caught up, as a local
     * publisher would be held back. The sending node's link queue then fills, and past its bound it holds back the
     * publishers there, instead of this node overflowing the subscriber's queue and dropping what they sent. Frames
     * of the read under way when reading stopped wait in {@link #held}.
     */
    private void holdBack(ChannelHandlerContext ctx, DeliveryTarget target) {
        slow = target;
        ctx.channel().config().setAutoRead(false);
        cluster.metrics().publishesBackpressured.increment();
        ctx.executor().schedule(() -> resumeWhenCaughtUp(ctx), 1, TimeUnit.MILLISECONDS);
    }

    private void resumeWhenCaughtUp(ChannelHandlerContext ctx) {
        if (!ctx.channel().isActive()) {
            return; // channelInactive releases what is held
        }
        if (slow.wantsBackpressure()) {
            ctx.executor().schedule(() -> resumeWhenCaughtUp(ctx), 1, TimeUnit.MILLISECONDS);
            return;
        }
        slow = null;
        while (slow == null && !held.isEmpty()) {
            process(ctx, held.poll());
        }
        acknowledge(ctx); // held frames get no channelReadComplete of their own
        if (slow == null) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    /**
     * A FORWARD_HELD message is held here for good (stored and replicated where it must be): confirmed to its
     * sender with the others that are by the time this loop gets to it, in one frame.
     */
    private void confirm(ChannelHandlerContext ctx, long id) {
        if (heldAckCount == heldAcks.length) {
            heldAcks = java.util.Arrays.copyOf(heldAcks, heldAckCount * 2);
        }
        heldAcks[heldAckCount++] = id;
        if (heldAckCount == 1) {
            ctx.executor().execute(() -> {
                if (heldAckCount > 0 && ctx.channel().isOpen()) {
                    ctx.writeAndFlush(LinkFrame.idsFrame(ctx.alloc(), LinkFrame.FORWARD_ACK, heldAcks, heldAckCount));
                }
                heldAckCount = 0; // on a closed link the sender sends them again on its next connection
            });
        }
    }

    private void applied(long seq) {
        applied = seq;
        ackDue = true;
    }

    private void hello(ChannelHandlerContext ctx, ByteBuf frame) {
        int version = frame.readInt();
        if (version != LinkFrame.VERSION) {
            refusals.refuse(ctx.channel(), "link version " + version + ", this node speaks " + LinkFrame.VERSION);
            return;
        }
        String name = LinkFrame.readString(frame);
        if (!name.equals(handshake.clusterName())) {
            refusals.refuse(ctx.channel(), "cluster name '" + name + "', not '" + handshake.clusterName() + "'");
            return;
        }
        peerId = LinkFrame.readString(frame);
        peerNonce = new byte[LinkHandshake.NONCE_BYTES];
        frame.readBytes(peerNonce);
        nonce = LinkHandshake.nonce();
        ByteBuf challenge = LinkFrame.start(ctx.alloc(), LinkFrame.CHALLENGE, 128).writeInt(LinkFrame.VERSION);
        LinkFrame.writeString(challenge, handshake.clusterName());
        LinkFrame.writeString(challenge, cluster.nodeId());
        challenge.writeBytes(nonce);
        challenge.writeBytes(handshake.acceptorMac(peerId, peerNonce, cluster.nodeId(), nonce));
        ctx.writeAndFlush(LinkFrame.finish(challenge));
        state = State.PROOF;
    }

    private void proof(ChannelHandlerContext ctx, ByteBuf frame) {
        byte[] mac = new byte[LinkHandshake.MAC_BYTES];
        frame.readBytes(mac);
        if (!LinkHandshake.matches(handshake.connectorMac(peerId, peerNonce, cluster.nodeId(), nonce), mac)) {
            refusals.refuse(ctx.channel(), "node " + peerId + " does not know the cluster secret");
            return;
        }
        handshakeTimeout.cancel(false);
        node = cluster.member(peerId);
        if (node == null) {
            LOG.debug("cluster: data link from node {} closed: not a member (yet, or any more)", peerId);
            ctx.close();
            return;
        }
        state = State.ESTABLISHED;
        node.attach(ctx.channel());
        LOG.debug("cluster: data link from node {} up", peerId);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        acknowledge(ctx);
        ctx.fireChannelReadComplete();
    }

    /**
     * One acknowledgement for the route changes, one for the retained changes applied since the last (per read
     * batch, or per drain of held frames).
     */
    private void acknowledge(ChannelHandlerContext ctx) {
        if (ackDue && ctx.channel().isOpen()) {
            ackDue = false;
            ctx.writeAndFlush(LinkFrame.seqFrame(ctx.alloc(), LinkFrame.ROUTE_ACK, applied));
        }
        if (retainAckCount > 0 && ctx.channel().isOpen()) {
            ByteBuf ack = LinkFrame.start(ctx.alloc(), LinkFrame.RETAIN_ACK, 4 + 8 * retainAckCount)
                    .writeInt(retainAckCount);
            for (int i = 0; i < retainAckCount; i++) {
                ack.writeLong(retainAcks[i]);
            }
            retainAckCount = 0;
            ctx.writeAndFlush(LinkFrame.finish(ack));
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        for (ByteBuf frame; (frame = held.poll()) != null; ) {
            frame.release();
        }
        if (handshakeTimeout != null) {
            handshakeTimeout.cancel(false);
        }
        if (node != null) {
            node.detach(ctx.channel());
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException || cause instanceof LinkFrame.Decoder.TruncatedFrameException) {
            refusals.refuse(ctx.channel(), cause.getMessage());
        } else {
            LOG.debug("cluster: data link from {}: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        }
    }
}
