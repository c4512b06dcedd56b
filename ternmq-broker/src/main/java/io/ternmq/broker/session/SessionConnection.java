package io.ternmq.broker.session;

import io.ternmq.broker.message.Delivery;

/**
 * What a {@link Session} needs from the network connection it is attached to. Every call happens on the session's
 * owner event loop, which is the connection's own loop while attached.
 */
public interface SessionConnection {

    /**
     * The session is now owned by this connection's event loop and attached to it: answer CONNACK. Called before
     * the session resends anything, so CONNACK goes first on the wire.
     *
     * @return false if the connection closed while the session was being prepared (the session stays detached)
     */
    boolean sessionReady(Session session, boolean sessionPresent);

    /**
     * Writes a PUBLISH (without flushing; see {@link #requestFlush()}).
     *
     * @return false if the message was dropped instead, being larger than the client's Maximum Packet Size
     */
    boolean sendPublish(int packetId, Delivery delivery, boolean dup);

    /** Writes a PUBREL for an outbound QoS 2 message whose PUBREC arrived. */
    void sendPubrel(int packetId);

    /** Arranges one flush after the current batch of work on this event loop. */
    void requestFlush();

    /** The outbound in-flight window: QoS 1/2 messages sent and not yet acknowledged. */
    int maxInflight();

    /**
     * Whether the client's socket is backed up (more waits to be written than the write buffer's high water mark)
     * while the client keeps reading: publishers to it should slow down. Safe from any thread.
     */
    boolean socketBackedUp();

    /** Whether the client takes what is written to it: its socket is not backed up, or drained lately. */
    boolean clientConsuming();

    /**
     * Closes this connection for a reason of the server's: another connection took the session over
     * [MQTT-3.1.4-2], or an administrator ended it. MQTT 5 clients get a DISCONNECT with {@code reasonCode}.
     */
    void closeByServer(int reasonCode, String why);

    /** As {@link #closeByServer(int, String)}; without {@code publishWill} the will is discarded first. */
    default void closeByServer(int reasonCode, String why, boolean publishWill) {
        closeByServer(reasonCode, why);
    }

    /**
     * The session cannot be had now (its node in the cluster did not hand it over, or a later CONNECT of the client
     * elsewhere won): CONNACK 0x88 Server unavailable (3.x: 0x03), then close. Connection's loop.
     */
    void refuseSession(String why);

    /** As {@link #closeByServer(int, String)}, telling MQTT 5 clients where to go (0x9C, 0x9D). */
    default void closeByServer(int reasonCode, String why, String serverReference) {
        closeByServer(reasonCode, why);
    }

    /** The connection as listings show it. */
    ConnectionInfo info();
}
