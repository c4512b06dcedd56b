package io.ternmq.broker.transport;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.util.concurrent.ScheduledFuture;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.metrics.RateLimitedLog;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * Keeps a subscriber that stops reading from growing the broker's memory. Sits between the protocol and the encoder,
 * so it sees packets before they become bytes:
 * <ul>
 *   <li>when more than {@code maxOutboundBytes} wait to be written to the socket, a PUBLISH at QoS 0 is dropped
 *       (policy {@code drop_qos0}; QoS 1 and 2 are bounded by the in-flight window) or the client is disconnected
 *       (policy {@code disconnect}, any PUBLISH);</li>
 *   <li>a connection that stays unwritable (above the write buffer's high water mark) for {@code timeoutMillis} is
 *       closed.</li>
 * </ul>
 * Drops and disconnects are counted in {@link BrokerMetrics} and logged at most once per 10 s.
 */
final class OutboundLimitHandler extends ChannelDuplexHandler {
    private static final Logger LOG = LoggerFactory.getLogger(OutboundLimitHandler.class);
    static final RateLimitedLog DROP_LOG = new RateLimitedLog(LOG, 10_000);
    static final RateLimitedLog DISCONNECT_LOG = new RateLimitedLog(LOG, 10_000);

    private final long maxOutboundBytes;
    private final boolean disconnectPolicy;
    private final long timeoutMillis;
    private final BrokerMetrics metrics;
    private ScheduledFuture<?> unwritableTimer;

    OutboundLimitHandler(long maxOutboundBytes, boolean disconnectPolicy, long timeoutMillis, BrokerMetrics metrics) {
        this.maxOutboundBytes = maxOutboundBytes;
        this.disconnectPolicy = disconnectPolicy;
        this.timeoutMillis = timeoutMillis;
        this.metrics = metrics;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (msg instanceof Publish p && pendingBytes(ctx) > maxOutboundBytes) {
            if (disconnectPolicy) {
                metrics.slowConsumerDisconnects.increment();
                DISCONNECT_LOG.warn("Disconnecting slow consumer {}: more than {} bytes wait to be written to it",
                        remote(ctx), maxOutboundBytes);
                promise.trySuccess();
                ctx.close();
                return;
            }
            if (p.qos() == QoS.AT_MOST_ONCE) {
                metrics.slowConsumerDrops.increment();
                DROP_LOG.warn("Dropping QoS 0 messages to slow consumer {}: more than {} bytes wait to be written "
                        + "to it", remote(ctx), maxOutboundBytes);
                promise.trySuccess();
                return;
            }
        }
        super.write(ctx, msg, promise);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (timeoutMillis > 0) {
            if (!ctx.channel().isWritable()) {
                if (unwritableTimer == null) {
                    unwritableTimer = ctx.executor().schedule(() -> {
                        unwritableTimer = null;
                        if (!ctx.channel().isWritable() && ctx.channel().isActive()) {
                            metrics.slowConsumerDisconnects.increment();
                            DISCONNECT_LOG.warn("Disconnecting slow consumer {}: nothing could be written to it for "
                                    + "{} ms", remote(ctx), timeoutMillis);
                            ctx.close();
                        }
                    }, timeoutMillis, TimeUnit.MILLISECONDS);
                }
            } else {
                cancelTimer();
            }
        }
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancelTimer();
        super.channelInactive(ctx);
    }

    private void cancelTimer() {
        if (unwritableTimer != null) {
            unwritableTimer.cancel(false);
            unwritableTimer = null;
        }
    }

    private static long pendingBytes(ChannelHandlerContext ctx) {
        ChannelOutboundBuffer buffer = ctx.channel().unsafe().outboundBuffer();
        return buffer == null ? 0 : buffer.totalPendingWriteBytes();
    }

    private static String remote(ChannelHandlerContext ctx) {
        Object a = ctx.channel().remoteAddress();
        return a == null ? "?" : a.toString().replaceFirst("^/", "");
    }
}
