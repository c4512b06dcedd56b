package io.ternmq.broker.security;

/**
 * Who a connected client is, as authorization sees it. {@link #username} is null for anonymous clients;
 * {@link #certificateCommonName} is null without a client certificate; {@link #listener} names the listener (its
 * port or configured name) the client came through.
 *
 * <p>An interface rather than a record so that a connection can answer for itself: an idle connection then carries no
 * identity object and no address string of its own (the address is formatted when asked, which authorization rarely
 * does).
 */
public interface ClientIdentity {
    String clientId();

    String username();

    String certificateCommonName();

    /** "host:port" of the client (as a trusted proxy named it, else the socket's peer). */
    String remoteAddress();

    String listener();

    /** 3 (MQTT 3.1), 4 (3.1.1), 5; 0 where no connection says (an identity made for a check). */
    default int protocolLevel() {
        return 0;
    }

    /** An identity that is not a connection's (a test, an internal client). */
    static ClientIdentity of(String clientId, String username, String certificateCommonName, String remoteAddress,
                             String listener) {
        return new Fixed(clientId, username, certificateCommonName, remoteAddress, listener);
    }

    record Fixed(String clientId, String username, String certificateCommonName, String remoteAddress,
                 String listener) implements ClientIdentity {
    }
}
