package io.ternmq.broker.transport;

import io.ternmq.broker.config.ListenerConfig;
import io.ternmq.broker.config.TlsSettings.CertificateIdentity;
import io.ternmq.broker.protocol.BrokerContext;
import io.ternmq.broker.security.AuthFailureDelay;

import java.util.concurrent.atomic.AtomicInteger;

/** One listener while the server runs: its settings, its collaborators and its open connections. */
final class ListenerRuntime {
    final ListenerConfig config;
    final BrokerContext context;
    /** Null for plain TCP. */
    final ServerTlsContext tls;
    final AuthFailureDelay authFailureDelay;
    final OutboundLimits outboundLimits;
    final CertificateIdentity usernameFromCertificate;
    final String name;
    final AtomicInteger connections = new AtomicInteger();
    /** Null without connection_rate_per_address. */
    final ConnectionRateLimiter rateLimiter;

    ListenerRuntime(ListenerConfig config, BrokerContext context, ServerTlsContext tls,
                    AuthFailureDelay authFailureDelay, OutboundLimits outboundLimits) {
        this.config = config;
        this.context = context;
        this.tls = tls;
        this.authFailureDelay = authFailureDelay;
        this.outboundLimits = outboundLimits;
        this.usernameFromCertificate = config.isTls() ? config.tls().usernameFromCertificate()
                : CertificateIdentity.NONE;
        this.name = config.toString();
        this.rateLimiter = config.connectionRatePerAddress() > 0
                ? new ConnectionRateLimiter(config.connectionRatePerAddress()) : null;
    }

    /** Reserves a place for a new connection. @return false when max_connections of this listener is reached */
    boolean tryOpen() {
        int max = config.maxConnections();
        if (max < 0) {
            connections.incrementAndGet();
            return true;
        }
        while (true) {
            int n = connections.get();
            if (n >= max) {
                return false;
            }
            if (connections.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    void closed() {
        connections.decrementAndGet();
    }
}
