package io.ternmq.broker.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.ternmq.broker.metrics.BrokerMetrics;

import java.util.concurrent.TimeUnit;

/**
 * Ends a connection so that the client reads the last packets sent to it (a DISCONNECT with its reason code, a
 * refusing CONNACK) even while it is still sending. Closing a socket that has unread input makes the kernel answer
 * with a reset instead of a FIN, which throws away what is still queued for the client, so the client sees
 * "connection reset" instead of the reason. Instead: input is discarded from the start, so that a client blocked
 * writing can go on to read; once the last packet is flushed (at most {@value #FLUSH_MILLIS} ms, as a client that
 * reads nothing never lets it finish), the output side is shut down (a WebSocket close frame and TLS's close_notify
 * first, where they apply, then FIN), and input is
 * read and discarded until the client closes its side, for at most {@value #MAX_MILLIS} ms; then the connection
 * closes. Past {@value #MAX_BYTES} bytes discarded, reading stops instead (the client's writes wait, held by TCP, and
 * cost the broker nothing): closing at once would reset the connection before the client had a chance to read.
 * Nothing here blocks: the bounds are timers on the connection's event loop, and discarding costs what reading would.
 * <p>
 * Installed in front of {@link MqttChannelAdapter} when the close begins, so that from then on no input reaches the
 * decoder; the adapter holds no state for it.
 */
final class LingeringClose extends ChannelInboundHandlerAdapter {
    static final String NAME = "lingering-close";
    static final long FLUSH_MILLIS = 10_000;
    static final long MAX_MILLIS = 1000;
    static final int MAX_BYTES = 1024 * 1024;

    private final BrokerMetrics metrics;
    /** Input discarded since the output was shut down; -1 while the last packets are still being flushed. */
    private long discarded = -1;
    private ScheduledFuture<?> deadline;

    private LingeringClose(BrokerMetrics metrics) {
        this.metrics = metrics;
    }

    /**
     * Starts the close of the channel whose last handler is {@code adapter}: from now on its input is discarded;
     * once what was written before is flushed, the output is shut down and the lingering begins.
     */
    static void begin(ChannelHandlerContext adapter, BrokerMetrics metrics) {
        Channel ch = adapter.channel();
        LingeringClose linger = new LingeringClose(metrics);
        adapter.pipeline().addBefore(adapter.name(), NAME, linger);
        ch.config().setAutoRead(true); // reading may have been paused (backpressure, authentication)
        linger.deadline = ch.eventLoop().schedule(() -> linger.cutOff(ch), FLUSH_MILLIS, TimeUnit.MILLISECONDS);
        adapter.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(flushed -> linger.flushed(ch));
    }

    private void flushed(Channel ch) {
        deadline.cancel(false);
        if (!ch.isActive()) {
            return;
        }
        if (!(ch instanceof DuplexChannel duplex)) {
            ch.close();
            return;
        }
        metrics.lingeringCloses.increment();
        discarded = 0;
        deadline = ch.eventLoop().schedule(() -> cutOff(ch), MAX_MILLIS, TimeUnit.MILLISECONDS);
        WebSocketFrames ws = ch.pipeline().get(WebSocketFrames.class);
        if (ws != null && ws.upgraded()) {
            ws.sendClose().addListener(sent -> closeOutbound(duplex));
        } else {
            closeOutbound(duplex);
        }
    }

    /** TLS's close_notify first, if any, then FIN. */
    private static void closeOutbound(DuplexChannel ch) {
        SslHandler tls = ch.pipeline().get(SslHandler.class);
        if (tls == null) {
            shutdownOutput(ch);
        } else {
            tls.closeOutbound().addListener(sent -> shutdownOutput(ch));
        }
    }

    private static void shutdownOutput(DuplexChannel ch) {
        if (ch.isActive()) {
            ch.shutdownOutput().addListener(done -> {
                if (!done.isSuccess()) {
                    ch.close();
                }
            });
        }
    }

    /**
     * The client did not read what was left for it, or neither closed nor stopped sending in time: closed at the
     * bound, as a plain close would.
     */
    private void cutOff(Channel ch) {
        if (ch.isActive()) {
            metrics.lingeringCloseCutOffs.increment();
            ch.close();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf bytes && discarded >= 0) {
            discarded += bytes.readableBytes();
        }
        ReferenceCountUtil.release(msg);
        if (discarded > MAX_BYTES) {
            ctx.channel().config().setAutoRead(false);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        // nothing was passed on
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        deadline.cancel(false);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // a reset or a TLS error while closing anyway: close now, quietly
        ctx.close();
    }
}
