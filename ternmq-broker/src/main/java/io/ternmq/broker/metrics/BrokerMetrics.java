package io.ternmq.broker.metrics;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Broker-wide counters, written from every event loop (LongAdder keeps that contention-free). {@code $SYS}
 * ({@code sys/SysTree}) and Prometheus ({@link PrometheusMetrics}) read them when they report; nothing else is kept per
 * message for them.
 */
public final class BrokerMetrics {
    public final AtomicLong connectionsOpen = new AtomicLong();
    public final LongAdder connectionsAccepted = new LongAdder();
    public final LongAdder connectsRefused = new LongAdder();
    /** Connections closed because the client broke the protocol (one per connection). */
    public final LongAdder protocolViolations = new LongAdder();
    /** Connections the broker closed for a reason of its own: a limit, a quota, a failed re-authentication. */
    public final LongAdder serverDisconnects = new LongAdder();
    public final LongAdder keepAliveTimeouts = new LongAdder();
    public final LongAdder sessionTakeovers = new LongAdder();
    /** PUBLISH packets received from clients, by QoS. */
    public final QosCounters publishesReceived = new QosCounters();
    /** PUBLISH packets sent to clients, by QoS. */
    public final QosCounters publishesSent = new QosCounters();
    /** Payload bytes of the PUBLISH packets received and sent. */
    public final LongAdder publishBytesReceived = new LongAdder();
    public final LongAdder publishBytesSent = new LongAdder();
    /** MQTT bytes read from and written to clients (inside TLS and WebSocket framing). */
    public final LongAdder bytesReceived = new LongAdder();
    public final LongAdder bytesSent = new LongAdder();
    /**
     * Packets other than PUBLISH received and sent, by type (the fixed header's type nibble); PUBLISH is
     * {@link #publishesReceived}/{@link #publishesSent}, so a message is counted once.
     */
    public final LongAdder[] packetsReceived = newCounters(16);
    public final LongAdder[] packetsSent = newCounters(16);
    /** Clients connected now (CONNACK 0 sent, connection not closed) and the most there have been at once. */
    public final AtomicLong clientsConnected = new AtomicLong();
    public final AtomicLong clientsMaximum = new AtomicLong();
    /** Connections that got CONNACK 0. */
    public final LongAdder connectsAccepted = new LongAdder();
    /** Authentication outcomes of CONNECTs (and MQTT 5 re-authentication). */
    public final LongAdder authSucceeded = new LongAdder();
    public final LongAdder authFailed = new LongAdder();
    public final LongAdder willsPublished = new LongAdder();
    /** Messages a persistent session could not queue because its queue was full. */
    public final LongAdder queueOverflowDrops = new LongAdder();
    /** Messages a bridge's queue could not keep (bridge_max_queued_messages/bytes, bridge_queue_overflow). */
    public final LongAdder bridgeQueueDrops = new LongAdder();
    /** Messages a bridge did not forward because they had crossed bridge_hop_limit bridges. */
    public final LongAdder bridgeHopDrops = new LongAdder();
    /** Bridged-in copies of a message that arrived before, by another path or round a loop (ternmq-bridge-origin). */
    public final LongAdder bridgeDuplicateDrops = new LongAdder();
    /** Bridge connections accepted by a remote broker (CONNACK 0), and those lost or refused. */
    public final LongAdder bridgeConnects = new LongAdder();
    public final LongAdder bridgeDisconnects = new LongAdder();
    /** Messages whose Message Expiry Interval elapsed before they could be delivered. */
    public final LongAdder expiredMessages = new LongAdder();
    /** Messages not sent to a client because they exceed its Maximum Packet Size. */
    public final LongAdder oversizedDrops = new LongAdder();
    /** PUBLISHes the authorizer refused (acknowledged as the version requires, then discarded). */
    public final LongAdder publishesDenied = new LongAdder();
    /** Client PUBLISHes to the broker's {@code $sparkplug/} tree, refused (also counted in publishesDenied). */
    public final LongAdder sparkplugPublishesDenied = new LongAdder();
    /** NBIRTH/DBIRTH kept as {@code $sparkplug/certificates/...}. */
    public final LongAdder sparkplugCertificatesStored = new LongAdder();
    /** {@code $delayed/} PUBLISHes stored, released when due, and refused (bad delay, or max_delayed_messages). */
    public final LongAdder delayedStored = new LongAdder();
    public final LongAdder delayedReleased = new LongAdder();
    public final LongAdder delayedRefused = new LongAdder();
    /** PUBLISHes an extension's PublishInbound interceptor kept from delivery (or gave an invalid topic). */
    public final LongAdder publishesPreventedByExtensions = new LongAdder();
    /** Deliveries an extension's PublishOutbound interceptor skipped (dropped for that receiver as if delivered). */
    public final LongAdder deliveriesSkippedByExtensions = new LongAdder();
    /**
     * Times a publisher was held back because a subscriber's queue was filling while it kept consuming (in a
     * cluster, also times the data link from another node was paused for a subscriber here).
     */
    public final LongAdder publishesBackpressured = new LongAdder();
    /** Times a client went over max_publish_rate and was not read from for a while. */
    public final LongAdder publishesThrottled = new LongAdder();
    /** Topic filters the authorizer refused in SUBSCRIBE. */
    public final LongAdder subscriptionsDenied = new LongAdder();
    /** Messages not delivered because the receiving client may not read their topic. */
    public final LongAdder deliveriesDenied = new LongAdder();
    /** Retained messages not kept because retained_max_count or retained_max_bytes was reached. */
    public final LongAdder retainedRefused = new LongAdder();
    /** Sessions ended because their expiry interval elapsed. */
    public final LongAdder sessionsExpired = new LongAdder();
    /** QoS 0 messages not kept for an offline session (queue_qos0_messages false). */
    public final LongAdder offlineQos0Drops = new LongAdder();

    /** The store's syncs to disk, by duration (recorded by the store's writer once per synced group of writes). */
    public final SyncLatencies storeSyncs = new SyncLatencies();

    // ------------------------------------------------------------------ transport limits and security
    /** Connections closed at accept because their listener's max_connections was reached. */
    public final LongAdder listenerConnectionsRefused = new LongAdder();
    /** Connections closed at accept because their source address exceeded connection_rate_per_address. */
    public final LongAdder connectionsRateLimited = new LongAdder();
    /** CONNACK refusals of credentials held back by the auth failure delay. */
    public final LongAdder authFailuresDelayed = new LongAdder();
    /** QoS 0 messages dropped because the client's outbound buffer was past max_outbound_buffer. */
    public final LongAdder slowConsumerDrops = new LongAdder();
    /** Clients disconnected as slow consumers (slow_consumer_policy disconnect, or slow_consumer_timeout). */
    public final LongAdder slowConsumerDisconnects = new LongAdder();
    /**
     * Connections the broker closed by flushing what was left for the client, shutting down its output and discarding
     * input until the client closed too.
     */
    public final LongAdder lingeringCloses = new LongAdder();
    /**
     * Broker-ended connections closed at a bound instead: the client did not take what was left for it within 10 s,
     * or neither closed nor stopped sending within a second after that.
     */
    public final LongAdder lingeringCloseCutOffs = new LongAdder();
    /** TLS handshakes that failed (bad, expired, untrusted or revoked certificates, protocol mismatches). */
    public final LongAdder tlsHandshakeFailures = new LongAdder();
    /** TLS contexts rebuilt after their certificate or key files changed. */
    public final LongAdder tlsReloads = new LongAdder();

    // ------------------------------------------------------------------ cluster (all zero on a single node)
    /** Members of the cluster this node sees, itself included. */
    public final AtomicLong clusterMembers = new AtomicLong();
    /** Messages this node forwarded to other nodes (one per node with matching subscribers), and their link bytes. */
    public final LongAdder forwardedSent = new LongAdder();
    public final LongAdder forwardedBytesSent = new LongAdder();
    /** Messages other nodes forwarded to this one, and their link bytes (whole frames, as sent). */
    public final LongAdder forwardedReceived = new LongAdder();
    public final LongAdder forwardedBytesReceived = new LongAdder();
    /**
     * Retained changes that could not be written to the cluster's retained map (no partition owner or backup
     * answered): applied on no node, the publisher acknowledged all the same.
     */
    public final LongAdder retainedReplicationFailures = new LongAdder();
    /**
     * Shared-subscription messages (QoS 1/2) sent to a node that left before its member had taken them, given to
     * another member of the group.
     */
    public final LongAdder sharedRedispatched = new LongAdder();
    /**
     * QoS 1/2 messages forwarded to a node that left before confirming them, given to the members that adopt its
     * sessions.
     */
    public final LongAdder forwardsOrphaned = new LongAdder();
    /** Messages for another node dropped because its link's backlog was full or the node left. */
    public final LongAdder forwardDrops = new LongAdder();
    /**
     * Data-link connections closed for what they sent: a wrong cluster name, secret or version, a malformed,
     * truncated or oversized frame.
     */
    public final LongAdder linkFramesRefused = new LongAdder();
    /** Sessions this node handed to another node whose client connected there (remote takeovers, giving side). */
    public final LongAdder sessionsHandedOver = new LongAdder();
    /** Sessions this node took over from another node (remote takeovers, receiving side). */
    public final LongAdder sessionsReceived = new LongAdder();
    /**
     * CONNECTs refused (0x88) because their session could not be had: the node holding it is dead or did not hand
     * it over, or a newer CONNECT of the client id took it first.
     */
    public final LongAdder takeoversRefused = new LongAdder();
    /** Sessions of dead nodes this node adopted from their replicas. */
    public final LongAdder sessionsAdopted = new LongAdder();
    /** Wills of dead nodes' clients this node published (with the sessions it adopted). */
    public final LongAdder deadNodeWillsPublished = new LongAdder();
    /** Replica updates sent and not yet confirmed with their backups (how far replication lags). */
    public final AtomicLong replicationPending = new AtomicLong();
    /**
     * Session replicas this node owns that have no backup on another member (the cluster has too few members for
     * {@code cluster.backup_count}): their sessions would be lost with this node. Sampled every 5 s.
     */
    public final AtomicLong sessionsWithoutBackup = new AtomicLong();
    /**
     * 1 while every partition this node owns has its backups in sync, 0 while Hazelcast re-replicates after a member
     * left or joined (another death then may lose data). Sampled every 2 s.
     */
    public final AtomicLong backupsInSync = new AtomicLong(1);
    /**
     * 1 while acknowledgements wait for every partition's backups to be in sync again (after a member left), else 0.
     */
    public final AtomicLong acknowledgementsAwaitBackups = new AtomicLong();
    /** Replica updates given up after retries: what waited for them was not acknowledged. */
    public final LongAdder replicationFailures = new LongAdder();

    /** A client finished connecting: counted, and the peak raised if this is a new one. */
    public void clientConnected() {
        connectsAccepted.increment();
        long now = clientsConnected.incrementAndGet();
        long peak;
        while (now > (peak = clientsMaximum.get()) && !clientsMaximum.compareAndSet(peak, now)) {
            // another loop raised it meanwhile: compare again
        }
    }

    /** All packets received (PUBLISH and the others). */
    public long packetsReceivedTotal() {
        return publishesReceived.sum() + sum(packetsReceived);
    }

    /** All packets sent (PUBLISH and the others). */
    public long packetsSentTotal() {
        return publishesSent.sum() + sum(packetsSent);
    }

    /** Messages not delivered for lack of room, as Mosquitto's {@code publish/messages/dropped} counts them. */
    public long messagesDropped() {
        return queueOverflowDrops.sum() + slowConsumerDrops.sum() + offlineQos0Drops.sum() + oversizedDrops.sum();
    }

    private static long sum(LongAdder[] counters) {
        long total = 0;
        for (LongAdder a : counters) {
            total += a.sum();
        }
        return total;
    }

    private static LongAdder[] newCounters(int n) {
        LongAdder[] a = new LongAdder[n];
        for (int i = 0; i < n; i++) {
            a[i] = new LongAdder();
        }
        return a;
    }

    /** One counter per QoS (0, 1, 2). */
    public static final class QosCounters {
        private final LongAdder[] byQos = newCounters(3);

        public void increment(int qos) {
            byQos[qos].increment();
        }

        public long get(int qos) {
            return byQos[qos].sum();
        }

        public long sum() {
            return byQos[0].sum() + byQos[1].sum() + byQos[2].sum();
        }
    }
}
