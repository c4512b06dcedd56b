package io.ternmq.broker.bridge;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.ternmq.broker.config.BridgeSettings;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.metrics.RateLimitedLog;
import io.ternmq.broker.routing.Router;
import io.ternmq.broker.service.BrokerService;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Pubcomp;
import io.ternmq.codec.Publish;
import io.ternmq.codec.Pubrec;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.Set;

/**
 * The incoming side of a bridge: what the remote broker sends is remapped, counted one crossing more (MQTT 5),
 * checked against {@code local_username}'s rules and routed here as the bridge's session published it, then
 * acknowledged to the remote broker once stored here. Event loop.
 */
final class IncomingPublishes {
    private static final Logger LOG = LoggerFactory.getLogger(IncomingPublishes.class);
    private static final RateLimitedLog DENY_LOG = new RateLimitedLog(LOG, 10_000);

    private final BridgeSettings settings;
    private final BrokerService service;
    private final BrokerMetrics metrics;
    private final EventLoop loop;
    private final BridgeAccess access;
    private final BridgeTopicTable topics;
    /** Inbound QoS 2 ids routed and waiting for PUBREL. */
    private final Set<Integer> awaitingPubrel = new HashSet<>();

    IncomingPublishes(BridgeSettings settings, BrokerService service, BrokerMetrics metrics, EventLoop loop,
                      BridgeAccess access, BridgeTopicTable topics) {
        this.settings = settings;
        this.service = service;
        this.metrics = metrics;
        this.loop = loop;
        this.access = access;
        this.topics = topics;
    }

    /** A new connection to the remote broker: QoS 2 ids are the connection's. */
    void connectionStarted() {
        awaitingPubrel.clear();
    }

    /** A PUBLISH from the remote broker: remapped, then routed here as the bridge's session published it. */
    void publish(Channel channel, Publish p, boolean v5) {
        if (p.qos() == QoS.EXACTLY_ONCE && !awaitingPubrel.add(p.packetId())) {
            channel.writeAndFlush(new Pubrec(p.packetId(), ReasonCode.SUCCESS, MqttProperties.EMPTY));
            return; // a resend of one routed already
        }
        String topic = topics.toLocal(p.topic());
        MqttProperties props = p.properties();
        if (props.subscriptionIdentifierCount() > 0 || props.contains(PropertyId.TOPIC_ALIAS)) {
            props = props.toBuilder().clearSubscriptionIdentifiers().set(PropertyId.TOPIC_ALIAS, null).build();
        }
        if (v5) {
            // brought in by this bridge: one crossing more (a message the remote pushed was counted there)
            int hops = BridgeHops.of(props) + 1;
            if (hops > settings.hopLimit()) {
                BridgeHops.limitReached(metrics, settings, p.topic(), hops - 1);
                acknowledge(channel, p.qos(), p.packetId());
                return;
            }
            props = BridgeHops.with(props, hops);
        }
        if (!access.mayPublish(topic)) {
            metrics.publishesDenied.increment();
            DENY_LOG.warn("Bridge {}: local_username '{}' may not publish to '{}': dropped", settings.name(),
                    settings.localUsername(), topic);
            acknowledge(channel, p.qos(), p.packetId());
            return;
        }
        Message m = new Message(topic, p.qos(), p.retain(), p.payload(), props, settings.localClientId(),
                System.currentTimeMillis());
        int id = p.packetId();
        QoS qos = p.qos();
        service.publish(m, new Router.Origin(null, 0, loop), (matched, quotaExceeded) ->
                acknowledge(channel, qos, id));
    }

    /** A PUBREL from the remote broker: the QoS 2 message is done. */
    void release(Channel channel, int packetId) {
        awaitingPubrel.remove(packetId);
        channel.writeAndFlush(new Pubcomp(packetId, ReasonCode.SUCCESS, MqttProperties.EMPTY));
    }

    private static void acknowledge(Channel channel, QoS qos, int id) {
        if (qos == QoS.AT_LEAST_ONCE) {
            channel.writeAndFlush(new Puback(id, ReasonCode.SUCCESS, MqttProperties.EMPTY));
        } else if (qos == QoS.EXACTLY_ONCE) {
            channel.writeAndFlush(new Pubrec(id, ReasonCode.SUCCESS, MqttProperties.EMPTY));
        }
    }
}
