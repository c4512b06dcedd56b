package io.ternmq.broker.protocol;

import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.codec.MqttPacketEncoder;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Publish;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PUBLISH a delivery becomes for one client: never a topic the client may not read, MQTT 5 properties for this
 * receiver (the lifetime left, its subscription identifiers, a topic alias of its own), and never above the client's
 * Maximum Packet Size. One per connected client.
 */
final class OutboundPublishFlow {
    private static final Logger LOG = LoggerFactory.getLogger(OutboundPublishFlow.class);

    private final MqttConnection c;
    /** Null unless the client announced a Topic Alias Maximum. */
    private final OutboundTopicAliases aliases;

    OutboundPublishFlow(MqttConnection connection, int clientTopicAliasMaximum) {
        this.c = connection;
        this.aliases = clientTopicAliasMaximum > 0 ? new OutboundTopicAliases(clientTopicAliasMaximum) : null;
    }

    /** @return false if the message was dropped for this client instead (not authorized, or too large) */
    boolean send(int packetId, Delivery d, boolean dup) {
        Message m = d.message();
        String topic = m.topic();
        if (!c.broker.authorizer().mayReceive(c.identity, topic)) {
            // a wide subscription never delivers a topic this client may not read; dropped as if delivered
            c.broker.metrics().deliveriesDenied.increment();
            return false;
        }
        MqttProperties props = MqttProperties.EMPTY;
        if (c.dialect.isV5()) {
            props = m.properties();
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
        c.broker.metrics().publishesSent.increment();
        return true;
    }
}
