package io.ternmq.broker.session;

/**
 * A client's network connection as listings show it.
 *
 * @param remoteAddress "address:port" of the client
 * @param listener      the listener it came through, "address:port" as configured
 * @param username      the user name it authenticated with, or null
 * @param protocolLevel 3 (MQTT 3.1), 4 (3.1.1) or 5
 * @param maxInflight   the outbound in-flight window (the client's Receive Maximum, at most max_inflight_messages)
 * @param unwritableMillis how long its socket has been unwritable (more waiting to be written than the write
 *                      buffer's high water mark): the client stopped reading; 0 while it is writable
 * @param transport     tcp, tls, ws or wss; a bridge's local session: internal
 * @param addressVia    the proxy header that named {@code remoteAddress} (proxy_protocol, x_forwarded_for,
 *                      forwarded), or null
 * @param messagesIn    PUBLISH packets received on this connection; {@code messagesOut}, sent; the bytes likewise
 */
public record ConnectionInfo(String remoteAddress, String listener, String username, int protocolLevel,
                             long connectedAtMillis, int maxInflight, long unwritableMillis, String transport,
                             String addressVia, long messagesIn, long messagesOut, long bytesIn, long bytesOut)
        implements java.io.Serializable {
}
