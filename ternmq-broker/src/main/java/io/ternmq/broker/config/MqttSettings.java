package io.ternmq.broker.config;

/**
 * What the broker allows and offers MQTT clients: packet and topic limits, per-client limits, and the features an
 * MQTT 5 CONNACK announces.
 *
 * @param maxPacketSize                   largest packet accepted from a client, fixed header included
 * @param maxKeepAlive                    largest keep alive accepted (MQTT 5: the Server Keep Alive sent instead;
 *                                        3.x: CONNACK 0x02)
 * @param receiveMaximum                  MQTT 5 Receive Maximum the broker announces: QoS 1/2 PUBLISHes a client may
 *                                        have unacknowledged
 * @param maxQos                          highest QoS the broker supports (MQTT 5 Maximum QoS)
 * @param retainAvailable                 whether retained messages are supported
 * @param wildcardSubscriptionAvailable   whether filters with + and # are allowed
 * @param subscriptionIdentifierAvailable whether MQTT 5 subscription identifiers are supported
 * @param sharedSubscriptionAvailable     whether $share/ subscriptions are supported
 * @param maxTopicAlias                   MQTT 5 Topic Alias Maximum the broker accepts from a client
 * @param maxTopicLength                  longest topic name or filter accepted, in UTF-8 bytes
 * @param maxTopicLevels                  most levels (parts between '/') a topic name or filter may have
 * @param maxPublishRate                  PUBLISH packets per second one client may send; above it the broker stops
 *                                        reading from it for a while. 0: no limit
 * @param maxSubscriptionsPerClient       topic filters per session; negative means no cap
 * @param responseInformation             prefix for MQTT 5 Response Information (client id appended); empty: not
 *                                        offered
 */
public record MqttSettings(int maxPacketSize, int maxKeepAlive, int receiveMaximum, int maxQos,
                           boolean retainAvailable, boolean wildcardSubscriptionAvailable,
                           boolean subscriptionIdentifierAvailable, boolean sharedSubscriptionAvailable,
                           int maxTopicAlias, int maxTopicLength, int maxTopicLevels, int maxPublishRate,
                           int maxSubscriptionsPerClient, String responseInformation) {
}
