package io.ternmq.broker.config;

/**
 * Client identifiers, and how long sessions outlive their connections.
 *
 * @param allowZeroLengthClientId    whether an empty client id gets an assigned one
 * @param autoIdPrefix               prefix of assigned client ids
 * @param maxSessionExpiryInterval   cap on the Session Expiry Interval an MQTT 5 client asks for, seconds
 *                                   (4294967295: no cap)
 * @param persistentClientExpiration cap on the expiry of every session, MQTT 3.x and 5, seconds: an MQTT 3.x
 *                                   persistent session, which has no expiry of its own, is removed once offline this
 *                                   long. 0: no cap
 */
public record SessionSettings(boolean allowZeroLengthClientId, String autoIdPrefix, long maxSessionExpiryInterval,
                              long persistentClientExpiration) {

    /** {@code seconds}, or persistent_client_expiration when that is set and shorter. */
    public long capExpiry(long seconds) {
        return persistentClientExpiration > 0 ? Math.min(seconds, persistentClientExpiration) : seconds;
    }

    /**
     * The Session Expiry Interval of an MQTT 5 session whose client asks for {@code requested} seconds (in CONNECT
     * or DISCONNECT): the shortest of that, max_session_expiry_interval and persistent_client_expiration.
     */
    public long mqtt5Expiry(long requested) {
        return capExpiry(Math.min(requested, maxSessionExpiryInterval));
    }
}
