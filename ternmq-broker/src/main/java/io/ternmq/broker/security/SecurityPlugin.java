package io.ternmq.broker.security;

import java.util.List;

/**
 * What a {@link SecurityProvider} contributes to one listener. Each part is optional. Several plugins on one listener
 * combine: a client is authenticated when any authenticator accepts it, authorized when every authorizer allows,
 * and enhanced authentication methods are pooled (the first plugin offering a method gets it).
 */
public interface SecurityPlugin extends AutoCloseable {

    /** Checks CONNECT credentials, or null if this plugin does not authenticate. */
    default Authenticator authenticator() {
        return null;
    }

    /** Decides publish, subscribe and receive rights, or null if this plugin does not authorize. */
    default Authorizer authorizer() {
        return null;
    }

    /** MQTT 5 enhanced authentication methods offered. */
    default List<EnhancedAuthenticator> enhancedAuthenticators() {
        return List.of();
    }

    /** For the start-up log: what this plugin does, e.g. "password file /etc/ternmq/passwd". */
    String describe();

    /** Re-reads files or drops caches (SIGHUP). File watching, if any, is the plugin's own. */
    default void reload() {
    }

    @Override
    default void close() {
    }
}
