package io.ternmq.broker.config;

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
 * @param connectionRatePerAddress new TCP connections per second one source address may open on this listener
 *                       (further ones are closed at accept); 0: no limit
 */
public record ListenerConfig(String bindAddress, int port, TlsSettings tls, AuthSettings auth, int maxConnections,
                             int connectionRatePerAddress) {
    public ListenerConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0..65535, not " + port);
        }
        Objects.requireNonNull(bindAddress, "bindAddress");
        Objects.requireNonNull(auth, "auth");
    }

    /** A plain TCP listener with default settings. */
    public ListenerConfig(String bindAddress, int port) {
        this(bindAddress, port, null, AuthSettings.DEFAULT, -1, 0);
    }

    public boolean isTls() {
        return tls != null;
    }

    /** What the listener speaks, which decides its connections' pipeline: TLS when it has TLS settings. */
    public TransportKind transport() {
        return tls == null ? TransportKind.TCP : TransportKind.TLS;
    }

    /** The same listener on another address and port (the command line's --bind and --port). */
    public ListenerConfig withAddress(String newBindAddress, int newPort) {
        return new ListenerConfig(newBindAddress, newPort, tls, auth, maxConnections, connectionRatePerAddress);
    }

    @Override
    public String toString() {
        return bindAddress + ":" + port;
    }
}
