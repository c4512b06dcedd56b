package io.ternmq.broker.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.ternmq.broker.metrics.RateLimitedLog;
import io.ternmq.codec.ReasonCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The WebSocket frame codec of an upgraded connection (RFC 6455 §5), between the socket and the MQTT byte stream; it
 * takes the place of Netty's frame decoder, encoder and protocol handler once Netty's handshaker has answered the
 * upgrade ({@link WebSocketUpgrade}).
 * <p>
 * In: the payloads of binary and continuation frames go on to the decoder as one stream (a packet may span frames, a
 * frame may hold many packets), unmasked in place and moved over the frame headers between them, so that what one
 * read brought leaves as one buffer, without a copy per frame. A text frame closes the connection with status 1003
 * [MQTT-6.0.0-1]; a ping is answered, a pong dropped; a close frame is answered with its status and ends the
 * connection (the will is published: no DISCONNECT came). A frame that breaks RFC 6455 (unmasked, reserved bits or
 * opcodes, a fragmented or long control frame, a continuation outside a message, a length not minimally encoded, a
 * close frame with a one-byte body or an invalid status) closes it with 1002, one over {@code max_packet_size} with
 * 1009, a close reason that is not UTF-8 with 1007, as Netty's decoder did ({@code WebSocketFramesFuzzTest} holds the
 * two to the same answers).
 * <p>
 * Out: the packets written between two flushes become one binary frame (up to {@value #MAX_FRAME_BYTES} bytes, then
 * another), gathered without copying; a frame never ends inside a packet, also when the adapter writes one in pieces
 * (a PUBLISH header, then a payload shared with other receivers), since some browser clients expect whole packets per
 * frame. One frame per flush rather than per packet, small pieces copied: with 64-byte messages it kept fan-in at
 * TCP's rate at QoS 0 (a frame per packet: 0.38–0.46) and reached 0.88 (fan-in) and 0.96 (pairs) of it at QoS 1
 * (docs/benchmarks.md).
 * <p>
 * When the broker ends the connection, the close frame's status follows the last DISCONNECT or refusing CONNACK it
 * sent (1000 normal, 1001 shutting down, 1002 protocol error, 1009 too large, 1008 other refusals).
 */
final class WebSocketFrames extends ChannelDuplexHandler {
    static final String NAME = "ws-frames";
    private static final Logger LOG = LoggerFactory.getLogger(WebSocketFrames.class);
    private static final RateLimitedLog BAD_FRAME_LOG = new RateLimitedLog(LOG, 10_000);
    private static final int CONNACK = 2;
    private static final int DISCONNECT = 14;
    private static final int OPCODE_CONTINUATION = 0;
    private static final int OPCODE_TEXT = 1;
    private static final int OPCODE_BINARY = 2;
    private static final int OPCODE_CLOSE = 8;
    private static final int OPCODE_PING = 9;
    private static final int OPCODE_PONG = 10;
    private static final int MAX_CONTROL_PAYLOAD = 125;
    /** The longest frame header: 2 bytes, an 8-byte extended length, a 4-byte masking key. */
    private static final int MAX_HEADER = 14;
    /** The longest header of a frame the server sends (unmasked): room kept in front of a frame's first buffer. */
    private static final int MAX_OUT_HEADER = 10;
    /**
     * A frame holds the packets written between two flushes up to this size (a larger packet has a frame of its
     * own): what waits here is invisible to OutboundLimits and the write buffer's water marks, so it stays small.
     */
    static final int MAX_FRAME_BYTES = 64 * 1024;
    /**
     * Pieces below this size are copied into the frame's buffer, larger ones kept as they are: a kept piece also
     * starts a new buffer for the small ones after it (a PUBLISH's header), so 1 KiB payloads kept as components cost
     * more than copying them.
     */
    private static final int COPY_BELOW = 4096;
    private static final int SMALL_BYTES = 4096;

    private final int maxFramePayload;
    private ChannelHandlerContext ctx;
    /** Netty's handshaker has written the 101 response: frames may be read and written. */
    private boolean open;
    /** A close frame was sent or received, or input broke the protocol: input is dropped from now on. */
    private boolean closing;

    // Reading. Between frames: payloadLeft == 0 and the next bytes are a header.
    /** Bytes that arrived before the 101 was written, or a frame header split between reads; else null. */
    private ByteBuf held;
    private byte opcode;
    private int mask;
    private long payloadLeft;
    /** Offset in the current frame's payload of its next byte, modulo 2^32 (for the masking key's rotation). */
    private int payloadOffset;
    /** Inside a fragmented message: the next data frame must be a continuation. */
    private boolean fragmented;
    /** The payload of the control frame being read; null while none is. */
    private ByteBuf control;

    // Writing: the frame being gathered, the packets written since the last flush, small pieces copied into one
    // buffer (with room for the frame header in front), large ones (and the small buffer before them) as components.
    // Both null between frames.
    private ByteBuf small;
    private CompositeByteBuf large;
    private int frameBytes;
    /** Bytes the last packet in the frame still lacks (the adapter writes a PUBLISH in pieces). */
    private int missing;
    /** Non-void promises of what the frame holds; null while there are none (the adapter writes void ones). */
    private List<ChannelPromise> framePromises;
    private int closeStatus = WebSocketCloseStatus.NORMAL_CLOSURE.code();

    WebSocketFrames(int maxFramePayload) {
        this.maxFramePayload = maxFramePayload;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** Whether the 101 is written: from then on, frames. */
    boolean upgraded() {
        return open;
    }

    /** Netty's handshaker wrote the 101 response: what arrived meanwhile is read now. */
    void handshakeDone() {
        open = true;
        ByteBuf early = held;
        held = null;
        if (early != null) {
            read(ctx, early);
            ctx.fireChannelReadComplete();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (closing) {
            in.release();
        } else if (!open) {
            held = append(ctx, held, in); // a client must wait for the 101; held in case
            in.release();
        } else {
            read(ctx, in);
        }
    }

    /**
     * Reads the frames in {@code in} and releases it. The buffer is this connection's alone (a socket read, TLS's
     * output, the bytes held here), so the payloads are unmasked and moved where they lie.
     */
    private void read(ChannelHandlerContext ctx, ByteBuf in) {
        ByteBuffer nio = in.nioBufferCount() == 1 ? in.nioBuffer(0, in.capacity()) : null;
        int runStart = -1; // the unmasked data payloads of this read, moved together: [runStart, runEnd)
        int runEnd = -1;
        try {
            while (in.isReadable() && !closing) {
                if (payloadLeft == 0 && control == null) {
                    if (!readHeader(ctx, in)) {
                        break;
                    }
                    if (closing || control != null) { // what came before a close or a ping goes first
                        fire(ctx, in, runStart, runEnd);
                        runStart = -1;
                    }
                    if (closing) {
                        break;
                    }
                    if (payloadLeft == 0) {
                        if (control != null) {
                            controlFrame(ctx);
                        }
                        continue;
                    }
                }
                int from = in.readerIndex();
                int n = (int) Math.min(payloadLeft, in.readableBytes());
                if (control != null) {
                    int at = control.writerIndex();
                    control.writeBytes(in, n);
                    unmask(control, at, at, n);
                } else {
                    if (runStart < 0) {
                        runStart = from;
                        runEnd = from;
                    }
                    if (nio != null) {
                        WebSocketMask.unmask(nio, from, runEnd, n, mask, payloadOffset);
                    } else {
                        unmaskSlowly(in, from, runEnd, n);
                    }
                    runEnd += n;
                    in.skipBytes(n);
                }
                payloadLeft -= n;
                payloadOffset += n;
                if (payloadLeft == 0 && control != null) {
                    controlFrame(ctx);
                }
            }
            if (!closing && in.isReadable()) { // the start of a header: kept for the next read
                held = append(ctx, held, in);
            }
            if (runStart >= 0) {
                fire(ctx, in, runStart, runEnd);
            }
        } finally {
            in.release();
        }
    }

    /** Passes a run of unmasked data payloads on to the MQTT decoder. */
    private static void fire(ChannelHandlerContext ctx, ByteBuf in, int runStart, int runEnd) {
        if (runStart >= 0 && runEnd > runStart) {
            ctx.fireChannelRead(in.retainedSlice(runStart, runEnd - runStart));
        }
    }

    /**
     * Reads a frame header from {@code in} (with the start of one {@link #held} from the last read): returns false if
     * it is not complete yet (what there is stays in {@code in} or {@link #held}), true once it is read, checked and
     * the frame set up, or refused. Each rule is checked as soon as the bytes it needs are in, as Netty's decoder
     * does: a client that breaks one is told at once, not when the rest of the header arrives.
     */
    private boolean readHeader(ChannelHandlerContext ctx, ByteBuf in) {
        ByteBuf h = in;
        if (held != null) {
            // complete the held header with as few bytes as it needs, so that the payload stays in place
            while (in.isReadable()) {
                int need = headerLength(held);
                if (held.readableBytes() >= need) {
                    break;
                }
                held.writeBytes(in, Math.min(need - held.readableBytes(), in.readableBytes()));
            }
            h = held;
        }
        int available = h.readableBytes();
        if (available < 2) {
            return false;
        }
        int at = h.readerIndex();
        int b0 = h.getUnsignedByte(at);
        int b1 = h.getUnsignedByte(at + 1);
        boolean fin = (b0 & 0x80) != 0;
        int op = b0 & 0x0F;
        int length7 = b1 & 0x7F;
        String violation = violation(b0, b1, fin, op, length7);
        if (violation != null) {
            refuse(ctx, WebSocketCloseStatus.PROTOCOL_ERROR, violation);
            return true;
        }
        int lengthEnd = at + 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0);
        if (available < lengthEnd - at) {
            return false;
        }
        long length = length7 == 126 ? h.getUnsignedShort(at + 2) : length7 == 127 ? h.getLong(at + 2) : length7;
        if (length < 0) {
            refuse(ctx, WebSocketCloseStatus.PROTOCOL_ERROR, "a negative 64-bit frame length");
            return true;
        }
        if ((length7 == 126 && length < 126) || (length7 == 127 && length < 65_536)) {
            refuse(ctx, WebSocketCloseStatus.PROTOCOL_ERROR, "a frame length not minimally encoded");
            return true;
        }
        if (length > maxFramePayload) {
            refuse(ctx, WebSocketCloseStatus.MESSAGE_TOO_BIG, "a frame of " + length + " bytes, over the limit of "
                    + maxFramePayload + " (max_packet_size)");
            return true;
        }
        if (available < lengthEnd + 4 - at) {
            return false;
        }
        if (op == OPCODE_TEXT) {
            refuse(ctx, WebSocketCloseStatus.INVALID_MESSAGE_TYPE,
                    "it sent a text frame; MQTT travels in binary frames [MQTT-6.0.0-1]");
            return true;
        }
        mask = h.getInt(lengthEnd);
        h.readerIndex(lengthEnd + 4);
        if (h == held) {
            held = release(held);
        }
        opcode = (byte) op;
        payloadLeft = length;
        payloadOffset = 0;
        if (op >= OPCODE_CLOSE) {
            control = ctx.alloc().heapBuffer((int) length, MAX_CONTROL_PAYLOAD);
        } else {
            fragmented = !fin;
        }
        return true;
    }

    /** @return how the first two bytes of a frame's header break RFC 6455, null if they do not */
    private String violation(int b0, int b1, boolean fin, int op, int length7) {
        if ((b0 & 0x70) != 0) {
            return "reserved bits set without an extension";
        }
        if ((b1 & 0x80) == 0) {
            return "an unmasked frame from a client";
        }
        if (op >= OPCODE_CLOSE) {
            if (op > OPCODE_PONG) {
                return "reserved control opcode " + op;
            }
            if (!fin) {
                return "a fragmented control frame";
            }
            if (length7 > MAX_CONTROL_PAYLOAD) {
                return "a control frame longer than 125 bytes";
            }
            if (op == OPCODE_CLOSE && length7 == 1) {
                return "a close frame with a one-byte body";
            }
            return null;
        }
        if (op > OPCODE_BINARY) {
            return "reserved data opcode " + op;
        }
        if (op == OPCODE_CONTINUATION && !fragmented) {
            return "a continuation frame outside a fragmented message";
        }
        if (op != OPCODE_CONTINUATION && fragmented) {
            return "a new message inside a fragmented one";
        }
        return null;
    }

    /** The length of the (masked) header that starts at the buffer's reader index, as far as its bytes tell. */
    private static int headerLength(ByteBuf b) {
        if (b.readableBytes() < 2) {
            return 2;
        }
        int length7 = b.getUnsignedByte(b.readerIndex() + 1) & 0x7F;
        return 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + 4;
    }

    /** A complete ping, pong or close frame. */
    private void controlFrame(ChannelHandlerContext ctx) {
        ByteBuf payload = control;
        control = null;
        switch (opcode) {
            case OPCODE_PING -> ctx.writeAndFlush(frame(ctx, OPCODE_PONG, payload));
            case OPCODE_CLOSE -> receivedClose(ctx, payload);
            default -> payload.release(); // a pong: nothing asked for it
        }
    }

    /** The client's close frame: answered with its status (RFC 6455 §5.5.1), then the connection ends. */
    private void receivedClose(ChannelHandlerContext ctx, ByteBuf payload) {
        try {
            if (payload.readableBytes() >= 2) {
                int status = payload.getUnsignedShort(payload.readerIndex());
                if (!WebSocketCloseStatus.isValidStatusCode(status)) {
                    refuse(ctx, WebSocketCloseStatus.PROTOCOL_ERROR, "a close frame with status " + status);
                    return;
                }
                try {
                    StandardCharsets.UTF_8.newDecoder().decode(payload.nioBuffer(payload.readerIndex() + 2,
                            payload.readableBytes() - 2));
                } catch (CharacterCodingException e) {
                    refuse(ctx, WebSocketCloseStatus.INVALID_PAYLOAD_DATA, "a close frame whose reason is not UTF-8");
                    return;
                }
                closeStatus = status;
            }
            closing = true;
            ByteBuf answer = payload.readableBytes() >= 2 ? closeFrame(ctx, closeStatus)
                    : frame(ctx, OPCODE_CLOSE, Unpooled.EMPTY_BUFFER);
            ctx.writeAndFlush(answer).addListener(ChannelFutureListener.CLOSE);
        } finally {
            payload.release();
        }
    }

    /** Input broke the rules: said once here, answered with a close frame of that status, and the connection ends. */
    private void refuse(ChannelHandlerContext ctx, WebSocketCloseStatus status, String why) {
        held = release(held);
        BAD_FRAME_LOG.warn("Closing WebSocket connection {}: {} (close status {})",
                MqttChannelAdapter.remoteAddress(ctx.channel()), why, status.code());
        closing = true;
        ctx.writeAndFlush(closeFrame(ctx, status.code())).addListener(ChannelFutureListener.CLOSE);
    }

    private void unmask(ByteBuf b, int src, int dst, int n) {
        if (b.nioBufferCount() == 1) {
            WebSocketMask.unmask(b.nioBuffer(0, b.capacity()), src, dst, n, mask, payloadOffset);
        } else {
            unmaskSlowly(b, src, dst, n);
        }
    }

    /** For a buffer that is no single NIO buffer (a composite one): a byte at a time. */
    private void unmaskSlowly(ByteBuf b, int src, int dst, int n) {
        for (int i = 0; i < n; i++) {
            int key = mask >>> (24 - 8 * ((payloadOffset + i) & 3));
            b.setByte(dst + i, b.getByte(src + i) ^ key);
        }
    }

    /** What is left of {@code in} appended to {@code to} (made if null, grown if needed). */
    private static ByteBuf append(ChannelHandlerContext ctx, ByteBuf to, ByteBuf in) {
        if (to == null) {
            to = ctx.alloc().heapBuffer(Math.max(in.readableBytes(), MAX_HEADER));
        }
        return to.writeBytes(in);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf bytes) || !open || (frameBytes == 0 && !bytes.isReadable())) {
            ctx.write(msg, promise); // the empty buffer LingeringClose flushes with
            return;
        }
        int n = bytes.readableBytes();
        if (n == 0) {
            bytes.release(); // joins the frame, so that its promise (LingeringClose's) completes with it
        } else {
            if (missing == 0) { // a packet begins
                int size = packetSize(bytes);
                noteReason(bytes);
                if (frameBytes > 0 && frameBytes + Math.max(size, n) > MAX_FRAME_BYTES) {
                    writeFrame(ctx);
                }
                missing = Math.max(0, size - n);
            } else {
                missing = Math.max(0, missing - n);
            }
            add(ctx, bytes);
        }
        if (!promise.isVoid()) {
            if (framePromises == null) {
                framePromises = new ArrayList<>(2);
            }
            framePromises.add(promise);
        }
    }

    /**
     * Small pieces are copied into one buffer, large ones (a shared payload) kept as they are: a gathering write of
     * many tiny buffers costs more than copying them.
     */
    private void add(ChannelHandlerContext ctx, ByteBuf bytes) {
        int n = bytes.readableBytes();
        boolean first = frameBytes == 0;
        frameBytes += n;
        if (n < COPY_BELOW) {
            if (small == null) {
                int room = first ? MAX_OUT_HEADER : 0;
                small = ctx.alloc().ioBuffer(room + Math.max(n, SMALL_BYTES), room + MAX_FRAME_BYTES);
                small.setIndex(room, room);
            }
            small.writeBytes(bytes);
            bytes.release();
            return;
        }
        if (large == null) {
            large = ctx.alloc().compositeBuffer(Integer.MAX_VALUE); // never consolidated: no copy
        }
        if (small != null) {
            large.addComponent(true, small);
            small = null;
        }
        large.addComponent(true, bytes);
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        if (frameBytes > 0 && missing == 0) {
            writeFrame(ctx);
        }
        ctx.flush();
    }

    /** Writes the gathered packets as one binary frame: its header in the room before the first buffer, if any. */
    private void writeFrame(ChannelHandlerContext ctx) {
        int length = frameBytes;
        int headerLength = length < 126 ? 2 : length <= 0xFFFF ? 4 : 10;
        ByteBuf content;
        if (large == null) {
            content = small;
            content.readerIndex(content.readerIndex() - headerLength);
            writeHeader(content, content.readerIndex(), OPCODE_BINARY, length);
        } else {
            if (small != null) {
                large.addComponent(true, small);
            }
            ByteBuf header = ctx.alloc().ioBuffer(headerLength);
            writeHeader(header, 0, OPCODE_BINARY, length);
            header.writerIndex(headerLength);
            large.addComponent(true, 0, header);
            content = large;
        }
        small = null;
        large = null;
        frameBytes = 0;
        List<ChannelPromise> promises = framePromises;
        framePromises = null;
        if (promises == null) {
            ctx.write(content, ctx.voidPromise());
        } else {
            ctx.write(content).addListener(done -> promises.forEach(p -> {
                if (done.isSuccess()) {
                    p.trySuccess();
                } else {
                    p.tryFailure(done.cause());
                }
            }));
        }
    }

    /** A server frame's header (FIN, no mask) at {@code at}; the buffer has room for it. */
    private static void writeHeader(ByteBuf b, int at, int opcode, int length) {
        b.setByte(at, 0x80 | opcode);
        if (length < 126) {
            b.setByte(at + 1, length);
        } else if (length <= 0xFFFF) {
            b.setByte(at + 1, 126);
            b.setShort(at + 2, length);
        } else {
            b.setByte(at + 1, 127);
            b.setLong(at + 2, length);
        }
    }

    /** A whole control frame with this payload (released). */
    private static ByteBuf frame(ChannelHandlerContext ctx, int opcode, ByteBuf payload) {
        int n = payload.readableBytes();
        ByteBuf f = ctx.alloc().buffer(2 + n);
        f.writeByte(0x80 | opcode).writeByte(n).writeBytes(payload);
        payload.release();
        return f;
    }

    private static ByteBuf closeFrame(ChannelHandlerContext ctx, int status) {
        return ctx.alloc().buffer(4).writeByte(0x80 | OPCODE_CLOSE).writeByte(2).writeShort(status);
    }

    /** A close the broker begins (not the client's) says why in its status. */
    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (open && !closing && ctx.channel().isActive()) {
            closing = true;
            if (frameBytes > 0 && missing == 0) {
                writeFrame(ctx); // what was written before the close goes first
            }
            ctx.writeAndFlush(closeFrame(ctx, closeStatus));
        }
        ctx.close(promise);
    }

    /** Sends the close frame, once the last packets are flushed ({@link LingeringClose}). */
    ChannelFuture sendClose() {
        closing = true;
        return ctx.writeAndFlush(closeFrame(ctx, closeStatus));
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (framePromises != null) {
            // their bytes were never framed: the writes failed, so nobody waits for them (LingeringClose does)
            ClosedChannelException closed = new ClosedChannelException();
            framePromises.forEach(p -> p.tryFailure(closed));
            framePromises = null;
        }
        small = release(small);
        large = release(large);
        held = release(held);
        control = release(control);
    }

    private static <B extends ByteBuf> B release(B b) {
        if (b != null) {
            b.release();
        }
        return null;
    }

    /** The whole packet's length from its fixed header; -1 if the buffer does not hold the fixed header. */
    static int packetSize(ByteBuf b) {
        int start = b.readerIndex();
        int remaining = 0;
        for (int i = 1; i <= 4; i++) {
            if (b.readableBytes() <= i) {
                return -1;
            }
            int digit = b.getUnsignedByte(start + i);
            remaining |= (digit & 0x7F) << (7 * (i - 1));
            if ((digit & 0x80) == 0) {
                return 1 + i + remaining;
            }
        }
        return -1;
    }

    /** Remembers the reason of a DISCONNECT or a refusing CONNACK, for the close frame that follows it. */
    private void noteReason(ByteBuf b) {
        int start = b.readerIndex();
        int type = b.getUnsignedByte(start) >> 4;
        if (type != DISCONNECT && type != CONNACK) {
            return;
        }
        int headerLength = 2;
        while (headerLength < 5 && b.readableBytes() > headerLength
                && (b.getUnsignedByte(start + headerLength - 1) & 0x80) != 0) {
            headerLength++;
        }
        int at = start + headerLength + (type == CONNACK ? 1 : 0); // CONNACK: acknowledge flags, then the code
        int code = at < b.writerIndex() ? b.getUnsignedByte(at) : 0;
        closeStatus = type == CONNACK ? (code == 0 ? closeStatus : WebSocketCloseStatus.POLICY_VIOLATION.code())
                : closeStatusOf(code);
    }

    static int closeStatusOf(int disconnectReason) {
        WebSocketCloseStatus status = switch (disconnectReason) {
            case ReasonCode.SUCCESS, ReasonCode.SESSION_TAKEN_OVER -> WebSocketCloseStatus.NORMAL_CLOSURE;
            case ReasonCode.SERVER_SHUTTING_DOWN -> WebSocketCloseStatus.ENDPOINT_UNAVAILABLE;
            case ReasonCode.MALFORMED_PACKET, ReasonCode.PROTOCOL_ERROR -> WebSocketCloseStatus.PROTOCOL_ERROR;
            case ReasonCode.PACKET_TOO_LARGE -> WebSocketCloseStatus.MESSAGE_TOO_BIG;
            default -> disconnectReason < 0x80 ? WebSocketCloseStatus.NORMAL_CLOSURE
                    : WebSocketCloseStatus.POLICY_VIOLATION;
        };
        return status.code();
    }
}
