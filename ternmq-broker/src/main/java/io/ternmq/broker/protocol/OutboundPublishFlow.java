package io.ternmq.broker.protocol;

import io.ternmq.broker.extension.Interceptors;
import io.ternmq.broker.extension.OutboundDecision;
import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.trace.Trace;
import io.ternmq.broker.trace.Traces;
import io.ternmq.codec.MqttPacketEncoder;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Publish;
import io.ternmq.codec.Pubrec;
import io.ternmq.codec.Pubrel;
import io.ternmq.codec.ReasonCode;
import io.ternmq.extension.api.PublishOutboundInterceptor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PUBLISH a delivery becomes for one client: never a topic the client may not read, MQTT 5 properties for this
 * receiver (the lifetime left, its subscription identifiers, a topic alias of its own), and never above the client's
 * Maximum Packet Size; the PUBREC of an outbound QoS 2 message; and whether the client keeps up with what is written
 * to it. One per connected client.
 */
final class OutboundPublishFlow {
    private static final Logger LOG = LoggerFactory.getLogger(OutboundPublishFlow.class);

    private final MqttConnection c;
    /** Null unless the client announced a Topic Alias Maximum. */
    private final OutboundTopicAliases aliases;
    /** When the socket last changed writability or was seen draining while backed up; read from any thread. */
    private volatile long drainedNanos = System.nanoTime();
    private volatile int lastUnwritten;

    OutboundPublishFlow(MqttConnection connection, int clientTopicAliasMaximum) {
        this.c = connection;
        this.aliases = clientTopicAliasMaximum > 0 ? new OutboundTopicAliases(clientTopicAliasMaximum) : null;
    }

    /**
     * PUBREC of an outbound QoS 2 message. An MQTT 5 PUBREC with an error code ends the flow (no PUBREL follows); an
     * unknown id is answered anyway, so the client can finish its side; the session answers known ones itself, once
     * their new state is stored.
     */
    void onPubrec(Pubrec pubrec) {
        int id = pubrec.packetId();
        if (c.dialect().isV5() && ReasonCode.isError(pubrec.reasonCode())) {
            c.session.onPubrecError(id);
            return;
        }
        if (!c.session.onPubrec(id)) {
            c.send(new Pubrel(id, c.dialect().unknownPacketId(), MqttProperties.EMPTY));
            c.requestFlush();
        }
    }

    /**
     * The socket's write buffer crossed a water mark. Either way the clock of "not draining" restarts: becoming
     * unwritable starts a backed-up period, becoming writable ends one.
     */
    void writabilityChanged() {
        drainedNanos = System.nanoTime();
    }

    /** Whether the client takes what is written to it: its socket is not backed up, or drained lately. */
    boolean clientConsuming() {
        return c.channel.isWritable() || socketBackedUp();
    }

    /**
     * Whether the socket is backed up while the client keeps reading. Draining is progress: a client that reads,
     * however slowly, holds its publishers back; one that stopped reading altogether does not (the transport drops
     * its QoS 0 messages and disconnects it if it stays stuck). Safe from any thread.
     */
    boolean socketBackedUp() {
        if (c.channel.isWritable()) {
            return false;
        }
        long unwritten = c.channel.unwrittenBytes();
        long now = System.nanoTime();
        if (unwritten < lastUnwritten) {
            drainedNanos = now;
        }
        lastUnwritten = (int) Math.min(unwritten, Integer.MAX_VALUE);
        return now - drainedNanos < 2_000_000_000L;
    }

    /** @return false if the message was dropped for this client instead (not authorized, or too large) */
    boolean send(int packetId, Delivery d, boolean dup) {
        Message m = d.message();
        String topic = m.topic();
        io.ternmq.broker.bridge.BridgePeers peers = c.broker.service().bridgePeers();
        if (peers != null && peers.carriedByLink(c.clientId, m)) {
            // the remote broker's bridge (at any version) does not get what goes, or came, between the two brokers
            // over this broker's own bridge
            return false;
        }
        if (!c.broker.authorizer().mayReceive(c, topic)) {
            // a wide subscription never delivers a topic this client may not read; dropped as if delivered
            c.broker.metrics().deliveriesDenied.increment();
            return false;
        }
        MqttProperties props = MqttProperties.EMPTY;
        if (c.dialect().isV5()) {
            props = m.properties();
            if (!c.bridge && !props.isEmpty()) {
                // the origin id is for bridges (loop detection), not for clients
                props = io.ternmq.broker.bridge.BridgeOrigins.withoutOrigin(props);
            }
            if (m.expires() || d.subscriptionIds().length > 0) {
                MqttProperties.Builder b = props.toBuilder();
                if (m.expires()) {
                    // the lifetime left, not the one published [MQTT-3.3.2-6]
                    b.set(PropertyId.MESSAGE_EXPIRY_INTERVAL, m.remainingExpirySeconds(System.currentTimeMillis()));
                }
                for (int id : d.subscriptionIds()) {
                    b.subscriptionIdentifier(id);
                }
                props = b.build();
            }
        }
        Interceptors.Registered<PublishOutboundInterceptor>[] extensions =
                c.broker.service().interceptors().publishOutbound;
        if (extensions != null) {
            OutboundDecision od = new OutboundDecision(topic, m.payload(), d.qos().value(), props);
            c.broker.service().interceptors().outbound(c.clientId, od);
            if (od.skipped()) {
                c.broker.metrics().deliveriesSkippedByExtensions.increment();
                return false;
            }
            if (c.dialect().isV5()) {
                props = od.properties();
            }
        }
        int limit = c.clientMaximumPacketSize;
        Publish publish = new Publish(topic, d.qos(), d.retain(), dup, packetId, m.payload(), props);
        if (limit != MqttConnection.UNLIMITED && MqttPacketEncoder.encodedSize(publish, c.version) > limit) {
            // [MQTT-3.1.2-24]: never send a packet above the client's Maximum Packet Size; the message is dropped
            c.broker.metrics().oversizedDrops.increment();
            LOG.debug("Message on '{}' dropped for client '{}': larger than its Maximum Packet Size {}", topic,
                    c.clientId, limit);
            return false;
        }
        if (aliases != null) {
            int known = aliases.known(topic);
            int alias = known > 0 ? known : aliases.next(topic);
            MqttProperties withAlias = props.toBuilder().set(PropertyId.TOPIC_ALIAS, alias).build();
            Publish aliased = new Publish(known > 0 ? "" : topic, d.qos(), d.retain(), dup, packetId, m.payload(),
                    withAlias);
            // the alias must not push the packet past the client's limit: then it goes out without one
            if (limit == MqttConnection.UNLIMITED || MqttPacketEncoder.encodedSize(aliased, c.version) <= limit) {
                if (known == 0) {
                    aliases.assign(topic, alias);
                }
                publish = aliased;
            }
        }
        c.channel.write(publish);
        c.broker.metrics().publishesSent.increment(publish.qos().value());
        c.broker.metrics().publishBytesSent.add(publish.payload().length);
        c.broker.service().topicMetrics().sent(topic, publish.payload().length);
        Trace[] traced = c.broker.service().traces().active();
        if (traced.length != 0) {
            Traces.publish(traced, false, c.clientId, c.channel.remoteAddress(), topic,
                    publish.qos().value(), publish.retain(), publish.payload());
        }
        return true;
    }
}
