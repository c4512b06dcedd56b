package io.ternmq.broker.config;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Set;

/**
 * The admin listener ({@code listener <port> [<address>]} followed by {@code protocol http_api}, Mosquitto 2.1's
 * name): HTTP for operators, served apart from MQTT. It always needs a password file: there is no default user.
 *
 * @param passwordFile     who may use it ({@code ternmq passwd} format)
 * @param metricsAnonymous whether {@code GET /metrics} answers without credentials ({@code metrics_anonymous})
 * @param readonlyUsers    users of the password file who may only read ({@code admin_readonly_users})
 * @param tls              HTTPS ({@code certfile}/{@code keyfile} or {@code keystore} on the listener), or null
 */
public record AdminListenerConfig(String bindAddress, int port, Path passwordFile, boolean metricsAnonymous,
                                  Set<String> readonlyUsers, TlsSettings tls) {
    public AdminListenerConfig {
        Objects.requireNonNull(bindAddress, "bindAddress");
        readonlyUsers = Set.copyOf(readonlyUsers);
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0..65535, not " + port);
        }
        if (passwordFile == null) {
            throw new IllegalArgumentException("protocol http_api needs a password_file (ternmq passwd makes one); "
                    + "the admin listener has no default user");
        }
    }

    /** Without read-only users. */
    public AdminListenerConfig(String bindAddress, int port, Path passwordFile, boolean metricsAnonymous) {
        this(bindAddress, port, passwordFile, metricsAnonymous, Set.of());
    }

    /** Plain HTTP. */
    public AdminListenerConfig(String bindAddress, int port, Path passwordFile, boolean metricsAnonymous,
                               Set<String> readonlyUsers) {
        this(bindAddress, port, passwordFile, metricsAnonymous, readonlyUsers, null);
    }

    /** The listener as the TLS code knows listeners: only its address and TLS settings matter. */
    public ListenerConfig asListener() {
        return new ListenerConfig(bindAddress, port, tls, AuthSettings.DEFAULT, -1, 0, null, 0, false, null);
    }

    @Override
    public String toString() {
        return bindAddress + ":" + port;
    }
}
