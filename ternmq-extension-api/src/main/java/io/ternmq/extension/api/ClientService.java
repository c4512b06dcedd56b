package io.ternmq.extension.api;

import java.util.concurrent.CompletionStage;

/**
 * Connected clients. Broker-owned: do not implement. Callable from any thread.
 *
 * @since 0.1
 */
public interface ClientService {
    /** Whether a client with this identifier is connected now. @since 0.1 */
    boolean isConnected(String clientId);

    /**
     * Ends the client's connection; MQTT 5 clients get DISCONNECT with {@code reasonCode} and, if not null, the
     * Server Reference (with 0x9C use another server or 0x9D server moved). Its session stays or ends as its expiry
     * says.
     *
     * @return whether the client was connected
     * @since 0.1
     */
    CompletionStage<Boolean> disconnect(String clientId, int reasonCode, String serverReference);
}
