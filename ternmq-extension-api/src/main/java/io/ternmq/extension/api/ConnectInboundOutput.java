package io.ternmq.extension.api;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;

/**
 * What the broker will make of a CONNECT; starts as the client sent it. Later interceptors see earlier ones'
 * changes. Broker-owned: do not implement.
 *
 * @since 0.1
 */
public interface ConnectInboundOutput {
    /** @since 0.1 */
    String clientId();

    /** Replaces the client identifier (then authenticated and used for the session). @since 0.1 */
    void clientId(String clientId);

    /** The user name, or null. @since 0.1 */
    String username();

    /** @since 0.1 */
    void username(String username);

    /** The password as a read-only buffer, or null. @since 0.1 */
    ByteBuffer password();

    /** Replaces the password (copied), or removes it (null). @since 0.1 */
    void password(ByteBuffer password);

    /** MQTT 5 User Properties of the CONNECT (empty for 3.x). @since 0.1 */
    List<UserProperty> userProperties();

    /** Replaces them (ignored for MQTT 3.x clients). @since 0.1 */
    void userProperties(List<UserProperty> properties);

    /**
     * Refuses the connection with this CONNACK reason code (MQTT 5 codes; 3.x clients get the nearest 3.x return
     * code). Authentication does not run.
     *
     * @since 0.1
     */
    void refuse(int reasonCode, String reasonString);

    /**
     * Refuses with 0x9C (use another server) or 0x9D (server moved) and a Server Reference, which MQTT 5 clients may
     * follow. MQTT 3.x clients get return code 3 (server unavailable).
     *
     * @throws IllegalArgumentException for another code
     * @since 0.1
     */
    void redirect(int reasonCode, String serverReference);

    /**
     * Moves the decision elsewhere: the CONNECT waits (with the client's later packets) until
     * {@link Async#resume()}, or until {@code timeout}, when {@code fallback} applies. Call at most once per CONNECT,
     * before returning from the interceptor.
     *
     * @since 0.1
     */
    Async async(Duration timeout, Fallback fallback);
}
