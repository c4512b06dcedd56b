package io.ternmq.broker.config;

import java.util.List;
import java.util.Objects;

/**
 * Whether this broker is one node of a cluster, and how it finds and trusts the others (docs/cluster.md).
 *
 * @param enabled               {@code cluster.enabled}: off, nothing of the cluster is loaded or started
 * @param name                  {@code cluster.name}: nodes join only a cluster of the same name
 * @param bind                  {@code cluster.bind}: this node's membership address; the data link listens on the
 *                              same host, on a port chosen at start and announced through the membership
 * @param members               {@code cluster.members}: membership addresses to join through (this node's may be
 *                              among them)
 * @param secret                {@code cluster.secret}: shared by every node; authenticates the data link
 * @param minMembers            {@code cluster.min_members}: members a node must see to serve
 * @param backupCount           {@code cluster.backup_count}: synchronous backups of each partitioned map entry
 * @param failureTimeoutSeconds {@code cluster.failure_timeout}: a member silent this long is declared dead
 */
public record ClusterSettings(boolean enabled, String name, Address bind, List<Address> members, String secret,
                             int minMembers, int backupCount, int failureTimeoutSeconds) {

    public static final String DEFAULT_NAME = "ternmq";
    public static final Address DEFAULT_BIND = new Address("127.0.0.1", 5701);
    /** Shorter secrets are refused: HMAC-SHA256 with a guessable key authenticates nothing. */
    public static final int MIN_SECRET_BYTES = 16;

    public static final ClusterSettings DISABLED =
            new ClusterSettings(false, DEFAULT_NAME, DEFAULT_BIND, List.of(), null, 1, 1, 10);

    public ClusterSettings {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(bind, "bind");
        members = List.copyOf(members);
    }

    /** What is wrong with these settings, as the key to blame and a message; null if nothing. */
    public record Problem(String key, String message) {
    }

    /**
     * Checks what no single key can: required keys, ports used twice (the MQTT listeners' included) and
     * {@code min_members} against the member count. Only an enabled cluster is checked.
     */
    public Problem problem(List<ListenerConfig> listeners) {
        if (!enabled) {
            return null;
        }
        if (members.isEmpty()) {
            return new Problem("cluster.enabled", "cluster.members is required when the cluster is enabled");
        }
        if (secret == null) {
            return new Problem("cluster.enabled", "cluster.secret is required when the cluster is enabled");
        }
        if (secret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < MIN_SECRET_BYTES) {
            return new Problem("cluster.secret", "must be at least " + MIN_SECRET_BYTES + " bytes");
        }
        for (ListenerConfig l : listeners) {
            if (l.port() == bind.port()) {
                return new Problem("cluster.bind", "port " + bind.port() + " is used twice: by cluster.bind and by "
                        + "listener " + l);
            }
        }
        java.util.Set<Address> seen = new java.util.HashSet<>();
        for (Address a : members) {
            if (!seen.add(a)) {
                return new Problem("cluster.members", a + " is listed twice");
            }
        }
        if (minMembers > memberCount()) {
            return new Problem("cluster.min_members", minMembers + " is more than the " + memberCount()
                    + " members of cluster.members and cluster.bind");
        }
        return null;
    }

    /** Members the cluster has when every node is up: the configured ones and this node's own address. */
    public int memberCount() {
        return (int) java.util.stream.Stream.concat(members.stream(), java.util.stream.Stream.of(bind))
                .distinct().count();
    }

    /** A {@code host:port}. */
    public record Address(String host, int port) {
        public Address {
            Objects.requireNonNull(host, "host");
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port must be 1..65535, not " + port);
            }
        }

        /** Parses {@code host:port} ({@code [v6]:port} for IPv6 literals). */
        public static Address parse(String v) {
            int colon = v.lastIndexOf(':');
            if (colon <= 0 || colon == v.length() - 1) {
                throw new IllegalArgumentException("'" + v + "' is not host:port");
            }
            String host = v.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port;
            try {
                port = Integer.parseInt(v.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + v + "' is not host:port");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("'" + v + "': port " + port + " is out of range 1..65535");
            }
            return new Address(host, port);
        }

        @Override
        public String toString() {
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }
    }
}
