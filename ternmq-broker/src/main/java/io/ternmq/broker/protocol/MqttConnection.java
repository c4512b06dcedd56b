package io.ternmq.broker.protocol;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.session.Session;
import io.ternmq.broker.session.SessionConnection;
import io.ternmq.broker.session.Subscription;
import io.ternmq.broker.security.AuthRequest;
import io.ternmq.broker.security.AuthResult;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.DecodeFailure;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Pingresp;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Pubcomp;
import io.ternmq.codec.Publish;
import io.ternmq.codec.Pubrec;
import io.ternmq.codec.Pubrel;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import io.ternmq.codec.TopicSyntax;
import io.ternmq.codec.Unsuback;
import io.ternmq.codec.Unsubscribe;
import io.ternmq.codec.Will;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The MQTT protocol for one network connection: CONNECT and the session it attaches, then every packet the client
 * sends. Knows the network only through {@link ClientChannel}. Runs entirely on the connection's event loop, which
 * also owns the attached {@link Session}.
 */
public final class MqttConnection implements SessionConnection {
    private static final Logger LOG = LoggerFactory.getLogger(MqttConnection.class);
    /** MQTT 3.1 limits client identifiers to 1..23 characters. */
    private static final int MQTT_3_1_MAX_CLIENT_ID_LENGTH = 23;

    /**
     * AWAIT_CONNECT until CONNECT; AUTHENTICATING while the authenticator decides; ATTACHING while the registry
     * attaches the session (possibly taking it over from another loop); CONNECTED after CONNACK 0.
     */
    private enum State { AWAIT_CONNECT, AUTHENTICATING, ATTACHING, CONNECTED, CLOSED }

    private final ClientChannel channel;
    private final BrokerContext broker;
    private final EventExecutor loop;
    private final Runnable flushTask = this::flushNow;

    private State state = State.AWAIT_CONNECT;
    private MqttVersion version = MqttVersion.MQTT_3_1_1;
    private String clientId;
    private Session session;
    private boolean persistent;
    private Will will;
    private ArrayDeque<MqttPacket> parked;
    private long keepAliveNanos;
    private long lastPacketNanos;
    private ScheduledFuture<?> timer;
    private boolean flushPending;

    public MqttConnection(ClientChannel channel, BrokerContext broker) {
        this.channel = channel;
        this.broker = broker;
        this.loop = channel.executor();
    }

    // ------------------------------------------------------------------ events from the transport

    public void onOpen() {
        broker.metrics().connectionsAccepted.increment();
        broker.metrics().connectionsOpen.incrementAndGet();
        int timeout = broker.config().connectTimeoutSeconds();
        // covers CONNECT and its authentication: a backend that never answers cannot hold a connection forever
        timer = loop.schedule(() -> {
            if (state == State.AWAIT_CONNECT) {
                LOG.info("Connection from {} sent no CONNECT within {} s; closing", channel.remoteAddress(), timeout);
                channel.close();
            } else if (state == State.AUTHENTICATING) {
                refuse(version.isV5() ? ReasonCode.SERVER_UNAVAILABLE : ReasonCode.V3_SERVER_UNAVAILABLE,
                        "authentication did not answer within connect_timeout (" + timeout + " s)");
            }
        }, timeout, TimeUnit.SECONDS);
    }

    public void onPacket(MqttPacket packet) {
        lastPacketNanos = System.nanoTime();
        switch (state) {
            case AWAIT_CONNECT -> {
                if (packet instanceof Connect connect) {
                    onConnect(connect);
                } else {
                    violation("first packet was " + packet.type() + ", not CONNECT [MQTT-3.1.0-1]",
                            ReasonCode.PROTOCOL_ERROR);
                }
            }
            case AUTHENTICATING, ATTACHING -> {
                if (packet instanceof Connect) {
                    violation("second CONNECT [MQTT-3.1.0-2]", ReasonCode.PROTOCOL_ERROR);
                } else {
                    // clients may send before CONNACK; hold packets until the session is attached
                    if (parked == null) {
                        parked = new ArrayDeque<>();
                    }
                    parked.add(packet);
                }
            }
            case CONNECTED -> dispatch(packet);
            case CLOSED -> {
                // bytes that were already decoded when the close began
            }
        }
    }

    public void onDecodeFailure(DecodeFailure failure) {
        if (state == State.CLOSED) {
            return;
        }
        broker.metrics().protocolViolations.increment();
        if (failure.unsupportedProtocolVersion() && state == State.AWAIT_CONNECT) {
            // [MQTT-3.1.2-2] answer CONNACK 0x01 (0x84 to a 5.0 client), then close
            boolean v5 = failure.version() == MqttVersion.MQTT_5;
            channel.setProtocolVersion(v5 ? MqttVersion.MQTT_5 : MqttVersion.MQTT_3_1_1);
            channel.write(new Connack(false, v5 ? ReasonCode.UNSUPPORTED_PROTOCOL_VERSION
                    : ReasonCode.V3_UNACCEPTABLE_PROTOCOL_VERSION));
            LOG.info("Connection from {} refused: {}", channel.remoteAddress(), failure.message());
            broker.metrics().connectsRefused.increment();
            channel.close();
            return;
        }
        violation(failure.message(), failure.reasonCode());
    }

    public void onClosed() {
        State previous = state;
        if (previous == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        broker.metrics().connectionsOpen.decrementAndGet();
        cancelTimer();
        releaseConnectionSlot();
        if (previous == State.AWAIT_CONNECT || previous == State.AUTHENTICATING) {
            return;
        }
        publishWill();
        if (previous == State.ATTACHING) {
            return; // sessionReady() sees CLOSED and finishes the session's side
        }
        LOG.debug("Client '{}' disconnected", clientId);
        Session s = session;
        // the session may have moved to another loop if it was taken over, so go through its inbox
        s.submit((Runnable) () -> {
            if (s.detach(this) && !s.isPersistent()) {
                broker.sessions().end(s);
            }
        });
    }

    // ------------------------------------------------------------------ CONNECT

    private void onConnect(Connect connect) {
        version = connect.version();
        channel.setProtocolVersion(version);
        String id = connect.clientId();
        boolean assigned = false;
        if (id.isEmpty()) {
            if (version == MqttVersion.MQTT_3_1) {
                refuse(ReasonCode.V3_IDENTIFIER_REJECTED, "MQTT 3.1 requires a client identifier");
                return;
            }
            if (!connect.cleanStart() && version != MqttVersion.MQTT_5) {
                refuse(ReasonCode.V3_IDENTIFIER_REJECTED,
                        "empty client identifier without clean session [MQTT-3.1.3-8]");
                return;
            }
            if (!broker.config().allowZeroLengthClientId()) {
                refuse(version.isV5() ? ReasonCode.CLIENT_IDENTIFIER_NOT_VALID : ReasonCode.V3_IDENTIFIER_REJECTED,
                        "empty client identifier (allow_zero_length_clientid is false)");
                return;
            }
            id = broker.config().autoIdPrefix() + UUID.randomUUID();
            assigned = true;
        } else if (version == MqttVersion.MQTT_3_1 && id.length() > MQTT_3_1_MAX_CLIENT_ID_LENGTH) {
            refuse(ReasonCode.V3_IDENTIFIER_REJECTED, "MQTT 3.1 client identifiers are at most 23 characters");
            return;
        }
        clientId = id;
        assignedClientId = assigned;
        if (!broker.connectionLimit().tryAcquire()) {
            refuse(version.isV5() ? ReasonCode.QUOTA_EXCEEDED : ReasonCode.V3_SERVER_UNAVAILABLE,
                    "max_connections (" + broker.config().maxConnections() + ") reached");
            return;
        }
        holdsConnectionSlot = true;
        state = State.AUTHENTICATING;
        channel.setAutoRead(false);
        broker.authenticator()
                .authenticate(new AuthRequest(id, connect.username(), connect.password(), channel.remoteAddress(),
                        version))
                .whenComplete((result, error) -> {
                    if (loop.inEventLoop()) {
                        authenticated(connect, result, error);
                    } else {
                        loop.execute(() -> authenticated(connect, result, error));
                    }
                });
    }

    private void authenticated(Connect connect, AuthResult result, Throwable error) {
        if (state != State.AUTHENTICATING) {
            return; // closed meanwhile
        }
        if (error != null) {
            LOG.warn("Authentication of client '{}' failed with an error; refusing it", clientId, error);
            result = AuthResult.SERVER_UNAVAILABLE;
        }
        if (result != AuthResult.ACCEPTED) {
            refuse(result.connackCode(version), "authentication: " + result);
            return;
        }
        cancelTimer();
        will = connect.will();
        if (version.isV5()) {
            Long expiry = connect.properties().getLong(PropertyId.SESSION_EXPIRY_INTERVAL);
            persistent = expiry != null && expiry > 0;
        } else {
            persistent = !connect.cleanStart();
        }
        if (connect.keepAliveSeconds() > 0) {
            // [MQTT-3.1.2-24] disconnect after one and a half keep-alive periods of silence
            keepAliveNanos = TimeUnit.SECONDS.toNanos(connect.keepAliveSeconds()) * 3 / 2;
            scheduleKeepAliveCheck(keepAliveNanos);
        }
        state = State.ATTACHING;
        broker.sessions().connect(clientId, connect.cleanStart(), persistent, loop, this);
    }

    private boolean holdsConnectionSlot;

    private void releaseConnectionSlot() {
        if (holdsConnectionSlot) {
            holdsConnectionSlot = false;
            broker.connectionLimit().release();
        }
    }

    private boolean assignedClientId;

    @Override
    public boolean sessionReady(Session s, boolean sessionPresent) {
        if (state == State.CLOSED) {
            if (!persistent) {
                broker.sessions().end(s);
            }
            return false;
        }
        session = s;
        state = State.CONNECTED;
        MqttProperties props = MqttProperties.EMPTY;
        if (version.isV5() && assignedClientId) {
            props = MqttProperties.builder().set(PropertyId.ASSIGNED_CLIENT_IDENTIFIER, clientId).build();
        }
        // MQTT 3.1 has no session-present flag
        boolean present = version != MqttVersion.MQTT_3_1 && sessionPresent;
        channel.write(new Connack(present, ReasonCode.SUCCESS, props));
        requestFlush();
        LOG.debug("Client '{}' connected from {} (MQTT {}, {} session{})", clientId, channel.remoteAddress(), version,
                persistent ? "persistent" : "clean", present ? ", resumed" : "");
        loop.execute(this::resumeReading);
        return true;
    }

    private void resumeReading() {
        if (state != State.CONNECTED) {
            return;
        }
        ArrayDeque<MqttPacket> held = parked;
        parked = null;
        if (held != null) {
            MqttPacket p;
            while ((p = held.poll()) != null && state == State.CONNECTED) {
                dispatch(p);
            }
        }
        channel.setAutoRead(true);
    }

    private void refuse(int returnCode, String why) {
        LOG.info("Connection from {}{} refused: {}", channel.remoteAddress(),
                clientId == null ? "" : " (client '" + clientId + "')", why);
        broker.metrics().connectsRefused.increment();
        channel.write(new Connack(false, returnCode));
        channel.close();
        state = State.CLOSED;
        broker.metrics().connectionsOpen.decrementAndGet();
        releaseConnectionSlot();
    }

    // ------------------------------------------------------------------ after CONNACK

    private void dispatch(MqttPacket packet) {
        switch (packet.type()) {
            case PUBLISH -> onPublish((Publish) packet);
            case PUBACK -> session.onPuback(((Puback) packet).packetId());
            case PUBREC -> {
                int id = ((Pubrec) packet).packetId();
                session.onPubrec(id);
                // answered even for an unknown id, so the client can finish its side of the flow
                channel.write(new Pubrel(id));
                requestFlush();
            }
            case PUBREL -> {
                int id = ((Pubrel) packet).packetId();
                session.releasePubrel(id);
                channel.write(new Pubcomp(id));
                requestFlush();
            }
            case PUBCOMP -> session.onPubcomp(((Pubcomp) packet).packetId());
            case SUBSCRIBE -> onSubscribe((Subscribe) packet);
            case UNSUBSCRIBE -> onUnsubscribe((Unsubscribe) packet);
            case PINGREQ -> {
                channel.write(Pingresp.INSTANCE);
                requestFlush();
            }
            case DISCONNECT -> onDisconnect((Disconnect) packet);
            case CONNECT -> violation("second CONNECT [MQTT-3.1.0-2]", ReasonCode.PROTOCOL_ERROR);
            case AUTH -> violation("AUTH without an authentication method", ReasonCode.PROTOCOL_ERROR);
            case CONNACK, SUBACK, UNSUBACK, PINGRESP ->
                    violation(packet.type() + " is sent by servers, not clients", ReasonCode.PROTOCOL_ERROR);
        }
    }

    private void onPublish(Publish p) {
        broker.metrics().publishesReceived.increment();
        Message message = new Message(p.topic(), p.qos(), p.retain(), p.payload(), forwarded(p.properties()),
                clientId, System.currentTimeMillis());
        switch (p.qos()) {
            case AT_MOST_ONCE -> broker.router().publish(message);
            case AT_LEAST_ONCE -> {
                broker.router().publish(message);
                channel.write(new Puback(p.packetId()));
                requestFlush();
            }
            case EXACTLY_ONCE -> {
                // a resent PUBLISH whose id still awaits PUBREL was routed already: acknowledge only
                if (session.markAwaitingPubrel(p.packetId())) {
                    broker.router().publish(message);
                }
                channel.write(new Pubrec(p.packetId()));
                requestFlush();
            }
        }
    }

    /** Properties that travel on with the message: everything but those that only concern this hop. */
    private static MqttProperties forwarded(MqttProperties props) {
        if (props.isEmpty()) {
            return props;
        }
        if (!props.contains(PropertyId.TOPIC_ALIAS) && !props.contains(PropertyId.SUBSCRIPTION_IDENTIFIER)) {
            return props;
        }
        return props.toBuilder().set(PropertyId.TOPIC_ALIAS, null).clearSubscriptionIdentifiers().build();
    }

    private void onSubscribe(Subscribe subscribe) {
        List<TopicSubscription> requested = subscribe.subscriptions();
        List<Integer> codes = new ArrayList<>(requested.size());
        List<Subscription> retainedFor = new ArrayList<>(requested.size());
        boolean refusedAny = false;
        for (TopicSubscription ts : requested) {
            String filter = ts.filter();
            if (!TopicSyntax.isValidTopicFilter(filter)) {
                codes.add(version.isV5() ? ReasonCode.TOPIC_FILTER_INVALID : ReasonCode.V3_SUBACK_FAILURE);
                refusedAny = true;
                continue;
            }
            if (TopicSyntax.isSharedSubscription(filter)) {
                codes.add(version.isV5() ? ReasonCode.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED
                        : ReasonCode.V3_SUBACK_FAILURE);
                refusedAny = true;
                continue;
            }
            int maxSubscriptions = broker.config().maxSubscriptionsPerClient();
            if (maxSubscriptions >= 0 && session.subscription(filter) == null
                    && session.subscriptionCount() >= maxSubscriptions) {
                codes.add(version.isV5() ? ReasonCode.QUOTA_EXCEEDED : ReasonCode.V3_SUBACK_FAILURE);
                refusedAny = true;
                continue;
            }
            Subscription sub = new Subscription(filter, ts.qos(), ts.noLocal(), ts.retainAsPublished(),
                    ts.retainHandling(), subscriptionIdentifier(subscribe.properties()));
            Subscription previous = session.putSubscription(sub);
            broker.router().subscribe(session, sub);
            codes.add(ts.qos().value());
            boolean sendRetained = switch (ts.retainHandling()) {
                case 0 -> true;
                case 1 -> previous == null;
                default -> false;
            };
            if (sendRetained) {
                retainedFor.add(sub);
            }
        }
        if (refusedAny && version == MqttVersion.MQTT_3_1) {
            violation("refused a subscription, and MQTT 3.1 has no SUBACK failure code", ReasonCode.UNSPECIFIED_ERROR);
            return;
        }
        channel.write(new Suback(subscribe.packetId(), codes, MqttProperties.EMPTY));
        // [MQTT-3.3.1-6] retained messages follow the SUBACK, with RETAIN set, on every matching SUBSCRIBE
        for (Subscription sub : retainedFor) {
            int[] ids = sub.subscriptionId() == 0 ? new int[0] : new int[] {sub.subscriptionId()};
            broker.router().retained().match(sub.filter(), m ->
                    session.deliver(new Delivery(m, QoS.min(m.qos(), sub.qos()), true, ids)));
        }
        requestFlush();
    }

    private static int subscriptionIdentifier(MqttProperties props) {
        return props.subscriptionIdentifierCount() == 0 ? 0 : props.subscriptionIdentifier(0);
    }

    private void onUnsubscribe(Unsubscribe unsubscribe) {
        List<Integer> codes = version.isV5() ? new ArrayList<>() : List.of();
        for (String filter : unsubscribe.filters()) {
            boolean had = session.removeSubscription(filter) != null;
            if (had) {
                broker.router().unsubscribe(session, filter);
            }
            if (version.isV5()) {
                codes.add(had ? ReasonCode.SUCCESS : ReasonCode.NO_SUBSCRIPTION_EXISTED);
            }
        }
        // [MQTT-3.10.4-5] UNSUBACK even when nothing was subscribed
        channel.write(new Unsuback(unsubscribe.packetId(), codes, MqttProperties.EMPTY));
        requestFlush();
    }

    private void onDisconnect(Disconnect disconnect) {
        // [MQTT-3.14.4-3] a DISCONNECT discards the will (MQTT 5.0: unless the reason asks for it)
        if (!version.isV5() || disconnect.reasonCode() != ReasonCode.DISCONNECT_WITH_WILL_MESSAGE) {
            will = null;
        }
        channel.close();
    }

    // ------------------------------------------------------------------ SessionConnection

    @Override
    public void sendPublish(int packetId, Delivery d, boolean dup) {
        Message m = d.message();
        MqttProperties props = MqttProperties.EMPTY;
        if (version.isV5()) {
            props = m.properties();
            if (d.subscriptionIds().length > 0) {
                MqttProperties.Builder b = props.toBuilder();
                for (int id : d.subscriptionIds()) {
                    b.subscriptionIdentifier(id);
                }
                props = b.build();
            }
        }
        channel.write(new Publish(m.topic(), d.qos(), d.retain(), dup, packetId, m.payload(), props));
        broker.metrics().publishesSent.increment();
    }

    @Override
    public void sendPubrel(int packetId) {
        channel.write(new Pubrel(packetId));
    }

    @Override
    public void requestFlush() {
        if (!flushPending) {
            flushPending = true;
            loop.execute(flushTask);
        }
    }

    private void flushNow() {
        flushPending = false;
        channel.flush();
    }

    @Override
    public int maxInflight() {
        return broker.config().maxInflightMessages();
    }

    @Override
    public void closeTakenOver() {
        LOG.info("Client '{}' taken over by a new connection; closing the old one from {}", clientId,
                channel.remoteAddress());
        if (version.isV5()) {
            channel.write(new Disconnect(ReasonCode.SESSION_TAKEN_OVER));
        }
        channel.close();
    }

    // ------------------------------------------------------------------ helpers

    private void publishWill() {
        Will w = will;
        will = null;
        if (w == null) {
            return;
        }
        broker.metrics().willsPublished.increment();
        LOG.debug("Publishing will of '{}' on {}", clientId, w.topic());
        broker.router().publish(new Message(w.topic(), w.qos(), w.retain(), w.payload(), w.properties(), clientId,
                System.currentTimeMillis()));
    }

    private void violation(String why, int reasonCode) {
        broker.metrics().protocolViolations.increment();
        LOG.info("Closing connection {}{}: {}", channel.remoteAddress(),
                clientId == null ? "" : " of client '" + clientId + "'", why);
        if (version.isV5() && state == State.CONNECTED) {
            channel.write(new Disconnect(reasonCode));
        }
        channel.close();
    }

    private void scheduleKeepAliveCheck(long delayNanos) {
        timer = loop.schedule(this::checkKeepAlive, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void checkKeepAlive() {
        if (state == State.CLOSED) {
            return;
        }
        long silent = System.nanoTime() - lastPacketNanos;
        if (silent >= keepAliveNanos) {
            broker.metrics().keepAliveTimeouts.increment();
            LOG.info("Client '{}' sent nothing for {} ms (1.5 x keep alive); closing", clientId,
                    TimeUnit.NANOSECONDS.toMillis(silent));
            if (version.isV5() && state == State.CONNECTED) {
                channel.write(new Disconnect(ReasonCode.KEEP_ALIVE_TIMEOUT));
            }
            channel.close();
        } else {
            scheduleKeepAliveCheck(keepAliveNanos - silent);
        }
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /** For tests and logs. */
    public String clientId() {
        return clientId;
    }
}
