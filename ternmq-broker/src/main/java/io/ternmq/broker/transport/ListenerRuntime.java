package io.ternmq.broker.transport;

import io.ternmq.broker.config.ListenerConfig;
import io.ternmq.broker.config.TlsSettings.CertificateIdentity;
import io.ternmq.broker.metrics.RateLimitedLog;
import io.ternmq.broker.protocol.BrokerContext;
import io.ternmq.broker.security.AuthFailureDelay;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.util.concurrent.atomic.AtomicInteger;

/** One listener while the server runs: its settings, its collaborators and its open connections. */
final class ListenerRuntime {
    private static final Logger LOG = LoggerFactory.getLogger(ListenerRuntime.class);
    private static final RateLimitedLog RATE_LOG = new RateLimitedLog(LOG, 10_000);

    /** Where a connection's client address comes from: the last step that can name it. */
    enum AddressSource {
        /** The TCP peer. */
        SOCKET,
        /** The PROXY protocol header. */
        PROXY_HEADER,
        /** A trusted proxy's X-Forwarded-For, read at the WebSocket upgrade. */
        FORWARDED_FOR
    }

    final ListenerConfig config;
    final BrokerContext context;
    /** Null for plain TCP. */
    final ServerTlsContext tls;
    final AuthFailureDelay authFailureDelay;
    final OutboundLimits outboundLimits;
    final CertificateIdentity usernameFromCertificate;
    final String name;
    /** As the admin API names it for each client: tcp, tls, ws, wss. */
    final String transportName;
    final AtomicInteger connections = new AtomicInteger();
    /** Null without connection_rate_per_address. */
    final ConnectionRateLimiter rateLimiter;
    /** Where connection_rate_per_address is applied: once the client address is final. */
    final AddressSource addressSource;

    ListenerRuntime(ListenerConfig config, BrokerContext context, ServerTlsContext tls,
                    AuthFailureDelay authFailureDelay, OutboundLimits outboundLimits) {
        this.config = config;
        this.context = context;
        this.tls = tls;
        this.authFailureDelay = authFailureDelay;
        this.outboundLimits = outboundLimits;
        this.usernameFromCertificate = config.usernameFromCertificate();
        this.name = config.toString();
        this.transportName = switch (config.transport()) {
            case TCP -> "tcp";
            case TLS -> "tls";
            case WEBSOCKET -> "ws";
            case WEBSOCKET_TLS -> "wss";
        };
        this.rateLimiter = config.connectionRatePerAddress() > 0
                ? new ConnectionRateLimiter(config.connectionRatePerAddress()) : null;
        this.addressSource = config.isWebSocket() && !config.webSocket().trustedProxies().isEmpty()
                ? AddressSource.FORWARDED_FOR
                : config.proxyProtocol() > 0 ? AddressSource.PROXY_HEADER : AddressSource.SOCKET;
    }

    /**
     * Applies {@code connection_rate_per_address} to a client address named by {@code source}, if that is where
     * this listener's addresses become final.
     *
     * @return false if the connection is to be closed
     */
    boolean admit(InetAddress client, AddressSource source) {
        if (rateLimiter == null || source != addressSource || rateLimiter.tryAcquire(client)) {
            return true;
        }
        context.metrics().connectionsRateLimited.increment();
        RATE_LOG.warn("Closing connections from {}: more than {} new connections a second "
                + "(connection_rate_per_address)", client == null ? "?" : client.getHostAddress(),
                config.connectionRatePerAddress());
        return false;
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
