package io.ternmq.broker.session;

/**
 * One session as its owner loop saw it when asked.
 *
 * @param connection    the attached connection, or null while the client is offline
 * @param expiryInterval seconds the session outlives its connection ({@code 0xFFFFFFFF}: never expires)
 * @param queued        messages waiting to be sent (beyond those in flight)
 */
public record SessionInfo(String clientId, ConnectionInfo connection, long expiryInterval, int subscriptions,
                          int inflight, int queued) implements java.io.Serializable {
}
