package io.ternmq.broker.security;

/**
 * Who a connected client is, as authorization sees it. {@code username} is null for anonymous clients;
 * {@code certificateCommonName} is null without a client certificate; {@code listener} names the listener (its
 * port or configured name) the client came through.
 */
public record ClientIdentity(String clientId, String username, String certificateCommonName,
                             String remoteAddress, String listener) {
}
