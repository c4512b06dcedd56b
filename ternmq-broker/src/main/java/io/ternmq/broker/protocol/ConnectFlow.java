package io.ternmq.broker.protocol;

import io.ternmq.broker.extension.ClientDescription;
import io.ternmq.broker.extension.ConnectDecision;
import io.ternmq.broker.extension.InterceptorChain;
import io.ternmq.broker.extension.Interceptors;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.security.AuthExchange;
import io.ternmq.broker.security.AuthRequest;
import io.ternmq.broker.security.AuthResult;
import io.ternmq.broker.security.AuthStep;
import io.ternmq.broker.security.EnhancedAuthenticator;
import io.ternmq.broker.session.Session;
import io.ternmq.broker.session.SessionRequest;
import io.ternmq.codec.Auth;
import io.ternmq.codec.Connect;
import io.ternmq.codec.DecodeFailure;
import io.ternmq.codec.PacketType;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Utf8;
import io.ternmq.codec.Will;
import io.ternmq.extension.api.ConnectInboundInterceptor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * CONNECT up to the session request: the client identifier, keep alive and will checks, authentication (plain,
 * MQTT 5 enhanced authentication with its AUTH exchange, and re-authentication after CONNACK), the will's
 * authorization, and what CONNACK will tell the client. Created for a connection's CONNECT; kept afterwards only
 * when enhanced authentication was used, for re-authentication. Runs on the connection's loop; asynchronous answers
 * come back to it.
 */
final class ConnectFlow {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectFlow.class);
    /** MQTT 3.1 limits client identifiers to 1..23 characters. */
    private static final int MQTT_3_1_MAX_CLIENT_ID_LENGTH = 23;

    private final MqttConnection c;

    // MQTT 5 enhanced authentication (section 4.12): the method named in CONNECT and the exchange under way.
    private String authMethod;
    private AuthExchange authExchange;
    private Connect pendingConnect;
    private byte[] authSuccessData;
    /** The CONNACK's properties, decided with the session request and sent once the session is attached. */
    private MqttProperties connack = MqttProperties.EMPTY;

    ConnectFlow(MqttConnection connection) {
        this.c = connection;
    }

    MqttProperties connack() {
        return connack;
    }

    /** Whether the client authenticated with an MQTT 5 method, so that it may re-authenticate. */
    boolean usesEnhancedAuthentication() {
        return authMethod != null;
    }

    void onConnect(Connect connect) {
        MqttVersion version = connect.version();
        c.setVersion(version);
        if (version.isV5()) {
            // known before any answer, so that even a refusing CONNACK respects it [MQTT-3.1.2-24]
            Long maxPacket = connect.properties().getLong(PropertyId.MAXIMUM_PACKET_SIZE);
            c.clientMaximumPacketSize = maxPacket == null ? MqttConnection.UNLIMITED
                    : (int) Math.min(maxPacket, MqttConnection.UNLIMITED);
            Long requested = connect.properties().getLong(PropertyId.SESSION_EXPIRY_INTERVAL);
            c.requestedSessionExpiry = requested == null ? 0 : requested;
        }
        InterceptorChain<ConnectInboundInterceptor, ConnectDecision> extensions =
                c.broker.service().interceptors().connectInbound;
        if (extensions == null) {
            accept(connect);
            return;
        }
        // later packets wait (parked, in order) while the extensions decide, as during authentication
        c.authenticating();
        c.channel.setAutoRead(false);
        extensions.run(new ConnectDecision(connect, c.channel.remoteAddress(), c.channel.listenerName(), c.loop()),
                this::intercepted);
    }

    /** The extensions' decision about the CONNECT, on the connection's loop. */
    private void intercepted(ConnectDecision d) {
        if (!c.isAuthenticating()) {
            return; // closed (or timed out) meanwhile
        }
        if (!d.refused()) {
            accept(d.connect());
            return;
        }
        MqttProperties props = MqttProperties.EMPTY;
        if (c.dialect().isV5()) {
            MqttProperties.Builder b = MqttProperties.builder();
            if (d.refusalReason() != null) {
                b.set(PropertyId.REASON_STRING, d.refusalReason());
            }
            if (d.serverReference() != null) {
                b.set(PropertyId.SERVER_REFERENCE, d.serverReference());
            }
            props = b.build();
        }
        c.refuse(c.dialect().connackRefusal(d.refusalCode()), "refused by an extension (0x"
                + Integer.toHexString(d.refusalCode()) + (d.serverReference() == null ? "" : ", server reference '"
                + d.serverReference() + "'") + (d.refusalReason() == null ? "" : ": " + d.refusalReason()) + ")",
                props);
    }

    /** The CONNECT as the broker takes it (after the extensions changed it, if any). */
    private void accept(Connect connect) {
        MqttVersion version = connect.version();
        String id = connect.clientId();
        boolean assigned = false;
        if (id.isEmpty()) {
            if (version == MqttVersion.MQTT_3_1) {
                c.refuse(ReasonCode.V3_IDENTIFIER_REJECTED, "MQTT 3.1 requires a client identifier");
                return;
            }
            if (!connect.cleanStart() && !version.isV5()) {
                c.refuse(ReasonCode.V3_IDENTIFIER_REJECTED,
                        "empty client identifier without clean session [MQTT-3.1.3-8]");
                return;
            }
            if (!c.config().sessions().allowZeroLengthClientId()) {
                c.refuse(c.dialect().identifierRejected(), "empty client identifier (allow_zero_length_clientid is "
                        + "false)");
                return;
            }
            id = c.config().sessions().autoIdPrefix() + UUID.randomUUID();
            assigned = true;
        } else if (version == MqttVersion.MQTT_3_1 && id.length() > MQTT_3_1_MAX_CLIENT_ID_LENGTH) {
            c.refuse(ReasonCode.V3_IDENTIFIER_REJECTED, "MQTT 3.1 client identifiers are at most 23 characters");
            return;
        }
        if (!assigned && c.broker.service().isReservedClientId(id)) {
            c.refuse(c.dialect().identifierRejected(), "client identifier '" + id + "' is a bridge's local_clientid");
            return;
        }
        c.clientId = id;
        c.assignedClientId = assigned;
        // a bridge: 3.x level with 0x80, or a TernMQ bridge at MQTT 5 saying so in a user property
        c.bridge = connect.bridge() || (version.isV5()
                && io.ternmq.broker.bridge.BridgeOrigins.announcedIn(connect.properties()));
        int keepAlive = connect.keepAliveSeconds();
        int maxKeepAlive = c.config().mqtt().maxKeepAlive();
        if (!version.isV5() && (keepAlive > maxKeepAlive || (keepAlive == 0 && maxKeepAlive < 65_535))) {
            // MQTT 3.x cannot be told another keep alive; refuse as Mosquitto does
            c.refuse(ReasonCode.V3_IDENTIFIER_REJECTED, "keep alive " + keepAlive + " s is above max_keepalive "
                    + maxKeepAlive + " s");
            return;
        }
        if (!checkWill(connect.will())) {
            return;
        }
        if (!c.takeConnectionSlot()) {
            c.refuse(c.dialect().connectionQuotaExceeded(), "max_connections (" + c.config().security().maxConnections()
                    + ") reached");
            return;
        }
        c.authenticating();
        String method = version.isV5() ? connect.properties().getString(PropertyId.AUTHENTICATION_METHOD) : null;
        if (method != null) {
            startEnhancedAuthentication(connect, method);
            return;
        }
        c.channel.setAutoRead(false);
        c.broker.authenticator()
                .authenticate(new AuthRequest(id, connect.username(), connect.password(), c.channel.remoteAddress(),
                        version, c.channel.certificate()))
                .whenComplete((result, error) -> c.onLoop(() -> authenticated(connect, result, error)));
    }

    /** Refuses a will the broker cannot honour, with the code MQTT 5 defines for it. @return true if acceptable */
    private boolean checkWill(Will w) {
        if (w == null) {
            return true;
        }
        if (c.beyondTopicLimits(w.topic())) {
            c.refuse(c.dialect().willRefused(ReasonCode.TOPIC_NAME_INVALID),
                    "will topic beyond max_topic_length or max_topic_levels");
            return false;
        }
        if (w.qos().value() > c.config().mqtt().maxQos()) {
            // [MQTT-3.2.2-12]
            c.refuse(c.dialect().willRefused(ReasonCode.QOS_NOT_SUPPORTED),
                    "will QoS " + w.qos().value() + " above max_qos " + c.config().mqtt().maxQos());
            return false;
        }
        if (w.retain() && !c.config().mqtt().retainAvailable()) {
            // [MQTT-3.2.2-13]
            c.refuse(c.dialect().willRefused(ReasonCode.RETAIN_NOT_SUPPORTED),
                    "retained will while retain_available is false");
            return false;
        }
        if (c.dialect().isV5() && InboundPublishFlow.isUtf8Payload(w.properties()) && !Utf8.isWellFormed(w.payload())) {
            c.refuse(ReasonCode.PAYLOAD_FORMAT_INVALID, "will payload is not UTF-8 but says it is");
            return false;
        }
        return true;
    }

    // ------------------------------------------------------------------ enhanced authentication (MQTT 5)

    private void startEnhancedAuthentication(Connect connect, String method) {
        EnhancedAuthenticator authenticator = c.broker.enhancedAuthenticators().get(method);
        if (authenticator == null) {
            c.refuse(ReasonCode.BAD_AUTHENTICATION_METHOD, "unsupported authentication method '" + method + "'");
            return;
        }
        authMethod = method;
        pendingConnect = connect;
        authExchange = authenticator.start(new AuthRequest(c.clientId, connect.username(), connect.password(),
                c.channel.remoteAddress(), c.version, c.channel.certificate()));
        exchangeStep(connect.properties().getBinary(PropertyId.AUTHENTICATION_DATA), false);
    }

    /** Feeds client data to the exchange and acts on the answer, on the connection's loop. */
    private void exchangeStep(byte[] clientData, boolean reauthentication) {
        AuthExchange exchange = authExchange;
        exchange.respond(clientData).whenComplete((step, error) ->
                c.onLoop(() -> onAuthStep(exchange, step, error, reauthentication)));
    }

    private void onAuthStep(AuthExchange exchange, AuthStep step, Throwable error, boolean reauthentication) {
        if (exchange != authExchange || c.isClosed()) {
            return; // closed, or superseded, meanwhile
        }
        if (error != null) {
            LOG.warn("Enhanced authentication of client '{}' failed with an error", c.clientId, error);
            step = AuthStep.failure(ReasonCode.UNSPECIFIED_ERROR);
        }
        MqttProperties.Builder props = MqttProperties.builder().set(PropertyId.AUTHENTICATION_METHOD, authMethod);
        if (step.data() != null) {
            props.set(PropertyId.AUTHENTICATION_DATA, step.data());
        }
        switch (step.outcome()) {
            case CONTINUE -> {
                c.send(new Auth(ReasonCode.CONTINUE_AUTHENTICATION, props.build()));
                c.requestFlush();
            }
            case SUCCESS -> {
                authExchange = null;
                if (reauthentication) {
                    c.send(new Auth(ReasonCode.SUCCESS, props.build()));
                    c.requestFlush();
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
                    c.endConnection(step.reasonCode(), "re-authentication failed");
                } else {
                    c.broker.metrics().authFailed.increment();
                    authenticationFailed(pendingConnect == null ? null : pendingConnect.username(),
                            step.reasonCode());
                    c.refuse(step.reasonCode(), "enhanced authentication (" + authMethod + ") failed");
                }
            }
        }
    }

    /** Whether an AUTH exchange is under way before CONNACK: an AUTH from the client answers it. */
    boolean exchanging() {
        return authExchange != null;
    }

    /** AUTH from the client before CONNACK: its answer to our challenge. */
    void onAuthBeforeConnack(Auth auth) {
        if (auth.reasonCode() != ReasonCode.CONTINUE_AUTHENTICATION
                || !authMethod.equals(auth.properties().getString(PropertyId.AUTHENTICATION_METHOD))) {
            authExchange = null;
            c.refuse(ReasonCode.PROTOCOL_ERROR, "AUTH before CONNACK must continue the same authentication method");
            return;
        }
        exchangeStep(auth.properties().getBinary(PropertyId.AUTHENTICATION_DATA), false);
    }

    /** AUTH after CONNACK: a re-authentication, started with 0x19 and continued with 0x18. */
    void onAuth(Auth auth) {
        String method = auth.properties().getString(PropertyId.AUTHENTICATION_METHOD);
        if (authMethod == null || !authMethod.equals(method)) {
            c.protocolViolation(ReasonCode.PROTOCOL_ERROR, authMethod == null
                    ? "AUTH on a connection that did not use enhanced authentication"
                    : "re-authentication must use the CONNECT's method '" + authMethod + "'");
            return;
        }
        byte[] data = auth.properties().getBinary(PropertyId.AUTHENTICATION_DATA);
        if (auth.reasonCode() == ReasonCode.RE_AUTHENTICATE) {
            // the same user as at CONNECT: a re-authentication must not become someone else
            authExchange = c.broker.enhancedAuthenticators().get(authMethod).start(new AuthRequest(c.clientId,
                    c.username, null, c.channel.remoteAddress(), c.version,
                    c.channel.certificate()));
            exchangeStep(data, true);
        } else if (auth.reasonCode() == ReasonCode.CONTINUE_AUTHENTICATION && authExchange != null) {
            exchangeStep(data, true);
        } else {
            c.protocolViolation(ReasonCode.PROTOCOL_ERROR, "unexpected AUTH reason code 0x"
                    + Integer.toHexString(auth.reasonCode()));
        }
    }

    // ------------------------------------------------------------------ after authentication

    private void authenticated(Connect connect, AuthResult result, Throwable error) {
        if (!c.isAuthenticating()) {
            return; // closed meanwhile
        }
        if (error != null) {
            LOG.warn("Authentication of client '{}' failed with an error; refusing it", c.clientId, error);
            result = AuthResult.SERVER_UNAVAILABLE;
        }
        if (result != AuthResult.ACCEPTED) {
            c.broker.metrics().authFailed.increment();
            authenticationFailed(connect.username(), result.connackCode(MqttVersion.MQTT_5));
            c.refuse(result.connackCode(c.version), "authentication: " + result);
            return;
        }
        c.broker.metrics().authSucceeded.increment();
        c.username = connect.username();
        if (connect.will() != null) {
            // the will is a publication like any other: it needs the right to publish on its topic
            c.broker.authorizer().mayPublish(c, connect.will().topic()).whenComplete((ok, failure) -> {
                boolean allowed = ok != null && ok && failure == null;
                c.onLoop(() -> willAuthorized(connect, allowed));
            });
            return;
        }
        requestSession(connect);
    }

    /** Tells the extensions' lifecycle listeners, if any. */
    private void authenticationFailed(String username, int v5Code) {
        Interceptors ext = c.broker.service().interceptors();
        if (ext.lifecycle != null) {
            ext.authenticationFailed(new ClientDescription(c.clientId, username, c.version.level(),
                    c.channel.remoteAddress(), c.channel.listenerName()), v5Code);
        }
    }

    private void willAuthorized(Connect connect, boolean allowed) {
        if (!c.isAuthenticating()) {
            return;
        }
        if (!allowed) {
            c.refuse(c.dialect().notAuthorized(), "not authorized to publish its will on '" + connect.will().topic()
                    + "'");
            return;
        }
        requestSession(connect);
    }

    /** Authenticated and authorized: settles what the connection will be and asks the broker for the session. */
    private void requestSession(Connect connect) {
        MqttProperties props = connect.properties();
        long sessionExpiry;
        int clientReceiveMaximum = 65_535;
        int clientTopicAliasMaximum = 0;
        if (c.dialect().isV5()) {
            Long expiry = props.getLong(PropertyId.SESSION_EXPIRY_INTERVAL);
            sessionExpiry = c.config().sessions().mqtt5Expiry(expiry == null ? 0 : expiry);
            Integer receiveMaximum = props.getInt(PropertyId.RECEIVE_MAXIMUM);
            clientReceiveMaximum = receiveMaximum == null ? 65_535 : receiveMaximum;
            Integer problems = props.getInt(PropertyId.REQUEST_PROBLEM_INFORMATION);
            c.requestProblemInformation = problems == null || problems == 1;
            Integer aliasMax = props.getInt(PropertyId.TOPIC_ALIAS_MAXIMUM);
            clientTopicAliasMaximum = aliasMax == null ? 0 : aliasMax;
        } else {
            // MQTT 3.x: a persistent session lasts until persistent_client_expiration (without it, forever), a clean
            // one ends with the connection
            sessionExpiry = connect.cleanStart() ? 0 : c.config().sessions().capExpiry(Session.NEVER_EXPIRES);
        }
        int keepAlive = connect.keepAliveSeconds();
        int maxKeepAlive = c.config().mqtt().maxKeepAlive();
        if (c.dialect().isV5() && (keepAlive > maxKeepAlive || keepAlive == 0 && maxKeepAlive < 65_535)) {
            keepAlive = maxKeepAlive; // announced as Server Keep Alive [MQTT-3.2.2-21]
        }
        connack = c.dialect().isV5() ? connackProperties(connect, keepAlive, sessionExpiry) : MqttProperties.EMPTY;
        c.authenticated(connect.will(), sessionExpiry, keepAlive, clientReceiveMaximum, clientTopicAliasMaximum);
        Will will = connect.will();
        Message willMessage = will == null ? null : willMessage(will, c.clientId);
        c.broker.service().connect(new SessionRequest(c.clientId, connect.cleanStart(), sessionExpiry,
                c.version.level(), willMessage, will == null ? 0 : willDelaySeconds(will, c.dialect())), c.loop(), c);
    }

    private MqttProperties connackProperties(Connect connect, int keepAlive, long sessionExpiry) {
        MqttProperties.Builder b = MqttProperties.builder();
        Long requested = connect.properties().getLong(PropertyId.SESSION_EXPIRY_INTERVAL);
        if (requested != null && requested != sessionExpiry) {
            b.set(PropertyId.SESSION_EXPIRY_INTERVAL, sessionExpiry);
        }
        if (c.config().mqtt().receiveMaximum() < 65_535) {
            b.set(PropertyId.RECEIVE_MAXIMUM, c.config().mqtt().receiveMaximum());
        }
        if (c.config().mqtt().maxQos() < 2) {
            b.set(PropertyId.MAXIMUM_QOS, c.config().mqtt().maxQos());
        }
        if (!c.config().mqtt().retainAvailable()) {
            b.set(PropertyId.RETAIN_AVAILABLE, 0);
        }
        b.set(PropertyId.MAXIMUM_PACKET_SIZE, (long) c.config().mqtt().maxPacketSize());
        if (c.assignedClientId) {
            b.set(PropertyId.ASSIGNED_CLIENT_IDENTIFIER, c.clientId);
        }
        if (c.config().mqtt().maxTopicAlias() > 0) {
            b.set(PropertyId.TOPIC_ALIAS_MAXIMUM, c.config().mqtt().maxTopicAlias());
        }
        if (!c.config().mqtt().wildcardSubscriptionAvailable()) {
            b.set(PropertyId.WILDCARD_SUBSCRIPTION_AVAILABLE, 0);
        }
        if (!c.config().mqtt().subscriptionIdentifierAvailable()) {
            b.set(PropertyId.SUBSCRIPTION_IDENTIFIER_AVAILABLE, 0);
        }
        if (!c.config().mqtt().sharedSubscriptionAvailable()) {
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
        if (wantsResponseInfo != null && wantsResponseInfo == 1 && !c.config().mqtt().responseInformation().isEmpty()) {
            b.set(PropertyId.RESPONSE_INFORMATION, c.config().mqtt().responseInformation() + c.clientId);
        }
        return b.build();
    }

    /** The will as the message it becomes: its properties, all but the will delay, travel with it. */
    static Message willMessage(Will w, String clientId) {
        MqttProperties props = w.properties();
        if (props.contains(PropertyId.WILL_DELAY_INTERVAL)) {
            props = props.toBuilder().set(PropertyId.WILL_DELAY_INTERVAL, null).build();
        }
        return new Message(w.topic(), w.qos(), w.retain(), w.payload(), props, clientId, System.currentTimeMillis());
    }

    /** MQTT 5's Will Delay Interval; 0 without one, and always for MQTT 3.x. */
    static long willDelaySeconds(Will w, Dialect dialect) {
        Long delay = dialect.isV5() ? w.properties().getLong(PropertyId.WILL_DELAY_INTERVAL) : null;
        return delay == null ? 0 : delay;
    }

    /**
     * A CONNECT the decoder could not read: [MQTT-3.1.2-2] an unsupported protocol version gets CONNACK 0x01 in the
     * 3.1.1 format, which every version understands; a broken 5.0 CONNECT a 5.0 CONNACK with the reason
     * [MQTT-4.13.1-1]. Counted as a protocol violation. @return false if neither applies
     */
    static boolean refusedBrokenConnect(MqttConnection c, DecodeFailure failure) {
        if (failure.unsupportedProtocolVersion()) {
            c.broker.metrics().protocolViolations.increment();
            c.refuse(ReasonCode.V3_UNACCEPTABLE_PROTOCOL_VERSION, failure.message());
            return true;
        }
        if (failure.version() == MqttVersion.MQTT_5 && failure.packetType() == PacketType.CONNECT) {
            c.broker.metrics().protocolViolations.increment();
            c.setVersion(MqttVersion.MQTT_5);
            c.refuse(failure.reasonCode(), failure.message());
            return true;
        }
        return false;
    }

    /** The connect deadline passed while the authenticator had not answered. */
    void timedOut(int timeoutSeconds) {
        c.refuse(c.dialect().serverUnavailable(), "authentication did not answer within connect_timeout ("
                + timeoutSeconds + " s)");
    }

    static long keepAliveNanos(int keepAliveSeconds) {
        // [MQTT-3.1.2-24] disconnect after one and a half keep-alive periods of silence
        return keepAliveSeconds > 0 ? TimeUnit.SECONDS.toNanos(keepAliveSeconds) * 3 / 2 : 0;
    }
}
