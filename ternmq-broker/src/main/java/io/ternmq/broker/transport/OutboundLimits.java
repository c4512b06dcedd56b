package io.ternmq.broker.transport;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.util.concurrent.ScheduledFuture;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.metrics.RateLimitedLog;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * Keeps a subscriber that stops reading from growing the broker's memory. Consulted by {@link MqttChannelAdapter}
 * before a packet becomes bytes:
 * <ul>
 *   <li>when more than {@code maxOutboundBytes} wait to be written to the socket, a PUBLISH at QoS 0 is dropped
 *       (policy {@code drop_qos0}; QoS 1 and 2 are bounded by the in-flight window) or the client is disconnected
 *       (policy {@code disconnect}, any PUBLISH);</li>
 *   <li>a connection that stays unwritable (above the write buffer's high water mark) for {@code timeoutMillis} is
 *       closed.</li>
 * </ul>
 * Drops and disconnects are counted in {@link BrokerMetrics} and logged at most once per 10 s. One instance serves
 * every connection (it holds only settings): a pipeline handler of its own would cost each idle connection bytes.
 */
final class OutboundLimits {
    private static final Logger LOG = LoggerFactory.getLogger(OutboundLimits.class);
    static final RateLimitedLog DROP_LOG = new RateLimitedLog(LOG, 10_000);
    static final RateLimitedLog DISCONNECT_LOG = new RateLimitedLog(LOG, 10_000);

    private final long maxOutboundBytes;
    private final boolean disconnectPolicy;
    private final long timeoutMillis;
    private final BrokerMetrics metrics;

    OutboundLimits(long maxOutboundBytes, boolean disconnectPolicy, long timeoutMillis, BrokerMetrics metrics) {
        this.maxOutboundBytes = maxOutboundBytes;
        this.disconnectPolicy = disconnectPolicy;
        this.timeoutMillis = timeoutMillis;
        this.metrics = metrics;
    }

    /** @return whether the PUBLISH may be written; if not, it was dropped or the channel is being closed */
    boolean admit(Channel ch, Publish p) {
        if (pendingBytes(ch) <= maxOutboundBytes) {
            return true;
        }
        if (disconnectPolicy) {
            metrics.slowConsumerDisconnects.increment();
            DISCONNECT_LOG.warn("Disconnecting slow consumer {}: more than {} bytes wait to be written to it",
                    MqttChannelAdapter.remoteAddress(ch), maxOutboundBytes);
            ch.close();
            return false;
        }
        if (p.qos() == QoS.AT_MOST_ONCE) {
            metrics.slowConsumerDrops.increment();
            DROP_LOG.warn("Dropping QoS 0 messages to slow consumer {}: more than {} bytes wait to be written "
                    + "to it", MqttChannelAdapter.remoteAddress(ch), maxOutboundBytes);
            return false;
        }
        return true;
    }

    /**
     * The channel's writability changed.
     *
     * @param timer the pending unwritable timer of this channel, or null
     * @return the channel's timer from now on, or null
     */
    ScheduledFuture<?> writabilityChanged(Channel ch, ScheduledFuture<?> timer) {
        if (timeoutMillis <= 0) {
            return null;
        }
        if (ch.isWritable()) {
            cancel(timer);
            return null;
        }
        if (timer != null && !timer.isDone()) {
            return timer;
        }
        return ch.eventLoop().schedule(() -> {
            if (!ch.isWritable() && ch.isActive()) {
                metrics.slowConsumerDisconnects.increment();
                DISCONNECT_LOG.warn("Disconnecting slow consumer {}: nothing could be written to it for {} ms",
                        MqttChannelAdapter.remoteAddress(ch), timeoutMillis);
                ch.close();
            }
        }, timeoutMillis, TimeUnit.MILLISECONDS);
    }

    static void cancel(ScheduledFuture<?> timer) {
        if (timer != null) {
            timer.cancel(false);
        }
    }

    private static long pendingBytes(Channel ch) {
        ChannelOutboundBuffer buffer = ch.unsafe().outboundBuffer();
        return buffer == null ? 0 : buffer.totalPendingWriteBytes();
    }
}
