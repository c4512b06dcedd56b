package io.ternmq.broker.session;

/**
 * A client's network connection as listings show it.
 *
 * @param remoteAddress "address:port" of the client
 * @param listener      the listener it came through, "address:port" as configured
 * @param username      the user name it authenticated with, or null
 * @param protocolLevel 3 (MQTT 3.1), 4 (3.1.1) or 5
 */
public record ConnectionInfo(String remoteAddress, String listener, String username, int protocolLevel,
                             long connectedAtMillis) {
}
