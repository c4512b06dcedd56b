package io.ternmq.extension.api;

import java.nio.ByteBuffer;

/**
 * The credentials of one CONNECT, as {@link ExtensionSecurity#authenticate} sees them. Broker-owned: do not
 * implement.
 *
 * @since 0.2
 */
public interface AuthenticationInput {
    /** @since 0.2 */
    String clientId();

    /** The user name, or null. @since 0.2 */
    String username();

    /** The password as a read-only buffer, or null. @since 0.2 */
    ByteBuffer password();

    /** The client's address, {@code host:port} (behind a trusted proxy: the address it reported). @since 0.2 */
    String remoteAddress();

    /** 3 (MQTT 3.1), 4 (3.1.1) or 5. @since 0.2 */
    int protocolLevel();

    /** The Common Name of the client's TLS certificate, or null without one. @since 0.2 */
    String certificateCommonName();
}
