package io.ternmq.broker.security;

import io.ternmq.broker.config.ListenerConfig;

/**
 * The extension point for authentication and authorization back ends, found with {@link java.util.ServiceLoader}:
 * list the implementation's class name in {@code META-INF/services/io.ternmq.broker.security.SecurityProvider} of a
 * jar on the class path. A listener uses a provider when its configuration names it ({@code plugin <name>}, with
 * {@code plugin_opt_<key> <value>} options), or when {@link #enabledByDefault} says the listener's settings call for
 * it (the built-in {@code file} provider: a {@code password_file} or {@code acl_file}).
 * <p>
 * Built in: {@code file} (password file and ACL file), {@code scram-sha-256} (MQTT 5 enhanced authentication with the
 * password file's SCRAM credentials) and {@code http} (a web service decides).
 */
public interface SecurityProvider {

    /** The name a {@code plugin} line uses. */
    String name();

    /** Whether the listener uses this provider without a {@code plugin} line naming it. */
    default boolean enabledByDefault(ListenerConfig listener) {
        return false;
    }

    /**
     * Creates the provider's components for one listener. Called once per listener at start.
     *
     * @throws io.ternmq.broker.config.ConfigException if the options or files are unusable; the broker does not start
     */
    SecurityPlugin create(SecurityContext context);
}
