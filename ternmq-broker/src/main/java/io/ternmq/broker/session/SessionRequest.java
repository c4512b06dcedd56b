package io.ternmq.broker.session;

import io.ternmq.broker.message.Message;

/**
 * What a CONNECT asks of the session registry once it is authenticated.
 *
 * @param expiryInterval   seconds the session outlives the connection (0: not at all; {@link Session#NEVER_EXPIRES})
 * @param will             the will message, or null
 * @param willDelaySeconds MQTT 5 will delay, 0 otherwise
 */
public record SessionRequest(String clientId, boolean cleanStart, long expiryInterval, int protocolLevel,
                             Message will, long willDelaySeconds) {
}
