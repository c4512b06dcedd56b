package io.ternmq.broker.store;

import io.ternmq.broker.message.Message;

/**
 * A session as stored: who, which incarnation ({@code epoch}, which names its queue), which protocol level, how long
 * it outlives its connection, when it was last disconnected (0 while connected), and its will with the will delay.
 *
 * @param will             the will message, or null
 * @param willDelaySeconds MQTT 5 will delay; 0 for none
 */
public record SessionRecord(String clientId, long epoch, int protocolLevel, long expiryInterval,
                            long disconnectedAtMillis, Message will, long willDelaySeconds) {

    public SessionRecord withExpiryInterval(long seconds) {
        return new SessionRecord(clientId, epoch, protocolLevel, seconds, disconnectedAtMillis, will, willDelaySeconds);
    }
}
