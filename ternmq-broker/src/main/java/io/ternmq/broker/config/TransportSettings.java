package io.ternmq.broker.config;

import java.util.List;

/**
 * The network side: listeners, the event loops serving them, and the bounds on a connection that is slow to
 * connect or to read what it is sent.
 *
 * @param listeners                  the listeners, in configuration order; never empty
 * @param listenersConfigured        whether they were given explicitly (by {@code listener} lines or
 *                                   {@link BrokerConfig.Builder#listener}) rather than being the loopback-only
 *                                   default; decides {@link BrokerConfig#allowAnonymous} for listeners that do not say
 * @param ioThreads                  I/O event loops (threads serving connections); 0: one per core but one, at least
 *                                   one
 * @param connectTimeoutSeconds      time allowed from TCP accept to a successful CONNECT, TLS handshake and
 *                                   authentication included
 * @param maxOutboundBuffer          bytes that may wait to be written to one connection; beyond it, a PUBLISH to that
 *                                   client is handled per {@code slowConsumerPolicy}
 * @param slowConsumerPolicy         what a PUBLISH to a client past {@code maxOutboundBuffer} does
 * @param slowConsumerTimeoutSeconds a connection that cannot be written to (a full socket buffer and more waiting)
 *                                   this long is closed; 0: never
 */
public record TransportSettings(List<ListenerConfig> listeners, boolean listenersConfigured, int ioThreads,
                                int connectTimeoutSeconds, int maxOutboundBuffer,
                                SlowConsumerPolicy slowConsumerPolicy, int slowConsumerTimeoutSeconds) {

    public TransportSettings {
        listeners = List.copyOf(listeners);
    }

    /** {@code slow_consumer_policy}. */
    public enum SlowConsumerPolicy {
        /** QoS 0 PUBLISHes are dropped (counted); QoS 1 and 2 are bounded by the in-flight window. */
        DROP_QOS0,
        /** The client is disconnected (any PUBLISH). */
        DISCONNECT
    }
}
