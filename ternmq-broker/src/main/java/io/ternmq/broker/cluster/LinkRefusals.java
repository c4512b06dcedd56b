package io.ternmq.broker.cluster;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.metrics.RateLimitedLog;
import org.slf4j.LoggerFactory;

/**
 * Closes a data-link connection for what it sent (a wrong cluster name, secret or version; a malformed, truncated
 * or oversized frame), counts it and logs the peer and the reason at most once per 10 s: whoever sends garbage to the
 * port must not flood the log, and the broker serves on.
 */
final class LinkRefusals {
    private static final AttributeKey<Boolean> REFUSED = AttributeKey.valueOf("ternmq.link.refused");
    private final BrokerMetrics metrics;
    private final RateLimitedLog log = new RateLimitedLog(LoggerFactory.getLogger(LinkRefusals.class), 10_000);

    LinkRefusals(BrokerMetrics metrics) {
        this.metrics = metrics;
    }

    void refuse(Channel channel, String reason) {
        if (channel.attr(REFUSED).setIfAbsent(Boolean.TRUE) != null) {
            return; // refused already: what follows from closing it (a cut-off frame) is not news
        }
        metrics.linkFramesRefused.increment();
        log.warn("cluster: closed data link with {}: {}", channel.remoteAddress(), reason);
        channel.close();
    }
}
