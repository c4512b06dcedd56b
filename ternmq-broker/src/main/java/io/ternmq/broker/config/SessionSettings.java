package io.ternmq.broker.config;

/**
 * Client identifiers, and how long sessions outlive their connections.
 *
 * @param allowZeroLengthClientId    whether an empty client id gets an assigned one
 * @param autoIdPrefix               prefix of assigned client ids
 * @param maxSessionExpiryInterval   cap on the Session Expiry Interval an MQTT 5 client asks for, seconds
 *                                   (4294967295: no cap)
 * @param persistentClientExpiration seconds after which an MQTT 3.x persistent session that stays offline is
 *                                   removed; 0: never
 */
public record SessionSettings(boolean allowZeroLengthClientId, String autoIdPrefix, long maxSessionExpiryInterval,
                              long persistentClientExpiration) {
}
