package io.ternmq.extension.api;

import java.util.concurrent.CompletionStage;

/**
 * What an {@link ExtensionSecurityProvider} decides for one listener. It authenticates if {@link #authenticates()}
 * says so, authorizes if {@link #authorizes()} does; the broker combines it with the listener's other plugins as it
 * combines its own: a client is accepted when any authenticator accepts it, allowed when every authorizer allows.
 * Every method is called on a client's event loop and must not block it: a back end that waits (a database, a web
 * service) answers with a stage completed later, from any thread (the client's later packets wait, in order).
 * Implemented by extensions.
 *
 * @since 0.2
 */
public interface ExtensionSecurity {
    /** Whether {@link #authenticate} is to be asked. @since 0.2 */
    default boolean authenticates() {
        return false;
    }

    /**
     * Whether the CONNECT's credentials are accepted: {@code true} accepts, {@code false} refuses (CONNACK 0x86 Bad
     * user name or password; 3.x: 4); a stage completed exceptionally refuses with 0x88 Server unavailable (3.x: 3).
     *
     * @since 0.2
     */
    default CompletionStage<Boolean> authenticate(AuthenticationInput input) {
        throw new UnsupportedOperationException("this security does not authenticate");
    }

    /** Whether {@link #mayPublish}, {@link #maySubscribe} and {@link #mayReceive} are to be asked. @since 0.2 */
    default boolean authorizes() {
        return false;
    }

    /** Whether the client may publish to this topic name (its will included). @since 0.2 */
    default CompletionStage<Boolean> mayPublish(ClientInfo client, String topic) {
        throw new UnsupportedOperationException("this security does not authorize");
    }

    /** Whether the client may subscribe with this filter ({@code $share/...} filters passed whole). @since 0.2 */
    default CompletionStage<Boolean> maySubscribe(ClientInfo client, String filter) {
        throw new UnsupportedOperationException("this security does not authorize");
    }

    /**
     * Whether a message on this topic may be delivered to the client; asked for every delivery, so it must answer at
     * once (from memory).
     *
     * @since 0.2
     */
    default boolean mayReceive(ClientInfo client, String topic) {
        return true;
    }

    /** For the broker's start-up log: what this security does, e.g. "users from LDAP ldap://…". @since 0.2 */
    String describe();

    /** SIGHUP or {@code POST /api/v1/reload}: re-read what it reads. @since 0.2 */
    default void reload() {
    }

    /** The broker stops. @since 0.2 */
    default void close() {
    }
}
