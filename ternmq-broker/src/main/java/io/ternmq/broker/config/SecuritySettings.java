package io.ternmq.broker.config;

/**
 * Broker-wide protection against clients that guess credentials or crowd others out. Authentication and
 * authorization themselves are per listener ({@link AuthSettings}).
 *
 * @param authFailureDelayMillis    delay before a CONNACK refusing credentials, doubled for each further failure
 *                                  from the same address; 0: off
 * @param authFailureDelayMaxMillis upper bound of that delay
 * @param maxConnections            connected clients the whole broker accepts; negative means no cap
 */
public record SecuritySettings(int authFailureDelayMillis, int authFailureDelayMaxMillis, int maxConnections) {
}
