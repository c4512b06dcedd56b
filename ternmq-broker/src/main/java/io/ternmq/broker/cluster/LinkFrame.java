package io.ternmq.broker.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;

import java.nio.charset.StandardCharsets;

/**
 * The data link's frames: a 4-byte length, a type byte, the body. Strings are a 2-byte length and UTF-8.
 * <pre>
 * HELLO          version:int name:str nodeId:str nonce:16         connecting node, first
 * CHALLENGE      version:int name:str nodeId:str nonce:16 mac:32  accepting node's answer, proving the secret
 * PROOF          mac:32                                           connecting node proves the secret
 * SNAPSHOT_START                                                  every route of the sender follows
 * ROUTE_ADD      seq:long filter:str                              (in a snapshot, seq is 0)
 * ROUTE_REMOVE   seq:long filter:str
 * SNAPSHOT_END   seq:long                                         the snapshot holds every change up to seq
 * ROUTE_ACK      seq:long                                         (accepting node) every change up to seq applied
 * FORWARD        message (MessageCodec's form)                    to the receiver's own subscribers
 * HANDOVER_*     a session moving between nodes: {@link HandoverFrame}
 * RETAIN         seq:long version:long message                    a retained change, versioned by the cluster's map
 * RETAIN_ACK     count:int seq:long...                            (accepting node) these RETAIN frames applied
 * SHARED         id:long group:str message                        for one member of a shared group (id 0: QoS 0)
 * SHARED_ACK     id:long                                          the member took SHARED id (or the node holds it)
 * FORWARD_HELD   stream:long id:long packetId:short resentFrom:str message
 *                                                                 QoS 1/2 FORWARD the receiver confirms; a QoS 2
 *                                                                 one with its publisher's packet id, and for a resend
 *                                                                 after its node died, that node
 * FORWARD_ACK    count:int id:long...                             (accepting node) these are held for good here
 * ORPHAN         dead:str stream:long id:long here:bool message   FORWARD_HELD the dead node never confirmed
 *                                                                 (here: also forwarded to the receiver)
 * ORPHANS_END    dead:str stream:long batch:long count:int        every ORPHAN of the batch sent
 * ORPHANS_ACK    dead:str batch:long                              (reply on the other link) the batch is kept
 * </pre>
 * Version 2 added the handover frames; version 3 HANDOVER_ABORT; version 4 RETAIN, RETAIN_ACK, SHARED and
 * SHARED_ACK (types 30-39 are retained messages' and shared subscriptions'), and shared subscriptions became routes
 * of their own ({@code $share/g/f}, no longer {@code f}); version 5 FORWARD_HELD to ORPHANS_ACK (types 40-49:
 * QoS 1/2 messages acknowledged to their publisher only once the node holding the subscriber's session has them);
 * version 6 HANDOVER_CARRIED; version 7 an adopted session's HANDOVER_BEGIN carries what its replica held; version 8
 * EARLIER_RUN and RUN_READY (a node restarted on its data adopts the sessions of its run that died); version 9
 * HANDOVER_CARRIED says which of the dead run's orphans an adopted session's holder accounted for.
 */
final class LinkFrame {
    static final int VERSION = 9;

    static final byte HELLO = 1;
    static final byte CHALLENGE = 2;
    static final byte PROOF = 3;
    static final byte SNAPSHOT_START = 4;
    static final byte ROUTE_ADD = 5;
    static final byte ROUTE_REMOVE = 6;
    static final byte SNAPSHOT_END = 7;
    static final byte ROUTE_ACK = 8;
    static final byte FORWARD = 9;
    static final byte HANDOVER_REQUEST = 10;
    static final byte HANDOVER_BEGIN = 11;
    static final byte HANDOVER_ENTRY = 12;
    static final byte HANDOVER_END = 13;
    static final byte HANDOVER_CARRY = 14;
    static final byte HANDOVER_DONE = 15;
    static final byte HANDOVER_ABORT = 16;
    static final byte HANDOVER_CARRIED = 17;
    static final byte RETAIN = 30;
    static final byte RETAIN_ACK = 31;
    static final byte SHARED = 32;
    static final byte SHARED_ACK = 33;
    static final byte FORWARD_HELD = 40;
    static final byte FORWARD_ACK = 41;
    static final byte ORPHAN = 42;
    static final byte ORPHANS_END = 43;
    static final byte ORPHANS_ACK = 44;
    /** To a node that (re)joined: the run of it this node saw die (or none), after that run's orphans. */
    static final byte EARLIER_RUN = 45;
    /** From a node that (re)joined: it adopted its earlier run's sessions and every node routes them to it. */
    static final byte RUN_READY = 46;
    /** Where a FORWARD_HELD frame's id is, from its start (length, type, stream before it). */
    static final int HELD_ID_OFFSET = 13;

    /** Room for a message's own header (publisher id up to 65,535 bytes, times) beside the largest packet. */
    private static final int FRAME_OVERHEAD = 65_600;

    private LinkFrame() {
    }

    /** The largest frame accepted: a forwarded message of {@code max_packet_size}, with its header. */
    static int maxFrameLength(int maxPacketSize) {
        return (int) Math.min(Integer.MAX_VALUE - 8, (long) maxPacketSize + FRAME_OVERHEAD);
    }

    /** A frame being written: length still open (see {@link #finish}), type written. */
    static ByteBuf start(ByteBufAllocator alloc, byte type, int bodySizeHint) {
        ByteBuf b = alloc.buffer(5 + bodySizeHint);
        b.writeInt(0).writeByte(type);
        return b;
    }

    static ByteBuf finish(ByteBuf frame) {
        frame.setInt(frame.readerIndex(), frame.readableBytes() - 4);
        return frame;
    }

    static ByteBuf seqFrame(ByteBufAllocator alloc, byte type, long seq) {
        return finish(start(alloc, type, 8).writeLong(seq));
    }

    static ByteBuf routeFrame(ByteBufAllocator alloc, byte type, long seq, String filter) {
        ByteBuf b = start(alloc, type, 10 + filter.length() * 3).writeLong(seq);
        writeString(b, filter);
        return finish(b);
    }

    /** A frame of ids: {@code count:int id:long...}. */
    static ByteBuf idsFrame(ByteBufAllocator alloc, byte type, long[] ids, int count) {
        ByteBuf b = start(alloc, type, 4 + 8 * count).writeInt(count);
        for (int i = 0; i < count; i++) {
            b.writeLong(ids[i]);
        }
        return finish(b);
    }

    static long[] readIds(ByteBuf b) {
        int n = b.readInt();
        if (n < 0 || n > b.readableBytes() / 8) {
            throw new IllegalArgumentException("a list of " + n + " ids in " + b.readableBytes() + " bytes");
        }
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = b.readLong();
        }
        return ids;
    }

    static void writeString(ByteBuf b, String s) {
        int at = b.writerIndex();
        b.writeShort(0);
        int n = b.writeCharSequence(s, StandardCharsets.UTF_8);
        if (n > 0xFFFF) {
            throw new IllegalArgumentException("string of " + n + " bytes does not fit a link frame");
        }
        b.setShort(at, n);
    }

    static String readString(ByteBuf b) {
        int n = b.readUnsignedShort();
        return b.readCharSequence(n, StandardCharsets.UTF_8).toString();
    }

    /** Splits the stream into frames (length stripped); an oversized length fails at once, a cut-off end is told. */
    static final class Decoder extends LengthFieldBasedFrameDecoder {
        /** Thrown into the pipeline when the connection ends inside a frame. */
        static final class TruncatedFrameException extends RuntimeException {
            TruncatedFrameException(int bytes) {
                super("connection closed inside a frame (" + bytes + " bytes of it received)", null, false, false);
            }
        }

        Decoder(int maxFrameLength) {
            super(maxFrameLength, 0, 4, 0, 4);
        }

        @Override
        protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, java.util.List<Object> out)
                throws Exception {
            super.decodeLast(ctx, in, out);
            if (in.isReadable()) {
                int left = in.readableBytes();
                in.skipBytes(left);
                ctx.fireExceptionCaught(new TruncatedFrameException(left));
            }
        }
    }
}
