package io.ternmq.broker.protocol;

import io.netty.util.concurrent.EventExecutor;
import io.ternmq.broker.security.CertificateInfo;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttVersion;

/**
 * The network side of one client as the protocol logic sees it: the thin adapter over a Netty channel lives in
 * {@code transport}. All calls come from {@link #executor()}.
 */
public interface ClientChannel {

    /** The event loop that owns this connection; every protocol callback runs on it. */
    EventExecutor executor();

    /** Queues a packet for writing; nothing reaches the socket before {@link #flush()}. */
    void write(MqttPacket packet);

    void flush();

    /**
     * Flushes what was written, then closes; a client still sending reads it first. The connection hears of it in
     * {@link MqttConnection#onClosed}, in a task of its own.
     */
    void close();

    /** Switches the codec to the version the client's CONNECT asked for. */
    void setProtocolVersion(MqttVersion version);

    /**
     * Pauses or resumes the broker's reading from the socket: while a session is being attached, while a packet waits
     * for an answer, while the client is held back.
     */
    void setAutoRead(boolean autoRead);

    /** For logs: "address:port" of the peer. */
    String remoteAddress();

    /** The client's verified TLS certificate, or null (plain TCP, or no certificate presented). */
    default CertificateInfo certificate() {
        return null;
    }

    /** The listener the client came through ("address:port" as configured), for {@code ClientIdentity.listener}. */
    default String listenerName() {
        return null;
    }

    /** How the client reaches the listener, as the admin API names it: {@code tcp}, {@code tls}, {@code ws}, {@code wss}. */
    default String transport() {
        return "tcp";
    }

    /**
     * Which proxy header named the client's address ({@code proxy_protocol}, {@code x_forwarded_for},
     * {@code forwarded}), or null: the socket's peer is the client.
     */
    default String addressVia() {
        return null;
    }

    /** MQTT bytes read from this connection so far (inside TLS and WebSocket framing). */
    default long bytesReceived() {
        return 0;
    }

    /** MQTT bytes written to this connection so far. */
    default long bytesSent() {
        return 0;
    }

    /** PUBLISH packets read from this connection so far. */
    default long messagesReceived() {
        return 0;
    }

    /** PUBLISH packets written to this connection so far. */
    default long messagesSent() {
        return 0;
    }

    /** Bytes waiting to be written to the socket (above the low water mark); for telling a slow reader from a stuck one. */
    default long unwrittenBytes() {
        return 0;
    }

    /**
     * Whether the connection takes more writes without queueing past its write buffer's high water mark. A session
     * may hold back queued QoS 1/2 messages while this is false; the transport drops QoS 0 messages and disconnects
     * clients that stay unwritable per max_outbound_buffer, slow_consumer_policy and slow_consumer_timeout.
     */
    default boolean isWritable() {
        return true;
    }
}
