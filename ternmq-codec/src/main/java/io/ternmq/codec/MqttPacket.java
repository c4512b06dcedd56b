package io.ternmq.codec;

/**
 * An MQTT control packet. Implementations are immutable records; byte arrays they hold (payloads, passwords,
 * correlation data) are shared, never modified after construction.
 */
public sealed interface MqttPacket
        permits Connect, Connack, Publish, Puback, Pubrec, Pubrel, Pubcomp, Subscribe, Suback, Unsubscribe,
        Unsuback, Pingreq, Pingresp, Disconnect, Auth {

    PacketType type();
}
