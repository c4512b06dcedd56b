package io.ternmq.broker.protocol;

import io.netty.util.concurrent.EventExecutor;
import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.security.AuthExchange;
import io.ternmq.broker.security.AuthRequest;
import io.ternmq.broker.security.AuthResult;
import io.ternmq.broker.security.AuthStep;
import io.ternmq.broker.security.ClientIdentity;
import io.ternmq.broker.metrics.RateLimitedLog;
import io.ternmq.broker.security.EnhancedAuthenticator;
import io.ternmq.broker.routing.Router;
import io.ternmq.broker.session.Session;
import io.ternmq.broker.session.SessionRequest;
import io.ternmq.broker.session.SessionConnection;
import io.ternmq.broker.session.Subscription;
import io.ternmq.codec.Auth;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.DecodeFailure;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttPacketEncoder;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.PacketType;
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
import io.ternmq.codec.Utf8;
import io.ternmq.codec.Will;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * The MQTT protocol for one network connection: CONNECT and the session it attaches, then every packet the client
 * sends, for MQTT 3.1, 3.1.1 and 5.0. Knows the network only through {@link ClientChannel}. Runs entirely on the
 * connection's event loop, which also owns the attached {@link Session}.
 */
public final class MqttConnection implements SessionConnection, Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(MqttConnection.class);
    private static final RateLimitedLog DENIED_LOG = new RateLimitedLog(LOG, 10_000);
    /** MQTT 3.1 limits client identifiers to 1..23 characters. */
    private static final int MQTT_3_1_MAX_CLIENT_ID_LENGTH = 23;
    private static final int UNLIMITED = Integer.MAX_VALUE;
    private static final int[] NO_IDS = new int[0];

    /**
     * AWAIT_CONNECT until CONNECT; AUTHENTICATING while the authenticator decides; ATTACHING while the registry
     * attaches the session (possibly taking it over from another loop); CONNECTED after CONNACK 0.
     */
    private enum State { AWAIT_CONNECT, AUTHENTICATING, ATTACHING, CONNECTED, CLOSED }

    private final ClientChannel channel;
    private final BrokerContext broker;
    private final EventExecutor loop;

    private State state = State.AWAIT_CONNECT;
    private MqttVersion version = MqttVersion.MQTT_3_1_1;
    private String clientId;
    private boolean assignedClientId;
    private boolean holdsConnectionSlot;
    private Session session;
    private int sessionGeneration;
    private long sessionExpiry;
    private Will will;
    private ArrayDeque<MqttPacket> parked;
    /** Set while a packet waits for an asynchronous authorization answer: later packets wait behind it. */
    private boolean inputHeld;
    /** Only with max_publish_rate. */
    private PublishRateLimit publishRate;
    private boolean throttled;
    /** When the socket last changed writability or was seen draining while backed up. */
    private volatile long drainedNanos = System.nanoTime();
    private volatile int lastUnwritten;
    private ClientIdentity identity;
    private long keepAliveNanos;
    private long lastPacketNanos;
    /** When CONNECT and its authentication must be done by. */
    private long connectDeadlineNanos;
    /** Once CONNECT is authenticated, or the deadline has passed. */
    private boolean connectDeadlineOver;
    /** This connection's place in its loop's {@link LoopConnections}, or -1 once closed. */
    private int slot = -1;
    private boolean flushPending;
    private boolean shuttingDown;

    // What an MQTT 5 client asked for in CONNECT (3.x clients keep these defaults).
    private int clientReceiveMaximum = 65_535;
    private int clientMaximumPacketSize = UNLIMITED;
    /** The Session Expiry Interval the CONNECT asked for, before any cap: what DISCONNECT's rule looks at. */
    private long requestedSessionExpiry;
    private boolean requestProblemInformation = true;
    private InboundTopicAliases inboundAliases;
    private OutboundTopicAliases outboundAliases;
    private MqttProperties connackProperties = MqttProperties.EMPTY;
    /** Null until the first packet that needs an answer: idle connections never get one. */
    private ArrayDeque<Response> responses;
    /** QoS 1 PUBLISHes routed but not yet acknowledged (waiting for the store): they count against Receive Maximum. */
    private int pendingQos1Acks;

    // MQTT 5 enhanced authentication (section 4.12): the method named in CONNECT and the exchange under way.
    private String authMethod;
    private AuthExchange authExchange;
    private Connect pendingConnect;
    private byte[] authSuccessData;

    /** Through the context rather than a field: every connection would carry the reference. */
    private BrokerConfig config() {
        return broker.config();
    }

    public MqttConnection(ClientChannel channel, BrokerContext broker) {
        this.channel = channel;
        this.broker = broker;
        this.loop = channel.executor();
    }

    // ------------------------------------------------------------------ events from the transport

    public void onOpen() {
        broker.metrics().connectionsAccepted.increment();
        broker.metrics().connectionsOpen.incrementAndGet();
        // covers CONNECT and its authentication: a backend that never answers cannot hold a connection forever
        connectDeadlineNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(config().connectTimeoutSeconds());
        slot = LoopConnections.of(loop).add(this);
    }

    /** Called by this loop's {@link LoopConnections} sweep. */
    void checkDeadline(long now) {
        switch (state) {
            case AWAIT_CONNECT, AUTHENTICATING -> {
                if (!connectDeadlineOver && now - connectDeadlineNanos >= 0) {
                    connectDeadlineOver = true;
                    connectTimedOut();
                }
            }
            case ATTACHING, CONNECTED -> {
                long silent = now - lastPacketNanos;
                if (keepAliveNanos > 0 && silent >= keepAliveNanos) {
                    keepAliveNanos = 0; // once
                    keepAliveTimedOut(silent);
                }
            }
            case CLOSED -> {
                // leaves at channel close
            }
        }
    }

    /** {@link LoopConnections} moved this connection to another slot. */
    void slotMoved(int slot) {
        this.slot = slot;
    }

    private void connectTimedOut() {
        int timeout = config().connectTimeoutSeconds();
        if (state == State.AWAIT_CONNECT) {
            LOG.info("Connection from {} sent no CONNECT within {} s; closing", channel.remoteAddress(), timeout);
            channel.close();
        } else if (state == State.AUTHENTICATING) {
            refuse(version.isV5() ? ReasonCode.SERVER_UNAVAILABLE : ReasonCode.V3_SERVER_UNAVAILABLE,
                    "authentication did not answer within connect_timeout (" + timeout + " s)");
        }
    }

    public void onPacket(MqttPacket packet) {
        lastPacketNanos = System.nanoTime();
        switch (state) {
            case AWAIT_CONNECT -> {
                if (packet instanceof Connect connect) {
                    onConnect(connect);
                } else {
                    disconnect(ReasonCode.PROTOCOL_ERROR, "first packet was " + packet.type()
                            + ", not CONNECT [MQTT-3.1.0-1]");
                }
            }
            case AUTHENTICATING, ATTACHING -> {
                if (packet instanceof Auth auth && state == State.AUTHENTICATING && authExchange != null) {
                    onAuthBeforeConnack(auth);
                } else if (packet instanceof Connect) {
                    disconnect(ReasonCode.PROTOCOL_ERROR, "second CONNECT [MQTT-3.1.0-2]");
                } else {
                    park(packet); // clients may send before CONNACK; hold packets until the session is attached
                }
            }
            case CONNECTED -> {
                if (inputHeld || throttled) {
                    // an earlier packet waits for an authorization answer, or the client is over its publish rate:
                    // later packets wait behind, in order
                    park(packet);
                } else {
                    dispatch(packet);
                }
            }
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
        if (state == State.AWAIT_CONNECT) {
            if (failure.unsupportedProtocolVersion()) {
                // [MQTT-3.1.2-2] answer CONNACK 0x01 in the 3.1.1 format, which every version understands
                refuse(ReasonCode.V3_UNACCEPTABLE_PROTOCOL_VERSION, failure.message());
                return;
            }
            if (failure.version() == MqttVersion.MQTT_5 && failure.packetType() == PacketType.CONNECT) {
                // a broken 5.0 CONNECT may be answered with a CONNACK carrying the reason [MQTT-4.13.1-1]
                version = MqttVersion.MQTT_5;
                channel.setProtocolVersion(version);
                refuse(failure.reasonCode(), failure.message());
                return;
            }
        }
        disconnect(failure.reasonCode(), failure.message());
    }

    public void onClosed() {
        if (slot >= 0) {
            LoopConnections.of(loop).remove(slot);
            slot = -1;
        }
        State previous = state;
        if (previous == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        broker.metrics().connectionsOpen.decrementAndGet();
        releaseConnectionSlot();
        if (previous == State.AWAIT_CONNECT || previous == State.AUTHENTICATING) {
            return;
        }
        if (shuttingDown) {
            will = null; // the broker is stopping, not the client failing
        }
        Message delayedWill = null;
        long willDelay = 0;
        Will w = will;
        will = null;
        if (w != null) {
            Long delay = version.isV5() ? w.properties().getLong(PropertyId.WILL_DELAY_INTERVAL) : null;
            Message m = willMessage(w);
            if (delay == null || delay == 0) {
                publishWill(m);
            } else {
                delayedWill = m;
                willDelay = delay;
            }
        }
        if (previous == State.ATTACHING) {
            // sessionReady() sees CLOSED and finishes the session's side; a delayed will goes out now
            if (delayedWill != null) {
                publishWill(delayedWill);
            }
            return;
        }
        LOG.debug("Client '{}' disconnected", clientId);
        Session s = session;
        int generation = sessionGeneration;
        Message sessionWill = delayedWill;
        long sessionWillDelay = willDelay;
        // the session may have moved to another loop if it was taken over, so go through its inbox
        s.submit((Runnable) () -> s.closed(this, generation, sessionWill, sessionWillDelay));
    }

    /** The broker is stopping: tell MQTT 5 clients why (DISCONNECT 0x8B), then close without publishing wills. */
    public void onServerShutdown() {
        if (state == State.CLOSED) {
            return;
        }
        shuttingDown = true;
        if (state == State.CONNECTED && version.isV5()) {
            send(new Disconnect(ReasonCode.SERVER_SHUTTING_DOWN, MqttProperties.EMPTY));
        }
        channel.close();
    }

    // ------------------------------------------------------------------ CONNECT

    private void onConnect(Connect connect) {
        version = connect.version();
        channel.setProtocolVersion(version);
        if (version.isV5()) {
            // known before any answer, so that even a refusing CONNACK respects it [MQTT-3.1.2-24]
            Long maxPacket = connect.properties().getLong(PropertyId.MAXIMUM_PACKET_SIZE);
            clientMaximumPacketSize = maxPacket == null ? UNLIMITED : (int) Math.min(maxPacket, UNLIMITED);
            Long requested = connect.properties().getLong(PropertyId.SESSION_EXPIRY_INTERVAL);
            requestedSessionExpiry = requested == null ? 0 : requested;
        }
        String id = connect.clientId();
        boolean assigned = false;
        if (id.isEmpty()) {
            if (version == MqttVersion.MQTT_3_1) {
                refuse(ReasonCode.V3_IDENTIFIER_REJECTED, "MQTT 3.1 requires a client identifier");
                return;
            }
            if (!connect.cleanStart() && !version.isV5()) {
                refuse(ReasonCode.V3_IDENTIFIER_REJECTED,
                        "empty client identifier without clean session [MQTT-3.1.3-8]");
                return;
            }
            if (!config().allowZeroLengthClientId()) {
                refuse(version.isV5() ? ReasonCode.CLIENT_IDENTIFIER_NOT_VALID : ReasonCode.V3_IDENTIFIER_REJECTED,
                        "empty client identifier (allow_zero_length_clientid is false)");
                return;
            }
            id = config().autoIdPrefix() + UUID.randomUUID();
            assigned = true;
        } else if (version == MqttVersion.MQTT_3_1 && id.length() > MQTT_3_1_MAX_CLIENT_ID_LENGTH) {
            refuse(ReasonCode.V3_IDENTIFIER_REJECTED, "MQTT 3.1 client identifiers are at most 23 characters");
            return;
        }
        clientId = id;
        assignedClientId = assigned;
        int keepAlive = connect.keepAliveSeconds();
        int maxKeepAlive = config().maxKeepAlive();
        if (!version.isV5() && (keepAlive > maxKeepAlive || (keepAlive == 0 && maxKeepAlive < 65_535))) {
            // MQTT 3.x cannot be told another keep alive; refuse as Mosquitto does
            refuse(ReasonCode.V3_IDENTIFIER_REJECTED, "keep alive " + keepAlive + " s is above max_keepalive "
                    + maxKeepAlive + " s");
            return;
        }
        if (!checkWill(connect.will())) {
            return;
        }
        if (!broker.connectionLimit().tryAcquire()) {
            refuse(version.isV5() ? ReasonCode.QUOTA_EXCEEDED : ReasonCode.V3_SERVER_UNAVAILABLE,
                    "max_connections (" + config().maxConnections() + ") reached");
            return;
        }
        holdsConnectionSlot = true;
        state = State.AUTHENTICATING;
        String method = version.isV5() ? connect.properties().getString(PropertyId.AUTHENTICATION_METHOD) : null;
        if (method != null) {
            startEnhancedAuthentication(connect, method);
            return;
        }
        channel.setAutoRead(false);
        broker.authenticator()
                .authenticate(new AuthRequest(id, connect.username(), connect.password(), channel.remoteAddress(),
                        version, channel.certificate()))
                .whenComplete((result, error) -> {
                    if (loop.inEventLoop()) {
                        authenticated(connect, result, error);
                    } else {
                        loop.execute(() -> authenticated(connect, result, error));
                    }
                });
    }

    /** Refuses a will the broker cannot honour, with the code MQTT 5 defines for it. @return true if acceptable */
    private boolean checkWill(Will w) {
        if (w == null) {
            return true;
        }
        if (exceedsTopicLimits(w.topic())) {
            refuse(version.isV5() ? ReasonCode.TOPIC_NAME_INVALID : ReasonCode.V3_NOT_AUTHORIZED,
                    "will topic beyond max_topic_length or max_topic_levels");
            return false;
        }
        if (w.qos().value() > config().maxQos()) {
            // [MQTT-3.2.2-12]; MQTT 3.x has no such code, so it is refused as not authorized
            refuse(version.isV5() ? ReasonCode.QOS_NOT_SUPPORTED : ReasonCode.V3_NOT_AUTHORIZED,
                    "will QoS " + w.qos().value() + " above max_qos " + config().maxQos());
            return false;
        }
        if (w.retain() && !config().retainAvailable()) {
            // [MQTT-3.2.2-13]
            refuse(version.isV5() ? ReasonCode.RETAIN_NOT_SUPPORTED : ReasonCode.V3_NOT_AUTHORIZED,
                    "retained will while retain_available is false");
            return false;
        }
        if (version.isV5() && isUtf8Payload(w.properties()) && !Utf8.isWellFormed(w.payload())) {
            refuse(ReasonCode.PAYLOAD_FORMAT_INVALID, "will payload is not UTF-8 but says it is");
            return false;
        }
        return true;
    }

    // ------------------------------------------------------------------ enhanced authentication (MQTT 5)

    private void startEnhancedAuthentication(Connect connect, String method) {
        EnhancedAuthenticator authenticator = broker.enhancedAuthenticators().get(method);
        if (authenticator == null) {
            refuse(ReasonCode.BAD_AUTHENTICATION_METHOD, "unsupported authentication method '" + method + "'");
            return;
        }
        authMethod = method;
        pendingConnect = connect;
        authExchange = authenticator.start(new AuthRequest(clientId, connect.username(), connect.password(),
                channel.remoteAddress(), version, channel.certificate()));
        exchangeStep(connect.properties().getBinary(PropertyId.AUTHENTICATION_DATA), false);
    }

    /** Feeds client data to the exchange and acts on the answer, on this loop. */
    private void exchangeStep(byte[] clientData, boolean reauthentication) {
        AuthExchange exchange = authExchange;
        exchange.respond(clientData).whenComplete((step, error) -> {
            if (loop.inEventLoop()) {
                onAuthStep(exchange, step, error, reauthentication);
            } else {
                loop.execute(() -> onAuthStep(exchange, step, error, reauthentication));
            }
        });
    }

    private void onAuthStep(AuthExchange exchange, AuthStep step, Throwable error, boolean reauthentication) {
        if (exchange != authExchange || state == State.CLOSED) {
            return; // closed, or superseded, meanwhile
        }
        if (error != null) {
            LOG.warn("Enhanced authentication of client '{}' failed with an error", clientId, error);
            step = AuthStep.failure(ReasonCode.UNSPECIFIED_ERROR);
        }
        MqttProperties.Builder props = MqttProperties.builder().set(PropertyId.AUTHENTICATION_METHOD, authMethod);
        if (step.data() != null) {
            props.set(PropertyId.AUTHENTICATION_DATA, step.data());
        }
        switch (step.outcome()) {
            case CONTINUE -> {
                send(new Auth(ReasonCode.CONTINUE_AUTHENTICATION, props.build()));
                requestFlush();
            }
            case SUCCESS -> {
                authExchange = null;
                if (reauthentication) {
                    send(new Auth(ReasonCode.SUCCESS, props.build()));
                    requestFlush();
                } else {
                    authSuccessData = step.data();
                    Connect connect = pendingConnect;
                    pendingConnect = null;
                    authenticated(connect, AuthResult.ACCEPTED, null);
                }
            }
            case FAILURE -> {
                authExchange = null;
                if (reauthentication) {
                    disconnect(step.reasonCode(), "re-authentication failed");
                } else {
                    refuse(step.reasonCode(), "enhanced authentication (" + authMethod + ") failed");
                }
            }
        }
    }

    /** AUTH from the client before CONNACK: its answer to our challenge. */
    private void onAuthBeforeConnack(Auth auth) {
        if (auth.reasonCode() != ReasonCode.CONTINUE_AUTHENTICATION
                || !authMethod.equals(auth.properties().getString(PropertyId.AUTHENTICATION_METHOD))) {
            authExchange = null;
            refuse(ReasonCode.PROTOCOL_ERROR, "AUTH before CONNACK must continue the same authentication method");
            return;
        }
        exchangeStep(auth.properties().getBinary(PropertyId.AUTHENTICATION_DATA), false);
    }

    /** AUTH after CONNACK: a re-authentication, started with 0x19 and continued with 0x18. */
    private void onAuth(Auth auth) {
        String method = auth.properties().getString(PropertyId.AUTHENTICATION_METHOD);
        if (authMethod == null || !authMethod.equals(method)) {
            disconnect(ReasonCode.PROTOCOL_ERROR, authMethod == null
                    ? "AUTH on a connection that did not use enhanced authentication"
                    : "re-authentication must use the CONNECT's method '" + authMethod + "'");
            return;
        }
        byte[] data = auth.properties().getBinary(PropertyId.AUTHENTICATION_DATA);
        if (auth.reasonCode() == ReasonCode.RE_AUTHENTICATE) {
            // the same user as at CONNECT: a re-authentication must not become someone else
            authExchange = broker.enhancedAuthenticators().get(authMethod).start(new AuthRequest(clientId,
                    identity == null ? null : identity.username(), null, channel.remoteAddress(), version,
                    channel.certificate()));
            exchangeStep(data, true);
        } else if (auth.reasonCode() == ReasonCode.CONTINUE_AUTHENTICATION && authExchange != null) {
            exchangeStep(data, true);
        } else {
            disconnect(ReasonCode.PROTOCOL_ERROR, "unexpected AUTH reason code 0x"
                    + Integer.toHexString(auth.reasonCode()));
        }
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
        identity = new ClientIdentity(clientId, connect.username(),
                channel.certificate() == null ? null : channel.certificate().commonName(), channel.remoteAddress(),
                channel.listenerName());
        if (connect.will() != null) {
            // the will is a publication like any other: it needs the right to publish on its topic
            broker.authorizer().mayPublish(identity, connect.will().topic()).whenComplete((ok, failure) -> {
                boolean allowed = ok != null && ok && failure == null;
                if (loop.inEventLoop()) {
                    willAuthorized(connect, allowed);
                } else {
                    loop.execute(() -> willAuthorized(connect, allowed));
                }
            });
            return;
        }
        proceedAuthenticated(connect);
    }

    private void willAuthorized(Connect connect, boolean allowed) {
        if (state != State.AUTHENTICATING) {
            return;
        }
        if (!allowed) {
            refuse(version.isV5() ? ReasonCode.NOT_AUTHORIZED : ReasonCode.V3_NOT_AUTHORIZED,
                    "not authorized to publish its will on '" + connect.will().topic() + "'");
            return;
        }
        proceedAuthenticated(connect);
    }

    private void proceedAuthenticated(Connect connect) {
        connectDeadlineOver = true; // the keep alive, if any, starts below
        will = connect.will();
        MqttProperties props = connect.properties();
        if (version.isV5()) {
            Long expiry = props.getLong(PropertyId.SESSION_EXPIRY_INTERVAL);
            sessionExpiry = Math.min(expiry == null ? 0 : expiry, config().maxSessionExpiryInterval());
            Integer receiveMaximum = props.getInt(PropertyId.RECEIVE_MAXIMUM);
            clientReceiveMaximum = receiveMaximum == null ? 65_535 : receiveMaximum;
            Integer problems = props.getInt(PropertyId.REQUEST_PROBLEM_INFORMATION);
            requestProblemInformation = problems == null || problems == 1;
            Integer aliasMax = props.getInt(PropertyId.TOPIC_ALIAS_MAXIMUM);
            if (aliasMax != null && aliasMax > 0) {
                outboundAliases = new OutboundTopicAliases(aliasMax);
            }
            if (config().maxTopicAlias() > 0) {
                inboundAliases = new InboundTopicAliases(config().maxTopicAlias());
            }
        } else {
            // MQTT 3.x: a persistent session never expires, a clean one ends with the connection
            sessionExpiry = connect.cleanStart() ? 0 : Session.NEVER_EXPIRES;
        }
        int keepAlive = connect.keepAliveSeconds();
        int maxKeepAlive = config().maxKeepAlive();
        if (version.isV5() && (keepAlive > maxKeepAlive || keepAlive == 0 && maxKeepAlive < 65_535)) {
            keepAlive = maxKeepAlive; // announced as Server Keep Alive [MQTT-3.2.2-21]
        }
        if (keepAlive > 0) {
            // [MQTT-3.1.2-24] disconnect after one and a half keep-alive periods of silence
            keepAliveNanos = TimeUnit.SECONDS.toNanos(keepAlive) * 3 / 2;
        }
        connackProperties = version.isV5() ? connackProperties(connect, keepAlive) : MqttProperties.EMPTY;
        state = State.ATTACHING;
        Message willMessage = will == null ? null : willMessage(will);
        Long willDelay = will == null || !version.isV5() ? null
                : will.properties().getLong(PropertyId.WILL_DELAY_INTERVAL);
        broker.sessions().connect(new SessionRequest(clientId, connect.cleanStart(), sessionExpiry, version.level(),
                willMessage, willDelay == null ? 0 : willDelay), loop, this);
    }

    private MqttProperties connackProperties(Connect connect, int keepAlive) {
        MqttProperties.Builder b = MqttProperties.builder();
        Long requested = connect.properties().getLong(PropertyId.SESSION_EXPIRY_INTERVAL);
        if (requested != null && requested != sessionExpiry) {
            b.set(PropertyId.SESSION_EXPIRY_INTERVAL, sessionExpiry);
        }
        if (config().receiveMaximum() < 65_535) {
            b.set(PropertyId.RECEIVE_MAXIMUM, config().receiveMaximum());
        }
        if (config().maxQos() < 2) {
            b.set(PropertyId.MAXIMUM_QOS, config().maxQos());
        }
        if (!config().retainAvailable()) {
            b.set(PropertyId.RETAIN_AVAILABLE, 0);
        }
        b.set(PropertyId.MAXIMUM_PACKET_SIZE, (long) config().maxPacketSize());
        if (assignedClientId) {
            b.set(PropertyId.ASSIGNED_CLIENT_IDENTIFIER, clientId);
        }
        if (config().maxTopicAlias() > 0) {
            b.set(PropertyId.TOPIC_ALIAS_MAXIMUM, config().maxTopicAlias());
        }
        if (!config().wildcardSubscriptionAvailable()) {
            b.set(PropertyId.WILDCARD_SUBSCRIPTION_AVAILABLE, 0);
        }
        if (!config().subscriptionIdentifierAvailable()) {
            b.set(PropertyId.SUBSCRIPTION_IDENTIFIER_AVAILABLE, 0);
        }
        if (!config().sharedSubscriptionAvailable()) {
            b.set(PropertyId.SHARED_SUBSCRIPTION_AVAILABLE, 0);
        }
        if (keepAlive != connect.keepAliveSeconds()) {
            b.set(PropertyId.SERVER_KEEP_ALIVE, keepAlive);
        }
        if (authMethod != null) {
            b.set(PropertyId.AUTHENTICATION_METHOD, authMethod);
            if (authSuccessData != null) {
                b.set(PropertyId.AUTHENTICATION_DATA, authSuccessData);
            }
        }
        Integer wantsResponseInfo = connect.properties().getInt(PropertyId.REQUEST_RESPONSE_INFORMATION);
        if (wantsResponseInfo != null && wantsResponseInfo == 1 && !config().responseInformation().isEmpty()) {
            b.set(PropertyId.RESPONSE_INFORMATION, config().responseInformation() + clientId);
        }
        return b.build();
    }

    private void releaseConnectionSlot() {
        if (holdsConnectionSlot) {
            holdsConnectionSlot = false;
            broker.connectionLimit().release();
        }
    }

    @Override
    public boolean sessionReady(Session s, boolean sessionPresent) {
        if (state == State.CLOSED) {
            if (!s.isPersistent()) {
                broker.sessions().end(s);
            }
            return false;
        }
        session = s;
        sessionGeneration = s.attachGeneration();
        state = State.CONNECTED;
        // MQTT 3.1 has no session-present flag
        boolean present = version != MqttVersion.MQTT_3_1 && sessionPresent;
        send(new Connack(present, ReasonCode.SUCCESS, connackProperties));
        requestFlush();
        LOG.debug("Client '{}' connected from {} (MQTT {}, session expiry {}{})", clientId, channel.remoteAddress(),
                version, sessionExpiry, present ? ", resumed" : "");
        loop.execute(this::resumeReading);
        return true;
    }

    private void resumeReading() {
        if (state != State.CONNECTED) {
            return;
        }
        broker.router().sessionOnline(session);
        dispatchParked();
    }

    private void park(MqttPacket packet) {
        if (parked == null) {
            parked = new ArrayDeque<>();
        }
        parked.add(packet);
    }

    /** Processes held packets in order, until one has to wait again; reads again once none is held. */
    private void dispatchParked() {
        ArrayDeque<MqttPacket> held = parked;
        MqttPacket p;
        while (!inputHeld && !throttled && held != null && (p = held.poll()) != null && state == State.CONNECTED) {
            dispatch(p);
        }
        if (!inputHeld && !throttled && state == State.CONNECTED) {
            channel.setAutoRead(true);
        }
    }

    /**
     * Runs {@code then} with an asynchronous answer (an authorization backend's): at once if it is already known,
     * else once it comes, holding back the client's later packets meanwhile so that they keep their order.
     */
    private <T> void whenAnswered(CompletionStage<T> answer, T onError, java.util.function.Consumer<T> then) {
        CompletableFuture<T> f = answer.toCompletableFuture();
        if (f.isDone() && !inputHeld) {
            then.accept(f.isCompletedExceptionally() ? onError : f.join());
            return;
        }
        inputHeld = true;
        channel.setAutoRead(false);
        f.whenComplete((value, error) -> loop.execute(() -> {
            if (state != State.CONNECTED) {
                return;
            }
            if (error != null) {
                LOG.warn("Authorization for client '{}' failed with an error; denying", clientId, error);
            }
            inputHeld = false;
            then.accept(error != null ? onError : value);
            dispatchParked();
        }));
    }

    private void refuse(int returnCode, String why) {
        LOG.info("Connection from {}{} refused: {}", channel.remoteAddress(),
                clientId == null ? "" : " (client '" + clientId + "')", why);
        broker.metrics().connectsRefused.increment();
        MqttProperties props = version.isV5() ? reasonString(why) : MqttProperties.EMPTY;
        send(new Connack(false, returnCode, props));
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
            case PUBREC -> onPubrec((Pubrec) packet);
            case PUBREL -> {
                int id = ((Pubrel) packet).packetId();
                Response r = reserveResponse();
                // PUBCOMP only once the id is forgotten durably: else a crash could drop a new message that reuses it
                session.releasePubrel(id, known -> complete(r, new Pubcomp(id, known || !version.isV5()
                        ? ReasonCode.SUCCESS : ReasonCode.PACKET_IDENTIFIER_NOT_FOUND, MqttProperties.EMPTY), null));
            }
            case PUBCOMP -> session.onPubcomp(((Pubcomp) packet).packetId());
            case SUBSCRIBE -> onSubscribe((Subscribe) packet);
            case UNSUBSCRIBE -> onUnsubscribe((Unsubscribe) packet);
            case PINGREQ -> {
                send(Pingresp.INSTANCE);
                requestFlush();
            }
            case DISCONNECT -> onDisconnect((Disconnect) packet);
            case CONNECT -> disconnect(ReasonCode.PROTOCOL_ERROR, "second CONNECT [MQTT-3.1.0-2]");
            case AUTH -> onAuth((Auth) packet);
            case CONNACK, SUBACK, UNSUBACK, PINGRESP ->
                    disconnect(ReasonCode.PROTOCOL_ERROR, packet.type() + " is sent by servers, not clients");
        }
    }

    private void onPubrec(Pubrec pubrec) {
        int id = pubrec.packetId();
        if (version.isV5() && ReasonCode.isError(pubrec.reasonCode())) {
            // a PUBREC with an error code ends the flow: no PUBREL follows
            session.onPubrecError(id);
            return;
        }
        if (!session.onPubrec(id)) {
            // answered even for an unknown id, so the client can finish its side of the flow; the session answers
            // known ones itself, once their new state is stored
            send(new Pubrel(id, version.isV5() ? ReasonCode.PACKET_IDENTIFIER_NOT_FOUND : ReasonCode.SUCCESS,
                    MqttProperties.EMPTY));
            requestFlush();
        }
    }

    private void onPublish(Publish p) {
        broker.metrics().publishesReceived.increment();
        if (config().maxPublishRate() > 0) {
            throttle();
        }
        if (p.qos().value() > config().maxQos()) {
            disconnect(ReasonCode.QOS_NOT_SUPPORTED, "PUBLISH at QoS " + p.qos().value() + " above max_qos "
                    + config().maxQos() + " [MQTT-3.2.2-11]");
            return;
        }
        if (p.retain() && !config().retainAvailable()) {
            disconnect(ReasonCode.RETAIN_NOT_SUPPORTED, "retained PUBLISH while retain_available is false "
                    + "[MQTT-3.2.2-14]");
            return;
        }
        String topic = p.topic();
        MqttProperties props = p.properties();
        if (version.isV5() && !props.isEmpty()) {
            if (props.contains(PropertyId.SUBSCRIPTION_IDENTIFIER)) {
                disconnect(ReasonCode.PROTOCOL_ERROR, "PUBLISH from a client with a Subscription Identifier "
                        + "[MQTT-3.3.4-6]");
                return;
            }
            Integer alias = props.getInt(PropertyId.TOPIC_ALIAS);
            if (alias != null) {
                topic = resolveAlias(alias, topic);
                if (topic == null) {
                    return;
                }
            }
        } else if (version.isV5() && topic.isEmpty()) {
            disconnect(ReasonCode.PROTOCOL_ERROR, "PUBLISH with an empty topic and no Topic Alias [MQTT-3.3.2-8]");
            return;
        }
        if (exceedsTopicLimits(topic)) {
            disconnect(ReasonCode.TOPIC_NAME_INVALID, "topic longer than max_topic_length (" + config().maxTopicLength()
                    + " bytes) or deeper than max_topic_levels (" + config().maxTopicLevels() + ")");
            return;
        }
        if (p.qos() != QoS.AT_MOST_ONCE && version.isV5()
                && pendingQos1Acks + session.awaitingPubrelCount() >= config().receiveMaximum()
                && !(p.qos() == QoS.EXACTLY_ONCE && session.isAwaitingPubrel(p.packetId()))) {
            disconnect(ReasonCode.RECEIVE_MAXIMUM_EXCEEDED, "more than Receive Maximum ("
                    + config().receiveMaximum() + ") QoS 1/2 PUBLISHes unacknowledged [MQTT-3.3.4-9]");
            return;
        }
        if (version.isV5() && isUtf8Payload(props) && !Utf8.isWellFormed(p.payload())) {
            String why = "payload is not UTF-8 but its Payload Format Indicator says it is";
            switch (p.qos()) {
                case AT_MOST_ONCE -> disconnect(ReasonCode.PAYLOAD_FORMAT_INVALID, why);
                case AT_LEAST_ONCE -> send(new Puback(p.packetId(), ReasonCode.PAYLOAD_FORMAT_INVALID,
                        problem(why)));
                case EXACTLY_ONCE -> send(new Pubrec(p.packetId(), ReasonCode.PAYLOAD_FORMAT_INVALID,
                        problem(why)));
            }
            requestFlush();
            return;
        }
        String resolved = topic;
        whenAnswered(broker.authorizer().mayPublish(identity, resolved), false, allowed -> {
            if (allowed) {
                route(p, resolved, props);
            } else {
                denyPublish(p, resolved);
            }
        });
    }

    /**
     * A publication the client may not make. MQTT 5: PUBACK/PUBREC 0x87 (QoS 1/2), dropped (QoS 0). MQTT 3.x has no
     * negative acknowledgement: acknowledged as its QoS requires and discarded, the standard's alternative to closing
     * the connection [MQTT-3.3.5-2].
     */
    private void denyPublish(Publish p, String topic) {
        broker.metrics().publishesDenied.increment();
        DENIED_LOG.warn("Client '{}' may not publish to '{}': discarded", clientId, topic);
        int code = version.isV5() ? ReasonCode.NOT_AUTHORIZED : ReasonCode.SUCCESS;
        switch (p.qos()) {
            case AT_MOST_ONCE -> {
            }
            case AT_LEAST_ONCE -> complete(reserveResponse(), new Puback(p.packetId(), code, MqttProperties.EMPTY),
                    null);
            case EXACTLY_ONCE -> {
                if (!version.isV5()) {
                    session.markAwaitingPubrel(p.packetId()); // its PUBREL must still find the flow
                }
                complete(reserveResponse(), new Pubrec(p.packetId(), code, MqttProperties.EMPTY), null);
            }
        }
    }

    private void route(Publish p, String topic, MqttProperties props) {
        Session congested = null;
        switch (p.qos()) {
            case AT_MOST_ONCE -> congested = broker.router().publish(message(p, topic, props), null, null);
            case AT_LEAST_ONCE -> {
                int id = p.packetId();
                Response r = reserveResponse();
                pendingQos1Acks++;
                congested = broker.router().publish(message(p, topic, props), new Router.Origin(session, 0, loop),
                        (matched, quotaExceeded) -> {
                            pendingQos1Acks--;
                            acknowledge(r, quotaExceeded, new Puback(id, ackCode(matched, quotaExceeded),
                                    MqttProperties.EMPTY));
                        });
            }
            case EXACTLY_ONCE -> {
                int id = p.packetId();
                Response r = reserveResponse();
                // a resent PUBLISH whose id still awaits PUBREL was routed already: acknowledge only
                if (!session.markAwaitingPubrel(id)) {
                    complete(r, new Pubrec(id, ReasonCode.SUCCESS, MqttProperties.EMPTY), null);
                    return;
                }
                congested = broker.router().publish(message(p, topic, props), new Router.Origin(session, id, loop),
                        (matched, quotaExceeded) -> acknowledge(r, quotaExceeded,
                                new Pubrec(id, ackCode(matched, quotaExceeded), MqttProperties.EMPTY)));
            }
        }
        if (congested != null) {
            backOff(congested);
        }
    }

    /**
     * A subscriber of this message is falling behind but consuming: stop reading from this publisher for a moment
     * (its later packets wait, in order) instead of queueing more than the subscriber can take and dropping it.
     */
    private void backOff(Session slow) {
        if (throttled) {
            return;
        }
        throttled = true;
        broker.metrics().publishesBackpressured.increment();
        channel.setAutoRead(false);
        loop.schedule(() -> resumeWhenCaughtUp(slow), 1, TimeUnit.MILLISECONDS);
    }

    /** Resumes reading once the slow subscriber caught up (or stopped consuming, which holds nobody back). */
    private void resumeWhenCaughtUp(Session slow) {
        if (state != State.CONNECTED) {
            return;
        }
        if (slow.wantsBackpressure()) {
            loop.schedule(() -> resumeWhenCaughtUp(slow), 1, TimeUnit.MILLISECONDS);
            return;
        }
        throttled = false;
        dispatchParked();
    }

    /**
     * Sends a PUBACK/PUBREC in order. A message that every subscriber's queue refused is a quota problem: MQTT 5 says
     * so with 0x97; MQTT 3.x has no negative acknowledgement, so by {@code queue_overflow_v3_action} the publisher
     * is either acknowledged (the drop is counted) or disconnected.
     */
    private void acknowledge(Response r, boolean quotaExceeded, MqttPacket ack) {
        if (quotaExceeded && !version.isV5() && config().queueOverflowV3Action().equals("disconnect")) {
            disconnect(ReasonCode.QUOTA_EXCEEDED, "subscribers' queues are full (queue_overflow_v3_action disconnect)");
            return;
        }
        complete(r, ack, null);
    }

    /** Topic names and filters beyond the configured size: a client must not fill the broker's tables with them. */
    private boolean exceedsTopicLimits(String topic) {
        int levels = 1;
        for (int i = 0; i < topic.length(); i++) {
            if (topic.charAt(i) == '/') {
                levels++;
            }
        }
        if (levels > config().maxTopicLevels()) {
            return true;
        }
        return topic.length() > config().maxTopicLength() / 3
                && topic.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > config().maxTopicLength();
    }

    /**
     * {@code max_publish_rate}: a client that goes over it is not read from until its budget has refilled, so it
     * slows down instead of crowding out others.
     */
    private void throttle() {
        if (publishRate == null) {
            publishRate = new PublishRateLimit(config().maxPublishRate(), System.nanoTime());
        }
        long waitNanos = publishRate.take(System.nanoTime());
        if (waitNanos > 0 && !throttled) {
            throttled = true;
            broker.metrics().publishesThrottled.increment();
            channel.setAutoRead(false);
            loop.schedule(() -> {
                throttled = false;
                if (state == State.CONNECTED) {
                    dispatchParked();
                }
            }, Math.max(waitNanos, 1_000_000), TimeUnit.NANOSECONDS);
        }
    }

    /** MQTT 5 acknowledgements say when nobody was subscribed (0x10); MQTT 3.x just acknowledges. */
    private int ackCode(int matched, boolean quotaExceeded) {
        if (!version.isV5()) {
            return ReasonCode.SUCCESS;
        }
        if (quotaExceeded) {
            return ReasonCode.QUOTA_EXCEEDED;
        }
        return matched == 0 ? ReasonCode.NO_MATCHING_SUBSCRIBERS : ReasonCode.SUCCESS;
    }

    /** @return the topic the alias stands for (setting it if the PUBLISH names one), or null after disconnecting */
    private String resolveAlias(int alias, String topic) {
        if (inboundAliases == null || !inboundAliases.inRange(alias)) {
            disconnect(ReasonCode.TOPIC_ALIAS_INVALID, "Topic Alias " + alias + " is 0 or above the maximum "
                    + config().maxTopicAlias() + " [MQTT-3.3.2-9][MQTT-3.3.2-10]");
            return null;
        }
        if (!topic.isEmpty()) {
            inboundAliases.set(alias, topic);
            return topic;
        }
        String known = inboundAliases.get(alias);
        if (known == null) {
            disconnect(ReasonCode.PROTOCOL_ERROR, "Topic Alias " + alias + " was never set on this connection");
        }
        return known;
    }

    private Message message(Publish p, String topic, MqttProperties props) {
        return new Message(topic, p.qos(), p.retain(), p.payload(), forwarded(props), clientId,
                System.currentTimeMillis());
    }

    private static boolean isUtf8Payload(MqttProperties props) {
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

    private void onSubscribe(Subscribe subscribe) {
        // ask the authorizer about every well-formed filter first; the answers may take a while
        List<TopicSubscription> requested = subscribe.subscriptions();
        List<CompletableFuture<Boolean>> answers = new ArrayList<>(requested.size());
        for (TopicSubscription ts : requested) {
            answers.add(TopicSyntax.isValidTopicFilter(ts.filter())
                    ? broker.authorizer().maySubscribe(identity, ts.filter()).toCompletableFuture()
                    : CompletableFuture.completedFuture(true));
        }
        CompletionStage<List<Boolean>> all = CompletableFuture.allOf(answers.toArray(new CompletableFuture<?>[0]))
                .thenApply(x -> answers.stream().map(CompletableFuture::join).toList());
        whenAnswered(all, answers.stream().map(a -> false).toList(), allowed -> subscribe(subscribe, allowed));
    }

    private void subscribe(Subscribe subscribe, List<Boolean> allowed) {
        List<TopicSubscription> requested = subscribe.subscriptions();
        int subscriptionId = subscriptionIdentifier(subscribe.properties());
        if (subscriptionId != 0 && !config().subscriptionIdentifierAvailable()) {
            disconnect(ReasonCode.SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED,
                    "Subscription Identifier while subscription_identifier_available is false");
            return;
        }
        List<Integer> codes = new ArrayList<>(requested.size());
        List<Subscription> retainedFor = new ArrayList<>(requested.size());
        List<Subscription> added = new ArrayList<>(requested.size());
        boolean refusedAny = false;
        for (int i = 0; i < requested.size(); i++) {
            TopicSubscription ts = requested.get(i);
            String filter = ts.filter();
            boolean shared = TopicSyntax.isSharedSubscription(filter);
            if (!TopicSyntax.isValidTopicFilter(filter)) {
                codes.add(version.isV5() ? ReasonCode.TOPIC_FILTER_INVALID : ReasonCode.V3_SUBACK_FAILURE);
                refusedAny = true;
                continue;
            }
            if (shared && !config().sharedSubscriptionAvailable()) {
                disconnect(ReasonCode.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED,
                        "shared subscription while shared_subscription_available is false");
                return;
            }
            if (!config().wildcardSubscriptionAvailable() && TopicSyntax.hasWildcard(filter)) {
                disconnect(ReasonCode.WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED,
                        "wildcard subscription while wildcard_subscription_available is false");
                return;
            }
            if (exceedsTopicLimits(filter)) {
                codes.add(version.isV5() ? ReasonCode.TOPIC_FILTER_INVALID : ReasonCode.V3_SUBACK_FAILURE);
                refusedAny = true;
                continue;
            }
            if (!allowed.get(i)) {
                broker.metrics().subscriptionsDenied.increment();
                DENIED_LOG.warn("Client '{}' may not subscribe to '{}'", clientId, filter);
                codes.add(version.isV5() ? ReasonCode.NOT_AUTHORIZED : ReasonCode.V3_SUBACK_FAILURE);
                refusedAny = true;
                continue;
            }
            int maxSubscriptions = config().maxSubscriptionsPerClient();
            if (maxSubscriptions >= 0 && session.subscription(filter) == null
                    && session.subscriptionCount() >= maxSubscriptions) {
                codes.add(version.isV5() ? ReasonCode.QUOTA_EXCEEDED : ReasonCode.V3_SUBACK_FAILURE);
                refusedAny = true;
                continue;
            }
            // the broker may grant less than asked: never above its maximum QoS
            QoS granted = ts.qos().value() > config().maxQos() ? QoS.of(config().maxQos()) : ts.qos();
            Subscription sub = new Subscription(filter, granted, ts.noLocal(), ts.retainAsPublished(),
                    ts.retainHandling(), subscriptionId);
            Subscription previous = session.putSubscription(sub);
            broker.router().subscribe(session, sub);
            added.add(sub);
            codes.add(granted.value());
            // retained messages are not sent when a shared subscription is made (MQTT 5.0 section 4.8.2)
            boolean sendRetained = !shared && switch (ts.retainHandling()) {
                case 0 -> true;
                case 1 -> previous == null;
                default -> false;
            };
            if (sendRetained) {
                retainedFor.add(sub);
            }
        }
        if (refusedAny && version == MqttVersion.MQTT_3_1) {
            disconnect(ReasonCode.UNSPECIFIED_ERROR, "refused a subscription, and MQTT 3.1 has no SUBACK failure code");
            return;
        }
        // routing has the subscriptions already; the SUBACK waits until a stored session has them on disk, and the
        // retained messages follow it, with RETAIN set, on every matching SUBSCRIBE [MQTT-3.3.1-6]
        Response r = reserveResponse();
        Suback suback = new Suback(subscribe.packetId(), codes, MqttProperties.EMPTY);
        session.storeSubscriptions(added, List.of(), () -> complete(r, suback, () -> {
            for (Subscription sub : retainedFor) {
                broker.router().sendRetained(session, sub);
            }
        }));
    }

    private static int subscriptionIdentifier(MqttProperties props) {
        return props.subscriptionIdentifierCount() == 0 ? 0 : props.subscriptionIdentifier(0);
    }

    private void onUnsubscribe(Unsubscribe unsubscribe) {
        List<Integer> codes = version.isV5() ? new ArrayList<>() : List.of();
        List<String> removed = new ArrayList<>();
        for (String filter : unsubscribe.filters()) {
            boolean had = session.removeSubscription(filter) != null;
            if (had) {
                broker.router().unsubscribe(session, filter);
                removed.add(filter);
            }
            if (version.isV5()) {
                codes.add(had ? ReasonCode.SUCCESS : ReasonCode.NO_SUBSCRIPTION_EXISTED);
            }
        }
        // [MQTT-3.10.4-5] UNSUBACK even when nothing was subscribed
        Response r = reserveResponse();
        Unsuback unsuback = new Unsuback(unsubscribe.packetId(), codes, MqttProperties.EMPTY);
        session.storeSubscriptions(List.of(), removed, () -> complete(r, unsuback, null));
    }

    private void onDisconnect(Disconnect disconnect) {
        if (version.isV5()) {
            Long expiry = disconnect.properties().getLong(PropertyId.SESSION_EXPIRY_INTERVAL);
            if (expiry != null) {
                if (requestedSessionExpiry == 0 && expiry != 0) {
                    disconnect(ReasonCode.PROTOCOL_ERROR,
                            "DISCONNECT sets a Session Expiry Interval after CONNECT set 0 (MQTT 5.0 3.14.2.2.2)");
                    return;
                }
                sessionExpiry = Math.min(expiry, config().maxSessionExpiryInterval());
                session.setExpiryInterval(sessionExpiry);
            }
        }
        // [MQTT-3.14.4-3] a normal DISCONNECT discards the will; MQTT 5's 0x04 (and any other reason) keeps it
        if (!version.isV5() || disconnect.reasonCode() == ReasonCode.NORMAL_DISCONNECTION) {
            will = null;
        }
        channel.close();
    }

    // ------------------------------------------------------------------ responses in order

    /**
     * A response to a client packet that may have to wait (for the store, say). Responses go out in the order the
     * packets came in, as MQTT requires of PUBACK and PUBREC [MQTT-4.6.0-2][MQTT-4.6.0-3], whichever is ready first.
     */
    private static final class Response {
        MqttPacket packet;
        Runnable after;
        boolean ready;
    }

    private Response reserveResponse() {
        Response r = new Response();
        if (responses == null) {
            responses = new ArrayDeque<>(4);
        }
        responses.add(r);
        return r;
    }

    /** Fills a reserved response and sends every ready one at the head; {@code after} runs right after sending. */
    private void complete(Response r, MqttPacket packet, Runnable after) {
        if (state == State.CLOSED) {
            return;
        }
        r.packet = packet;
        r.after = after;
        r.ready = true;
        Response head;
        while (responses != null && (head = responses.peek()) != null && head.ready) {
            responses.poll();
            send(head.packet);
            if (head.after != null) {
                head.after.run();
            }
        }
        requestFlush();
    }

    // ------------------------------------------------------------------ SessionConnection

    @Override
    public boolean sendPublish(int packetId, Delivery d, boolean dup) {
        Message m = d.message();
        String topic = m.topic();
        if (!broker.authorizer().mayReceive(identity, topic)) {
            // a wide subscription never delivers a topic this client may not read; dropped as if delivered
            broker.metrics().deliveriesDenied.increment();
            return false;
        }
        MqttProperties props = MqttProperties.EMPTY;
        if (version.isV5()) {
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
        Publish publish = new Publish(topic, d.qos(), d.retain(), dup, packetId, m.payload(), props);
        if (clientMaximumPacketSize != UNLIMITED
                && MqttPacketEncoder.encodedSize(publish, version) > clientMaximumPacketSize) {
            // [MQTT-3.1.2-24]: never send a packet above the client's Maximum Packet Size; the message is dropped
            broker.metrics().oversizedDrops.increment();
            LOG.debug("Message on '{}' dropped for client '{}': larger than its Maximum Packet Size {}", topic,
                    clientId, clientMaximumPacketSize);
            return false;
        }
        if (outboundAliases != null) {
            int known = outboundAliases.known(topic);
            int alias = known > 0 ? known : outboundAliases.next(topic);
            MqttProperties withAlias = props.toBuilder().set(PropertyId.TOPIC_ALIAS, alias).build();
            Publish aliased = new Publish(known > 0 ? "" : topic, d.qos(), d.retain(), dup, packetId, m.payload(),
                    withAlias);
            // the alias must not push the packet past the client's limit: then it goes out without one
            if (clientMaximumPacketSize == UNLIMITED
                    || MqttPacketEncoder.encodedSize(aliased, version) <= clientMaximumPacketSize) {
                if (known == 0) {
                    outboundAliases.assign(topic, alias);
                }
                publish = aliased;
            }
        }
        channel.write(publish);
        broker.metrics().publishesSent.increment();
        return true;
    }

    @Override
    public void sendPubrel(int packetId) {
        send(new Pubrel(packetId));
    }

    @Override
    public void requestFlush() {
        if (!flushPending) {
            flushPending = true;
            loop.execute(this); // run(): one flush for the batch
        }
    }

    /**
     * The flush {@link #requestFlush} asked for. The connection is its own flush task: a separate Runnable would cost
     * every connection another object.
     */
    @Override
    public void run() {
        flushPending = false;
        channel.flush();
    }

    @Override
    public int maxInflight() {
        // the client's Receive Maximum caps what we send unacknowledged [MQTT-3.3.4-9]
        return Math.min(config().maxInflightMessages(), clientReceiveMaximum);
    }

    /**
     * From the transport: the socket's write buffer crossed a water mark. Either way the clock of "not draining"
     * restarts: becoming unwritable starts a backed-up period, becoming writable ends one.
     */
    public void onWritabilityChanged(boolean writable) {
        drainedNanos = System.nanoTime();
    }

    @Override
    public boolean reading() {
        return channel.isWritable() || socketBackedUp();
    }

    @Override
    public boolean socketBackedUp() {
        if (channel.isWritable()) {
            return false;
        }
        // draining is progress: a client that reads, however slowly, holds its publishers back; one that stopped
        // reading altogether does not (the transport drops its QoS 0 messages and disconnects it if it stays stuck)
        long unwritten = channel.unwrittenBytes();
        long now = System.nanoTime();
        if (unwritten < lastUnwritten) {
            drainedNanos = now;
        }
        lastUnwritten = (int) Math.min(unwritten, Integer.MAX_VALUE);
        return now - drainedNanos < 2_000_000_000L;
    }

    @Override
    public void closeTakenOver() {
        LOG.info("Client '{}' taken over by a new connection; closing the old one from {}", clientId,
                channel.remoteAddress());
        if (version.isV5()) {
            send(new Disconnect(ReasonCode.SESSION_TAKEN_OVER, MqttProperties.EMPTY));
        }
        channel.close();
    }

    // ------------------------------------------------------------------ helpers

    /**
     * Writes a packet other than an application PUBLISH, keeping MQTT 5's rules on diagnostics: reason strings and
     * user properties only where the client asked for problem information (CONNACK and DISCONNECT always), and
     * dropped rather than exceed the client's Maximum Packet Size [MQTT-3.1.2-29][MQTT-3.4.2-2].
     */
    private void send(MqttPacket packet) {
        if (version.isV5() && clientMaximumPacketSize != UNLIMITED && hasDiagnostics(packet)
                && MqttPacketEncoder.encodedSize(packet, version) > clientMaximumPacketSize) {
            packet = withoutDiagnostics(packet);
        }
        if (version.isV5() && clientMaximumPacketSize != UNLIMITED && packet instanceof Connack c
                && MqttPacketEncoder.encodedSize(c, version) > clientMaximumPacketSize) {
            // a tiny limit: keep only what the client cannot do without [MQTT-3.1.2-24]
            MqttProperties.Builder b = MqttProperties.builder();
            for (PropertyId id : List.of(PropertyId.ASSIGNED_CLIENT_IDENTIFIER, PropertyId.AUTHENTICATION_METHOD,
                    PropertyId.AUTHENTICATION_DATA)) {
                b.set(id, c.properties().get(id));
            }
            packet = new Connack(c.sessionPresent(), c.reasonCode(), b.build());
        }
        channel.write(packet);
    }

    private static boolean hasDiagnostics(MqttPacket p) {
        MqttProperties props = switch (p.type()) {
            case CONNACK -> ((Connack) p).properties();
            case DISCONNECT -> ((Disconnect) p).properties();
            case PUBACK -> ((Puback) p).properties();
            case PUBREC -> ((Pubrec) p).properties();
            case SUBACK -> ((Suback) p).properties();
            default -> MqttProperties.EMPTY;
        };
        return props.contains(PropertyId.REASON_STRING) || !props.userProperties().isEmpty();
    }

    private static MqttPacket withoutDiagnostics(MqttPacket p) {
        return switch (p.type()) {
            case CONNACK -> {
                Connack c = (Connack) p;
                yield new Connack(c.sessionPresent(), c.reasonCode(), strip(c.properties()));
            }
            case DISCONNECT -> new Disconnect(((Disconnect) p).reasonCode(), strip(((Disconnect) p).properties()));
            case PUBACK -> new Puback(((Puback) p).packetId(), ((Puback) p).reasonCode(), MqttProperties.EMPTY);
            case PUBREC -> new Pubrec(((Pubrec) p).packetId(), ((Pubrec) p).reasonCode(), MqttProperties.EMPTY);
            case SUBACK -> new Suback(((Suback) p).packetId(), ((Suback) p).reasonCodes(), MqttProperties.EMPTY);
            default -> p;
        };
    }

    private static MqttProperties strip(MqttProperties props) {
        return props.toBuilder().set(PropertyId.REASON_STRING, null).clearUserProperties().build();
    }

    /** A reason string for CONNACK or DISCONNECT, which always may carry one. */
    private static MqttProperties reasonString(String why) {
        return MqttProperties.builder().set(PropertyId.REASON_STRING, why).build();
    }

    /** A reason string for other acknowledgements, only if the client asked for problem information. */
    private MqttProperties problem(String why) {
        return requestProblemInformation ? reasonString(why) : MqttProperties.EMPTY;
    }

    private Message willMessage(Will w) {
        return new Message(w.topic(), w.qos(), w.retain(), w.payload(), w.properties().isEmpty() ? w.properties()
                : willForwarded(w.properties()), clientId, System.currentTimeMillis());
    }

    /** Will properties that become the message's properties: all but the will delay. */
    private static MqttProperties willForwarded(MqttProperties props) {
        return props.contains(PropertyId.WILL_DELAY_INTERVAL)
                ? props.toBuilder().set(PropertyId.WILL_DELAY_INTERVAL, null).build() : props;
    }

    private void publishWill(Message m) {
        broker.metrics().willsPublished.increment();
        LOG.debug("Publishing will of '{}' on {}", clientId, m.topic());
        broker.router().publish(m);
    }

    /**
     * Closes the connection for a protocol error or a server decision. MQTT 5 clients get a DISCONNECT with the
     * reason first, but only once CONNACK was sent [MQTT-3.2.0-2]: before it, the connection just closes.
     */
    private void disconnect(int reasonCode, String why) {
        broker.metrics().protocolViolations.increment();
        LOG.info("Closing connection {}{}: {}", channel.remoteAddress(),
                clientId == null ? "" : " of client '" + clientId + "'", why);
        if (version.isV5() && state == State.CONNECTED) {
            send(new Disconnect(reasonCode, reasonString(why)));
        }
        channel.close();
    }

    private void keepAliveTimedOut(long silentNanos) {
        broker.metrics().keepAliveTimeouts.increment();
        LOG.info("Client '{}' sent nothing for {} ms (1.5 x keep alive); closing", clientId,
                TimeUnit.NANOSECONDS.toMillis(silentNanos));
        if (version.isV5() && state == State.CONNECTED) {
            send(new Disconnect(ReasonCode.KEEP_ALIVE_TIMEOUT, MqttProperties.EMPTY));
        }
        channel.close();
    }

    /** For tests and logs. */
    public String clientId() {
        return clientId;
    }
}
