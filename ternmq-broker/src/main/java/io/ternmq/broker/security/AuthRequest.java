package io.ternmq.broker.security;

import io.ternmq.codec.MqttVersion;

/**
 * What a client presented in its CONNECT. {@code username} and {@code password} are null when absent; the password
 * array belongs to the request and must not be kept.
 */
public record AuthRequest(String clientId, String username, byte[] password, String remoteAddress,
                          MqttVersion version) {
}
