package io.ternmq.broker.protocol;

import io.ternmq.broker.config.QueueSettings.V3OverflowAction;
import io.ternmq.broker.extension.ClientDescription;
import io.ternmq.broker.extension.InterceptorChain;
import io.ternmq.broker.extension.PublishDecision;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.metrics.RateLimitedLog;
import io.ternmq.broker.routing.DeliveryTarget;
import io.ternmq.broker.routing.Router;
import io.ternmq.broker.routing.TopicRewrites;
import io.ternmq.broker.service.DelayedPublishes;
import io.ternmq.broker.sparkplug.SparkplugTopics;
import io.ternmq.broker.session.Session;
import io.ternmq.broker.session.DeadNodeInbound;
import io.ternmq.broker.trace.Trace;
import io.ternmq.broker.trace.Traces;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Pubcomp;
import io.ternmq.codec.Pubrec;
import io.ternmq.codec.Pubrel;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.TopicSyntax;
import io.ternmq.codec.Utf8;
import org.slf4j.Logger;
import io.ternmq.extension.api.PublishInboundInterceptor;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A client's PUBLISHes: the rules a PUBLISH must meet (maximum QoS, retain, topic alias, topic limits, Receive
 * Maximum, payload format, authorization), the pace the broker reads them at (max_publish_rate, backpressure from
 * slow subscribers) and the acknowledgement each gets, PUBREL's PUBCOMP included. The message itself goes to the broker service. A new rule for
 * inbound PUBLISH goes in {@link #onPublish}. Created on a connection's first PUBLISH; its state (topic aliases, the
 * rate bucket, QoS 1 messages awaiting the store) is this connection's, on its loop.
 */
final class InboundPublishFlow {
    /** Where bridges publish their state (Mosquitto's notification topics): the one part of $SYS clients write. */
    static final String BRIDGE_STATE_PREFIX = "$SYS/broker/connection/";

    private static final Logger LOG = LoggerFactory.getLogger(InboundPublishFlow.class);
    private static final RateLimitedLog DENIED_LOG = new RateLimitedLog(LOG, 10_000);
    private static final RateLimitedLog DELAYED_LOG = new RateLimitedLog(LOG, 10_000);

    private final MqttConnection c;
    /** Null until the client sets an alias. */
    private InboundTopicAliases aliases;
    /** Only with max_publish_rate. */
    private PublishRateLimit rate;
    /** QoS 1 PUBLISHes routed but not yet acknowledged (waiting for the store): they count against Receive Maximum. */
    private int pendingQos1Acks;
    /** The PublishInbound decision being made asynchronously, if any (the client's later packets wait for it). */
    private CompletableFuture<PublishDecision> pendingDecision;
    /**
     * The asynchronous case's continuation, made at the first intercepted PUBLISH and kept: no allocation per PUBLISH,
     * and none for a connection of a broker without extensions.
     */
    private Consumer<PublishDecision> decidedLater;

    /** How extensions see the publisher; made at its first intercepted PUBLISH, remade if its identity changed. */
    private ClientDescription publisher;

    InboundPublishFlow(MqttConnection connection) {
        this.c = connection;
    }

    void onPublish(Publish p) {
        c.broker.metrics().publishesReceived.increment(p.qos().value());
        c.broker.metrics().publishBytesReceived.add(p.payload().length);
        if (c.config().mqtt().maxPublishRate() > 0) {
            throttle();
        }
        if (p.qos().value() > c.config().mqtt().maxQos()) {
            c.protocolViolation(ReasonCode.QOS_NOT_SUPPORTED, "PUBLISH at QoS " + p.qos().value() + " above max_qos "
                    + c.config().mqtt().maxQos() + " [MQTT-3.2.2-11]");
            return;
        }
        if (p.retain() && !c.config().mqtt().retainAvailable()) {
            c.protocolViolation(ReasonCode.RETAIN_NOT_SUPPORTED, "retained PUBLISH while retain_available is false "
                    + "[MQTT-3.2.2-14]");
            return;
        }
        String topic = p.topic();
        MqttProperties props = p.properties();
        boolean v5 = c.dialect().isV5();
        if (v5 && !props.isEmpty()) {
            if (props.contains(PropertyId.SUBSCRIPTION_IDENTIFIER)) {
                c.protocolViolation(ReasonCode.PROTOCOL_ERROR, "PUBLISH from a client with a Subscription "
                        + "Identifier [MQTT-3.3.4-6]");
                return;
            }
            Integer alias = props.getInt(PropertyId.TOPIC_ALIAS);
            if (alias != null) {
                topic = resolveAlias(alias, topic);
                if (topic == null) {
                    return;
                }
            }
        } else if (v5 && topic.isEmpty()) {
            c.protocolViolation(ReasonCode.PROTOCOL_ERROR, "PUBLISH with an empty topic and no Topic Alias "
                    + "[MQTT-3.3.2-8]");
            return;
        }
        if (c.beyondTopicLimits(topic)) {
            c.endConnection(ReasonCode.TOPIC_NAME_INVALID, "topic longer than max_topic_length ("
                    + c.config().mqtt().maxTopicLength() + " bytes) or deeper than max_topic_levels ("
                    + c.config().mqtt().maxTopicLevels() + ")");
            return;
        }
        Trace[] traced = c.broker.service().traces().active();
        if (traced.length != 0) {
            Traces.publish(traced, true, c.clientId, c.channel.remoteAddress(), topic,
                    p.qos().value(), p.retain(), p.payload());
        }
        Session session = c.session;
        if (p.qos() != QoS.AT_MOST_ONCE && v5
                && pendingQos1Acks + session.awaitingPubrelCount() >= c.config().mqtt().receiveMaximum()
                && !(p.qos() == QoS.EXACTLY_ONCE && session.isAwaitingPubrel(p.packetId()))) {
            c.protocolViolation(ReasonCode.RECEIVE_MAXIMUM_EXCEEDED, "more than Receive Maximum ("
                    + c.config().mqtt().receiveMaximum() + ") QoS 1/2 PUBLISHes unacknowledged [MQTT-3.3.4-9]");
            return;
        }
        if (v5 && isUtf8Payload(props) && !Utf8.isWellFormed(p.payload())) {
            String why = "payload is not UTF-8 but its Payload Format Indicator says it is";
            switch (p.qos()) {
                case AT_MOST_ONCE -> c.protocolViolation(ReasonCode.PAYLOAD_FORMAT_INVALID, why);
                case AT_LEAST_ONCE -> c.send(new Puback(p.packetId(), ReasonCode.PAYLOAD_FORMAT_INVALID,
                        c.problem(why)));
                case EXACTLY_ONCE -> c.send(new Pubrec(p.packetId(), ReasonCode.PAYLOAD_FORMAT_INVALID,
                        c.problem(why)));
            }
            c.requestFlush();
            return;
        }
        // topic_rewrite and $delayed/: what the message becomes; authorization is on the topic the client sent
        // (for $delayed/<seconds>/<topic>, on <topic>)
        String sent = topic;
        TopicRewrites rewrites = c.broker.service().publishRewrites();
        if (rewrites != null) {
            topic = rewrites.rewriteTopic(topic);
            if (!topic.equals(sent) && (!TopicSyntax.isValidTopicName(topic) || c.beyondTopicLimits(topic))) {
                refuseDelivery(p, ReasonCode.TOPIC_NAME_INVALID, c.problem("topic_rewrite made '" + topic
                        + "' of '" + sent + "', which is not a valid topic name within the topic limits"));
                return;
            }
        }
        long delaySeconds = -1;
        DelayedPublishes delayed = c.broker.service().delayed();
        String authorized = sent;
        if (delayed != null && topic.startsWith(DelayedPublishes.PREFIX)) {
            DelayedPublishes.Target target = DelayedPublishes.parse(topic);
            if (target == null) {
                c.broker.metrics().delayedRefused.increment();
                DELAYED_LOG.warn("Client '{}' published to '{}': not $delayed/<seconds 0..{}>/<topic>; refused",
                        c.clientId, topic, DelayedPublishes.MAX_DELAY_SECONDS);
                refuseDelivery(p, ReasonCode.TOPIC_NAME_INVALID, c.problem("'" + topic + "' is not $delayed/"
                        + "<seconds 0.." + DelayedPublishes.MAX_DELAY_SECONDS + ">/<topic>"));
                return;
            }
            delaySeconds = target.delaySeconds();
            topic = target.topic();
            if (sent.startsWith(DelayedPublishes.PREFIX)) {
                DelayedPublishes.Target asSent = DelayedPublishes.parse(sent);
                authorized = asSent == null ? topic : asSent.topic();
            }
        }
        if (isSys(sent) || isSys(topic)) {
            // the broker's own tree: whatever an ACL or plugin says, no client writes it; but bridges from other
            // brokers report their state under $SYS/broker/connection/ (Mosquitto's notifications), as there
            deny(p, topic);
            return;
        }
        if (c.broker.service().sparkplugAware()
                && (SparkplugTopics.isReserved(sent) || SparkplugTopics.isReserved(topic))) {
            c.broker.metrics().sparkplugPublishesDenied.increment();
            deny(p, topic); // $sparkplug/certificates/ is the broker's to write (sparkplug_aware)
            return;
        }
        String resolved = topic;
        long delay = delaySeconds;
        String asked = authorized;
        c.whenAnswered(c.broker.authorizer().mayPublish(c, asked), false, allowed -> {
            if (!allowed) {
                deny(p, asked);
                return;
            }
            InterceptorChain<PublishInboundInterceptor, PublishDecision> extensions =
                    c.broker.service().interceptors().publishInbound;
            if (extensions == null) {
                route(p, message(p, resolved, props), delay);
            } else {
                intercept(extensions, p, resolved, props, delay);
            }
        });
    }

    private static boolean isSys(String topic) {
        return (topic.equals("$SYS") || topic.startsWith("$SYS/")) && !topic.startsWith(BRIDGE_STATE_PREFIX);
    }

    /**
     * Runs the extensions' PublishInbound interceptors over the PUBLISH. If one decides asynchronously, the client's
     * later packets wait (as for an authorization answer) so that they keep their order; so at most one decision per
     * connection is pending.
     */
    private void intercept(InterceptorChain<PublishInboundInterceptor, PublishDecision> extensions, Publish p,
                           String topic, MqttProperties props, long delaySeconds) {
        Consumer<PublishDecision> later = decidedLater;
        if (later == null) {
            later = this::decidedLater;
            decidedLater = later;
        }
        PublishDecision now = extensions.runNow(new PublishDecision(publisher(), topic, p.payload(),
                p.qos().value(), p.retain(), forwarded(props), c.loop()), later);
        if (now != null) {
            decided(p, topic, now, delaySeconds);
            return;
        }
        CompletableFuture<PublishDecision> pending = new CompletableFuture<>();
        pendingDecision = pending;
        c.whenAnswered(pending, null, d -> decided(p, topic, d, delaySeconds));
    }

    /** An asynchronous decision is complete (on the loop). */
    private ClientDescription publisher() {
        ClientDescription d = publisher;
        if (d == null || !d.clientId().equals(c.clientId) || !java.util.Objects.equals(d.username(), c.username)) {
            d = c.clientInfo();
            publisher = d;
        }
        return d;
    }

    private void decidedLater(PublishDecision d) {
        CompletableFuture<PublishDecision> pending = pendingDecision;
        pendingDecision = null;
        pending.complete(d);
    }

    private void decided(Publish p, String topic, PublishDecision d, long delaySeconds) {
        if (d.refused()) {
            c.broker.metrics().publishesPreventedByExtensions.increment();
            refuseDelivery(p, d.refusalCode(), d.refusalReason() == null ? MqttProperties.EMPTY
                    : c.problem(d.refusalReason()));
            return;
        }
        String to = d.topic();
        if (!to.equals(topic) && (!TopicSyntax.isValidTopicName(to) || c.beyondTopicLimits(to))) {
            c.broker.metrics().publishesPreventedByExtensions.increment();
            refuseDelivery(p, ReasonCode.TOPIC_NAME_INVALID, c.problem("an extension set the topic '" + to
                    + "', which is not a valid topic name within max_topic_length and max_topic_levels"));
            return;
        }
        QoS qos = QoS.of(Math.min(d.qos(), c.config().mqtt().maxQos()));
        boolean retain = d.retain() && c.config().mqtt().retainAvailable();
        route(p, new Message(to, qos, retain, d.payloadBytes(), d.properties(), c.clientId,
                System.currentTimeMillis()), delaySeconds);
    }

    /** PUBREL: the PUBCOMP waits until the id is forgotten durably, or a crash could drop a new message reusing it. */
    void onPubrel(Pubrel pubrel) {
        int id = pubrel.packetId();
        ResponseQueue.Response r = c.reserveResponse();
        c.broker.service().release(c.session, id, known -> c.complete(r, new Pubcomp(id, known
                ? ReasonCode.SUCCESS : c.dialect().unknownPacketId(), MqttProperties.EMPTY), null));
    }

    /** @return the topic the alias stands for (setting it if the PUBLISH names one), or null after disconnecting */
    private String resolveAlias(int alias, String topic) {
        int maximum = c.config().mqtt().maxTopicAlias();
        if (alias < 1 || alias > maximum) {
            c.protocolViolation(ReasonCode.TOPIC_ALIAS_INVALID, "Topic Alias " + alias + " is 0 or above the maximum "
                    + maximum + " [MQTT-3.3.2-9][MQTT-3.3.2-10]");
            return null;
        }
        if (aliases == null) {
            aliases = new InboundTopicAliases(maximum);
        }
        if (!topic.isEmpty()) {
            aliases.set(alias, topic);
            return topic;
        }
        String known = aliases.get(alias);
        if (known == null) {
            c.protocolViolation(ReasonCode.PROTOCOL_ERROR, "Topic Alias " + alias + " was never set on this "
                    + "connection");
        }
        return known;
    }

    /**
     * A publication the client may not make. MQTT 5: PUBACK/PUBREC 0x87 (QoS 1/2), dropped (QoS 0). MQTT 3.x has no
     * negative acknowledgement: acknowledged as its QoS requires and discarded, the standard's alternative to closing
     * the connection [MQTT-3.3.5-2].
     */
    private void deny(Publish p, String topic) {
        c.broker.metrics().publishesDenied.increment();
        DENIED_LOG.warn("Client '{}' may not publish to '{}': discarded", c.clientId, topic);
        refuseDelivery(p, ReasonCode.NOT_AUTHORIZED, MqttProperties.EMPTY);
    }

    /**
     * Discards a PUBLISH: MQTT 5 clients get {@code v5Code} in PUBACK/PUBREC (nothing at QoS 0); MQTT 3.x clients
     * are acknowledged as their QoS requires.
     */
    private void refuseDelivery(Publish p, int v5Code, MqttProperties ackProperties) {
        int code = c.dialect().publishAck(v5Code);
        MqttProperties props = c.dialect().isV5() ? ackProperties : MqttProperties.EMPTY;
        switch (p.qos()) {
            case AT_MOST_ONCE -> {
            }
            case AT_LEAST_ONCE -> c.complete(c.reserveResponse(), new Puback(p.packetId(), code, props), null);
            case EXACTLY_ONCE -> {
                if (!c.dialect().isV5()) {
                    c.session.markAwaitingPubrel(p.packetId()); // its PUBREL must still find the flow
                }
                c.complete(c.reserveResponse(), new Pubrec(p.packetId(), code, props), null);
            }
        }
    }

    /** @param delaySeconds for a {@code $delayed/} PUBLISH, its delay; else -1 */
    private void route(Publish p, Message message, long delaySeconds) {
        if (delaySeconds >= 0) {
            storeDelayed(p, message, delaySeconds);
            return;
        }
        DeliveryTarget congested = null;
        Session session = c.session;
        switch (p.qos()) {
            case AT_MOST_ONCE -> congested = c.broker.service().publish(message, null, null);
            case AT_LEAST_ONCE -> {
                int id = p.packetId();
                ResponseQueue.Response r = c.reserveResponse();
                pendingQos1Acks++;
                congested = c.broker.service().publish(message,
                        new Router.Origin(session.storedQueue(), 0, c.loop()), (matched, quotaExceeded) -> {
                            pendingQos1Acks--;
                            acknowledge(r, quotaExceeded, new Puback(id, ackCode(matched, quotaExceeded),
                                    MqttProperties.EMPTY));
                        });
            }
            case EXACTLY_ONCE -> {
                int id = p.packetId();
                ResponseQueue.Response r = c.reserveResponse();
                // a resent PUBLISH whose id still awaits PUBREL was routed already: acknowledge only
                if (!session.markAwaitingPubrel(id)) {
                    DeadNodeInbound dead = session.takeDeadNodeInbound(id);
                    if (dead == null) {
                        c.complete(r, new Pubrec(id, ReasonCode.SUCCESS, MqttProperties.EMPTY), null);
                        return;
                    }
                    // routed on a node that died since, maybe not to every node: to those that lack it
                    congested = c.broker.service().publishResent(message.createdAt(dead.createdAtMillis()), id,
                            dead.deadNode(), new Router.Origin(null, 0, c.loop()), (matched, quotaExceeded) ->
                                    c.complete(r, new Pubrec(id, ReasonCode.SUCCESS, MqttProperties.EMPTY), null));
                    if (congested != null) {
                        backOff(congested);
                    }
                    return;
                }
                congested = c.broker.service().publish(message,
                        new Router.Origin(session.storedQueue(), id, c.loop()), (matched, quotaExceeded) -> acknowledge(r,
                                quotaExceeded, new Pubrec(id, ackCode(matched, quotaExceeded), MqttProperties.EMPTY)));
            }
        }
        if (congested != null) {
            backOff(congested);
        }
    }

    /**
     * {@code $delayed/<seconds>/<topic>}: stored now, published when due. QoS 1/2 are acknowledged once the message
     * is durable; a full store ({@code max_delayed_messages}) refuses it with 0x97 (MQTT 5).
     */
    private void storeDelayed(Publish p, Message message, long delaySeconds) {
        DelayedPublishes delayed = c.broker.service().delayed();
        if (p.qos() == QoS.EXACTLY_ONCE && c.session.isAwaitingPubrel(p.packetId())) {
            // a resent PUBLISH whose id still awaits PUBREL was stored already: acknowledge only
            c.complete(c.reserveResponse(), new Pubrec(p.packetId(), ReasonCode.SUCCESS, MqttProperties.EMPTY),
                    null);
            return;
        }
        if (!delayed.reserve()) {
            c.broker.metrics().delayedRefused.increment();
            DELAYED_LOG.warn("Client '{}' published to $delayed/ while max_delayed_messages wait; refused",
                    c.clientId);
            refuseDelivery(p, ReasonCode.QUOTA_EXCEEDED, c.problem("max_delayed_messages wait already"));
            return;
        }
        long due = message.createdAtMillis() + delaySeconds * 1000;
        int id = p.packetId();
        switch (p.qos()) {
            case AT_MOST_ONCE -> delayed.store(message, due, null, 0, c.loop(), null);
            case AT_LEAST_ONCE -> {
                ResponseQueue.Response r = c.reserveResponse();
                pendingQos1Acks++;
                delayed.store(message, due, null, 0, c.loop(), () -> {
                    pendingQos1Acks--;
                    c.complete(r, new Puback(id, ReasonCode.SUCCESS, MqttProperties.EMPTY), null);
                });
            }
            case EXACTLY_ONCE -> {
                ResponseQueue.Response r = c.reserveResponse();
                c.session.markAwaitingPubrel(id);
                delayed.store(message, due, c.session.storedQueue(), id, c.loop(),
                        () -> c.complete(r, new Pubrec(id, ReasonCode.SUCCESS, MqttProperties.EMPTY), null));
            }
        }
    }

    /**
     * A subscriber of this message is falling behind but consuming: stop reading from this publisher for a moment
     * (its later packets wait, in order) instead of queueing more than the subscriber can take and dropping it.
     */
    private void backOff(DeliveryTarget slow) {
        if (c.inputPaused()) {
            return;
        }
        c.pauseInput();
        c.broker.metrics().publishesBackpressured.increment();
        c.loop().schedule(() -> resumeWhenCaughtUp(slow), 1, TimeUnit.MILLISECONDS);
    }

    /** Resumes reading once the slow subscriber caught up (or stopped consuming, which holds nobody back). */
    private void resumeWhenCaughtUp(DeliveryTarget slow) {
        if (!c.isConnected()) {
            return;
        }
        if (slow.wantsBackpressure()) {
            c.loop().schedule(() -> resumeWhenCaughtUp(slow), 1, TimeUnit.MILLISECONDS);
            return;
        }
        c.resumeInput();
    }

    /**
     * {@code max_publish_rate}: a client that goes over it is not read from until its budget has refilled, so it
     * slows down instead of crowding out others.
     */
    private void throttle() {
        if (rate == null) {
            rate = new PublishRateLimit(c.config().mqtt().maxPublishRate(), System.nanoTime());
        }
        long waitNanos = rate.take(System.nanoTime());
        if (waitNanos > 0 && !c.inputPaused()) {
            c.pauseInput();
            c.broker.metrics().publishesThrottled.increment();
            c.loop().schedule(() -> {
                if (c.isConnected()) {
                    c.resumeInput();
                }
            }, Math.max(waitNanos, 1_000_000), TimeUnit.NANOSECONDS);
        }
    }

    /**
     * Sends a PUBACK/PUBREC in order. A message that every subscriber's queue refused is a quota problem: MQTT 5 says
     * so with 0x97; MQTT 3.x has no negative acknowledgement, so by {@code queue_overflow_v3_action} the publisher
     * is either acknowledged (the drop is counted) or disconnected.
     */
    private void acknowledge(ResponseQueue.Response r, boolean quotaExceeded, MqttPacket ack) {
        if (quotaExceeded && !c.dialect().isV5()
                && c.config().queues().overflowV3Action() == V3OverflowAction.DISCONNECT) {
            c.endConnection(ReasonCode.QUOTA_EXCEEDED,
                    "subscribers' queues are full (queue_overflow_v3_action disconnect)");
            return;
        }
        c.complete(r, ack, null);
    }

    /** MQTT 5 acknowledgements say when nobody was subscribed (0x10) or every queue was full (0x97). */
    private int ackCode(int matched, boolean quotaExceeded) {
        if (quotaExceeded) {
            return c.dialect().publishAck(ReasonCode.QUOTA_EXCEEDED);
        }
        return c.dialect().publishAck(matched == 0 ? ReasonCode.NO_MATCHING_SUBSCRIBERS : ReasonCode.SUCCESS);
    }

    private Message message(Publish p, String topic, MqttProperties props) {
        return new Message(topic, p.qos(), p.retain(), p.payload(), forwarded(props), c.clientId,
                System.currentTimeMillis());
    }

    /** Whether a topic name or filter is longer or deeper than max_topic_length and max_topic_levels allow. */
    static boolean beyondTopicLimits(io.ternmq.broker.config.BrokerConfig config, String topic) {
        int levels = 1;
        for (int i = 0; i < topic.length(); i++) {
            if (topic.charAt(i) == '/') {
                levels++;
            }
        }
        if (levels > config.mqtt().maxTopicLevels()) {
            return true;
        }
        return topic.length() > config.mqtt().maxTopicLength() / 3
                && topic.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > config.mqtt().maxTopicLength();
    }

    static boolean isUtf8Payload(MqttProperties props) {
        Integer pfi = props.isEmpty() ? null : props.getInt(PropertyId.PAYLOAD_FORMAT_INDICATOR);
        return pfi != null && pfi == 1;
    }

    /** Properties that travel on with the message: everything but those that only concern this hop. */
    private static MqttProperties forwarded(MqttProperties props) {
        if (props.isEmpty() || !props.contains(PropertyId.TOPIC_ALIAS)) {
            return props;
        }
        return props.toBuilder().set(PropertyId.TOPIC_ALIAS, null).build();
    }
}
