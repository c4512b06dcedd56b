package io.ternmq.broker.security;

import io.ternmq.codec.MqttVersion;

/**
 * What a client presented in its CONNECT, and the verified TLS client certificate of its connection.
 * {@code username}, {@code password} and {@code certificate} are null when absent; the password array belongs to the
 * request and must not be kept.
 */
public record AuthRequest(String clientId, String username, byte[] password, String remoteAddress,
                          MqttVersion version, CertificateInfo certificate) {

    /** A request from a connection without a client certificate. */
    public AuthRequest(String clientId, String username, byte[] password, String remoteAddress, MqttVersion version) {
        this(clientId, username, password, remoteAddress, version, null);
    }
}
