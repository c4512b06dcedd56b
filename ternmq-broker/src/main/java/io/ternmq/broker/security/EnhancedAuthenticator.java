package io.ternmq.broker.security;

/**
 * One MQTT 5 enhanced authentication method (section 4.12), chosen by the Authentication Method a client puts in
 * CONNECT: for example SCRAM-SHA-256. Each CONNECT, and each re-authentication, starts a new exchange.
 */
public interface EnhancedAuthenticator {

    /** The Authentication Method name this authenticator answers to, e.g. "SCRAM-SHA-256". */
    String method();

    /** Starts the exchange for a client; its first {@link AuthExchange#respond} gets CONNECT's Authentication Data. */
    AuthExchange start(AuthRequest request);
}
