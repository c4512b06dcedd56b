package io.ternmq.codec;

/**
 * What {@link MqttDecoder} passes down the pipeline instead of a packet when the stream breaks the protocol. After
 * one failure the decoder discards every further byte: the connection must be closed.
 *
 * @param packetType   the type from the fixed header, or null if even that was invalid
 * @param version      the protocol version the failure concerns: for a CONNECT, the version it asked for (or null
 *                     if it named none we speak); afterwards, the connection's version
 * @param unsupportedProtocolVersion true when a CONNECT named a protocol level we do not speak, which the server
 *                     answers with CONNACK 0x01 (3.1.1) / 0x84 (5.0) before closing [MQTT-3.1.2-2]
 */
public record DecodeFailure(PacketType packetType, MqttVersion version, int reasonCode, String message,
                            boolean unsupportedProtocolVersion) {
}
