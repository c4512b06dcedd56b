package io.ternmq.broker.metrics;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Broker-wide counters, written from every event loop (LongAdder keeps that contention-free). A Prometheus/Micrometer
 * view reads these later; tests read them directly.
 */
public final class BrokerMetrics {
    public final AtomicLong connectionsOpen = new AtomicLong();
    public final LongAdder connectionsAccepted = new LongAdder();
    public final LongAdder connectsRefused = new LongAdder();
    public final LongAdder protocolViolations = new LongAdder();
    public final LongAdder keepAliveTimeouts = new LongAdder();
    public final LongAdder sessionTakeovers = new LongAdder();
    public final LongAdder publishesReceived = new LongAdder();
    public final LongAdder publishesSent = new LongAdder();
    public final LongAdder willsPublished = new LongAdder();
    /** Messages a persistent session could not queue because its queue was full. */
    public final LongAdder queueOverflowDrops = new LongAdder();
    /** Messages whose Message Expiry Interval elapsed before they could be delivered. */
    public final LongAdder expiredMessages = new LongAdder();
    /** Messages not sent to a client because they exceed its Maximum Packet Size. */
    public final LongAdder oversizedDrops = new LongAdder();
    /** Sessions ended because their expiry interval elapsed. */
    public final LongAdder sessionsExpired = new LongAdder();
    /** QoS 0 messages not kept for an offline session (queue_qos0_messages false). */
    public final LongAdder offlineQos0Drops = new LongAdder();
}
