package io.ternmq.broker.config;

import io.ternmq.broker.config.TlsSettings.CertificateIdentity;
import io.ternmq.broker.config.TlsSettings.ClientCertificates;

import java.util.Objects;

/**
 * One network listener: where it binds, and its own TLS, authentication and connection settings (the keys that
 * follow its {@code listener} line in the configuration file, over the defaults given before the first listener).
 * Port 0 asks the OS for a free port (tests use that).
 *
 * @param tls            TLS settings, or null for plain TCP
 * @param auth           authentication and authorization settings
 * @param maxConnections TCP connections this listener holds at most (further ones are closed at accept); negative:
 *                       no cap
 * @param connectionRatePerAddress new TCP connections per second one client address may open on this listener
 *                       (further ones are closed as soon as the address is known: at accept, or after the PROXY
 *                       header or the WebSocket upgrade that names it); 0: no limit
 * @param webSocket      MQTT over WebSocket, or null for MQTT directly on the connection
 * @param proxyProtocol  the PROXY protocol version (1 or 2) every connection must begin with
 *                       ({@code enable_proxy_protocol}); 0: none
 * @param proxyProtocolRequiresTls whether a PROXY v2 header must say the client connected with TLS
 *                       ({@code proxy_protocol_v2_require_tls})
 * @param proxiedCertificates on a listener without TLS of its own behind a proxy that terminates TLS and says so in
 *                       its PROXY v2 header: the client certificate the proxy verified ({@code require_certificate},
 *                       {@code use_identity_as_username}); null otherwise
 */
public record ListenerConfig(String bindAddress, int port, TlsSettings tls, AuthSettings auth, int maxConnections,
                             int connectionRatePerAddress, WebSocketSettings webSocket, int proxyProtocol,
                             boolean proxyProtocolRequiresTls, ProxiedCertificates proxiedCertificates) {
    public ListenerConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0..65535, not " + port);
        }
        Objects.requireNonNull(bindAddress, "bindAddress");
        Objects.requireNonNull(auth, "auth");
        if (proxyProtocol < 0 || proxyProtocol > 2) {
            throw new IllegalArgumentException("enable_proxy_protocol must be 1 or 2, not " + proxyProtocol);
        }
        if (proxyProtocolRequiresTls && proxyProtocol != 2) {
            throw new IllegalArgumentException("proxy_protocol_v2_require_tls needs enable_proxy_protocol 2");
        }
        if (proxiedCertificates != null && (tls != null || !proxyProtocolRequiresTls)) {
            throw new IllegalArgumentException("a certificate checked by the proxy needs a listener without TLS, "
                    + "with enable_proxy_protocol 2 and proxy_protocol_v2_require_tls true");
        }
    }

    /**
     * What a PROXY v2 header's SSL TLV must say of the client's certificate, as Mosquitto 2.1 reads it.
     *
     * @param required       REQUIRED: the header must say the client presented a certificate the proxy verified;
     *                       OPTIONAL: one is used if it says so
     * @param usernameFrom   CN: the certificate's CN (PP2_SUBTYPE_SSL_CN) becomes the user name; or NONE
     */
    public record ProxiedCertificates(ClientCertificates required, CertificateIdentity usernameFrom) {
    }

    /** Which part of the client's certificate becomes its user name: the listener's TLS, or a proxy's header. */
    public CertificateIdentity usernameFromCertificate() {
        if (tls != null) {
            return tls.usernameFromCertificate();
        }
        return proxiedCertificates != null ? proxiedCertificates.usernameFrom() : CertificateIdentity.NONE;
    }

    /** A plain TCP listener with default settings. */
    public ListenerConfig(String bindAddress, int port) {
        this(bindAddress, port, null, AuthSettings.DEFAULT, -1, 0, null, 0, false, null);
    }

    public boolean isTls() {
        return tls != null;
    }

    public boolean isWebSocket() {
        return webSocket != null;
    }

    /** What the listener speaks, which decides its connections' pipeline. */
    public TransportKind transport() {
        if (webSocket != null) {
            return tls == null ? TransportKind.WEBSOCKET : TransportKind.WEBSOCKET_TLS;
        }
        return tls == null ? TransportKind.TCP : TransportKind.TLS;
    }

    /** The same listener on another address and port (the command line's --bind and --port). */
    public ListenerConfig withAddress(String newBindAddress, int newPort) {
        return new ListenerConfig(newBindAddress, newPort, tls, auth, maxConnections, connectionRatePerAddress,
                webSocket, proxyProtocol, proxyProtocolRequiresTls, proxiedCertificates);
    }

    @Override
    public String toString() {
        return bindAddress + ":" + port;
    }
}
