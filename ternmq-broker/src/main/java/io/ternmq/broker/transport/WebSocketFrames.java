package io.ternmq.broker.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.ReferenceCountUtil;
import io.ternmq.broker.metrics.RateLimitedLog;
import io.ternmq.codec.ReasonCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.channels.ClosedChannelException;
import java.util.ArrayList;
import java.util.List;

/**
 * Between WebSocket frames and the MQTT byte stream. In: the payloads of binary and continuation frames go on to the
 * decoder as one stream (a packet may span frames, a frame may hold many packets); a text frame closes the
 * connection with status 1003 [MQTT-6.0.0-1]. Out: the packets written between two flushes become one binary frame
 * (up to {@value #MAX_FRAME_BYTES} bytes, then another), gathered without copying; a frame never ends inside a packet,
 * also when the adapter writes one in pieces (a PUBLISH header, then a payload shared with other receivers), since
 * some browser clients expect whole packets per frame. One frame per flush rather than per packet, small pieces
 * copied: with 64-byte messages it kept fan-in at TCP's rate at QoS 0 (a frame per packet: 0.38–0.46) and reached
 * 0.88 (fan-in) and 0.96 (pairs) of it at QoS 1 (docs/benchmarks.md).
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

    private ChannelHandlerContext ctx;
    private boolean upgraded;
    private boolean refused;
    // The frame being gathered: the packets written since the last flush, small pieces copied into one buffer,
    // large ones (and the small buffer before them) as components. Both null between frames.
    private ByteBuf small;
    private CompositeByteBuf large;
    private int frameBytes;
    /** Bytes the last packet in the frame still lacks (the adapter writes a PUBLISH in pieces). */
    private int missing;
    /** Non-void promises of what the frame holds; null while there are none (the adapter writes void ones). */
    private List<ChannelPromise> framePromises;
    private int closeStatus = WebSocketCloseStatus.NORMAL_CLOSURE.code();

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    /** Whether the upgrade is done: from then on, frames. */
    boolean upgraded() {
        return upgraded;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
            upgraded = true;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refused) {
            ReferenceCountUtil.release(msg);
        } else if (msg instanceof BinaryWebSocketFrame || msg instanceof ContinuationWebSocketFrame) {
            ctx.fireChannelRead(((io.netty.handler.codec.http.websocketx.WebSocketFrame) msg).content());
        } else if (msg instanceof TextWebSocketFrame text) {
            text.release();
            refused = true;
            BAD_FRAME_LOG.warn("Closing WebSocket connection {}: it sent a text frame; MQTT travels in binary frames "
                    + "[MQTT-6.0.0-1]", MqttChannelAdapter.remoteAddress(ctx.channel()));
            ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.INVALID_MESSAGE_TYPE,
                    "MQTT needs binary frames"));
            ctx.close();
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (!(msg instanceof ByteBuf bytes) || !upgraded || (frameBytes == 0 && !bytes.isReadable())) {
            ctx.write(msg, promise); // frames, and the empty buffer LingeringClose flushes with
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
        frameBytes += n;
        if (n < COPY_BELOW) {
            if (small == null) {
                small = ctx.alloc().ioBuffer(Math.max(n, SMALL_BYTES), MAX_FRAME_BYTES);
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

    private void writeFrame(ChannelHandlerContext ctx) {
        ByteBuf content;
        if (large == null) {
            content = small;
        } else {
            if (small != null) {
                large.addComponent(true, small);
            }
            content = large;
        }
        small = null;
        large = null;
        frameBytes = 0;
        BinaryWebSocketFrame f = new BinaryWebSocketFrame(content);
        List<ChannelPromise> promises = framePromises;
        framePromises = null;
        if (promises == null) {
            ctx.write(f, ctx.voidPromise());
        } else {
            ctx.write(f).addListener(done -> promises.forEach(p -> {
                if (done.isSuccess()) {
                    p.trySuccess();
                } else {
                    p.tryFailure(done.cause());
                }
            }));
        }
    }

    /** A close the broker begins (not the client's) says why in its status. */
    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (upgraded && !refused && ctx.channel().isActive()) {
            refused = true;
            if (frameBytes > 0 && missing == 0) {
                writeFrame(ctx); // what was written before the close goes first
            }
            ctx.writeAndFlush(new CloseWebSocketFrame(closeStatus, null));
        }
        ctx.close(promise);
    }

    /** Sends the close frame, once the last packets are flushed ({@link LingeringClose}). */
    ChannelFuture sendClose() {
        refused = true;
        return ctx.writeAndFlush(new CloseWebSocketFrame(closeStatus, null));
    }

    /**
     * Netty's frame decoder found a bad frame (too large: 1009; unmasked, reserved bits, bad control frame: 1002),
     * sent its close frame and closes: said once here, not as an unexpected error.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof CorruptedWebSocketFrameException bad) {
            refused = true;
            BAD_FRAME_LOG.warn("Closing WebSocket connection {}: {} (close status {})",
                    MqttChannelAdapter.remoteAddress(ctx.channel()), bad.getMessage(), bad.closeStatus());
            ctx.close();
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (framePromises != null) {
            // their bytes were never framed: the writes failed, so nobody waits for them (LingeringClose does)
            ClosedChannelException closed = new ClosedChannelException();
            framePromises.forEach(p -> p.tryFailure(closed));
            framePromises = null;
        }
        if (small != null) {
            small.release();
            small = null;
        }
        if (large != null) {
            large.release();
            large = null;
        }
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
