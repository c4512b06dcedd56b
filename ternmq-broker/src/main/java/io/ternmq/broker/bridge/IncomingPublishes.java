package io.ternmq.broker.bridge;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.ternmq.broker.config.BridgeSettings;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.metrics.RateLimitedLog;
import io.ternmq.broker.routing.Router;
import io.ternmq.broker.service.BrokerService;
import io.ternmq.broker.session.Session;
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

import java.util.HashMap;
import java.util.Map;

/**
 * The incoming side of a bridge: what the remote broker sends is remapped, counted one crossing more (MQTT 5),
 * checked against {@code local_username}'s rules and routed here as the bridge's session published it, then
 * acknowledged to the remote broker once stored here.
 *
 * <p>Exactly once from the remote broker holds across reconnects, as a client's persistent session keeps it: the id
 * of a QoS 2 message is kept by the bridge's session (stored with the message's routing, so it outlives a restart
 * too) until the remote's PUBREL, and a PUBLISH the remote resends with that id (DUP, after a reconnect) is answered
 * with PUBREC and not routed again. A CONNACK without Session Present discards those ids: the remote broker kept no
 * state and resends nothing [MQTT-3.2.2-5]. Event loop.
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
    private final BridgeSession session;
    /**
     * QoS 2 ids whose routing is not stored yet, and where their PUBREC goes then: the connection that brought the
     * message, or the one a resend came on meanwhile.
     */
    private final Map<Integer, Channel> storing = new HashMap<>();

    IncomingPublishes(BridgeSettings settings, BrokerService service, BrokerMetrics metrics, EventLoop loop,
                      BridgeAccess access, BridgeTopicTable topics, BridgeSession session) {
        this.session = session;
        this.settings = settings;
        this.service = service;
        this.metrics = metrics;
        this.loop = loop;
        this.access = access;
        this.topics = topics;
    }

    /**
     * The remote broker accepted a connection; without {@code sessionPresent} it has no state of the bridge's, so the
     * QoS 2 ids it had not released are forgotten here too [MQTT-3.2.2-5].
     */
    void remoteSession(boolean sessionPresent) {
        Session s = session.session();
        if (sessionPresent || s == null) {
            return;
        }
        for (int id : s.inboundQos2()) {
            storing.remove(id);
            service.release(s, id, known -> { });
        }
    }

    /** A PUBLISH from the remote broker: remapped, then routed here as the bridge's session published it. */
    void publish(Channel channel, Publish p, boolean v5) {
        Session s = session.session();
        if (p.qos() == QoS.EXACTLY_ONCE && s != null && s.isAwaitingPubrel(p.packetId())) {
            // a resend (after a reconnect, or a DUP) of one routed already: acknowledged, not routed again
            if (storing.containsKey(p.packetId())) {
                storing.put(p.packetId(), channel); // its PUBREC goes here once stored
            } else {
                channel.writeAndFlush(new Pubrec(p.packetId(), ReasonCode.SUCCESS, MqttProperties.EMPTY));
            }
            return;
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
        if (qos != QoS.EXACTLY_ONCE || s == null) {
            service.publish(m, new Router.Origin(null, 0, loop), (matched, quotaExceeded) ->
                    acknowledge(channel, qos, id));
            return;
        }
        s.markAwaitingPubrel(id);
        storing.put(id, channel);
        // the id is stored with the message: a resend finds it after a reconnect, and after a restart
        service.publish(m, new Router.Origin(s.storedQueue(), id, loop), (matched, quotaExceeded) -> {
            Channel answerOn = storing.remove(id);
            acknowledge(answerOn != null ? answerOn : channel, qos, id);
        });
    }

    /** A PUBREL from the remote broker: the QoS 2 message is done; PUBCOMP once that is stored. */
    void release(Channel channel, int packetId) {
        Session s = session.session();
        if (s == null) {
            channel.writeAndFlush(new Pubcomp(packetId, ReasonCode.SUCCESS, MqttProperties.EMPTY));
            return;
        }
        service.release(s, packetId, known ->
                channel.writeAndFlush(new Pubcomp(packetId, ReasonCode.SUCCESS, MqttProperties.EMPTY)));
    }

    static void acknowledge(Channel channel, QoS qos, int id) {
        if (qos == QoS.AT_LEAST_ONCE) {
            channel.writeAndFlush(new Puback(id, ReasonCode.SUCCESS, MqttProperties.EMPTY));
        } else if (qos == QoS.EXACTLY_ONCE) {
            channel.writeAndFlush(new Pubrec(id, ReasonCode.SUCCESS, MqttProperties.EMPTY));
        }
    }
}
