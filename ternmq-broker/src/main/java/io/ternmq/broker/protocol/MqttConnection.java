package io.ternmq.broker.protocol;

import io.netty.util.concurrent.EventExecutor;
import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.extension.ClientDescription;
import io.ternmq.broker.extension.Interceptors;
import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.security.ClientIdentity;
import io.ternmq.broker.session.ConnectionInfo;
import io.ternmq.broker.session.Session;
import io.ternmq.broker.trace.Trace;
import io.ternmq.broker.trace.Traces;
import io.ternmq.broker.session.SessionConnection;
import io.ternmq.codec.Auth;
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
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.Unsubscribe;
import io.ternmq.codec.Will;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The MQTT protocol for one network connection, for MQTT 3.1, 3.1.1 and 5.0: its state, the dispatch of each packet
 * to the flow that handles it ({@link ConnectFlow}, {@link InboundPublishFlow}, {@link SubscribeFlow},
 * {@link OutboundPublishFlow}), the gating of input (packets wait, in order, while an earlier one waits for an
 * answer or the client is held back), the order of responses ({@link ResponseQueue}) and the ways a connection ends.
 * Knows the network only through {@link ClientChannel}; runs entirely on the connection's event loop, which also owns
 * the attached {@link Session}. The flows read and write the package-private state here.
 */
public final class MqttConnection implements SessionConnection, ClientIdentity, Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(MqttConnection.class);
    static final int UNLIMITED = Integer.MAX_VALUE;

    /**
     * AWAIT_CONNECT until CONNECT; AUTHENTICATING while the authenticator decides; ATTACHING while the broker
     * attaches the session (possibly taking it over from another loop); CONNECTED after CONNACK 0.
     */
    private enum State { AWAIT_CONNECT, AUTHENTICATING, ATTACHING, CONNECTED, CLOSED }

    final ClientChannel channel;
    final BrokerContext broker;

    private State state = State.AWAIT_CONNECT;
    MqttVersion version = MqttVersion.MQTT_3_1_1;
    String clientId;
    boolean assignedClientId;
    /**
     * Connected as a bridge (MQTT 3.x protocol level with 0x80, or MQTT 5 with the ternmq-bridge CONNECT user
     * property): its subscriptions get no-local and retain-as-published; only bridges get ternmq-bridge-origin.
     */
    boolean bridge;
    Session session;
    /** Set once CONNECT is authenticated: authorization's {@link #username()}; null for anonymous clients. */
    String username;
    private boolean holdsConnectionSlot;
    private int sessionGeneration;
    private long sessionExpiry;
    private Will will;
    private long connectedAtMillis;
    /** When the socket became unwritable (its write buffer over the high water mark); 0 while it is writable. */
    private long unwritableSinceNanos;

    /** Null until a connection has a CONNECT to handle; afterwards only with enhanced authentication. */
    private ConnectFlow connectFlow;
    /** Null until the first PUBLISH. */
    private InboundPublishFlow inboundPublishes;
    /**
     * Made at the first delivery or write-buffer change after CONNACK: an idle connection never needs one. Written on
     * the loop; volatile because other loops ask {@link #socketBackedUp()}.
     */
    private volatile OutboundPublishFlow outboundPublishes;
    /** Null until the first packet that needs an answer: idle connections never get one. */
    private ResponseQueue responses;

    /** Packets that arrived while input was held, in order. */
    private ArrayDeque<MqttPacket> parked;
    /** Set while a packet waits for an asynchronous authorization answer: later packets wait behind it. */
    private boolean awaitingAnswer;
    /** Set while the client is held back (publish rate, a slow subscriber): later packets wait. */
    private boolean paused;
    private long keepAliveNanos;
    /**
     * Until CONNECT is authenticated, when it and its authentication must be done by; from then on, when the last
     * packet came (what the keep alive measures). One field for both: an idle connection carries each byte.
     */
    private long clockNanos;
    /** Once CONNECT is authenticated, or the deadline has passed: {@link #clockNanos} is no longer the deadline. */
    private boolean connectDeadlineOver;
    /** This connection's place in its loop's {@link LoopConnections}, or -1 once closed. */
    private int slot = -1;
    private boolean flushPending;
    private boolean shuttingDown;
    /** The client sent DISCONNECT: its connection ended gracefully (for lifecycle listeners). */
    private boolean disconnectedByClient;

    // What an MQTT 5 client asked for in CONNECT (3.x clients keep these defaults).
    private int clientReceiveMaximum = 65_535;
    private int clientTopicAliasMaximum;
    int clientMaximumPacketSize = UNLIMITED;
    /** The Session Expiry Interval the CONNECT asked for, before any cap: what DISCONNECT's rule looks at. */
    long requestedSessionExpiry;
    boolean requestProblemInformation = true;

    public MqttConnection(ClientChannel channel, BrokerContext broker) {
        this.channel = channel;
        this.broker = broker;
    }

    /** The connection's event loop; the channel's, not a field: every idle connection would carry the reference. */
    EventExecutor loop() {
        return channel.executor();
    }

    /** Through the context rather than a field: every connection would carry the reference. */
    BrokerConfig config() {
        return broker.config();
    }

    // ------------------------------------------------------------------ events from the transport

    public void onOpen() {
        broker.metrics().connectionsAccepted.increment();
        broker.metrics().connectionsOpen.incrementAndGet();
        // covers CONNECT and its authentication: a backend that never answers cannot hold a connection forever
        clockNanos = System.nanoTime()
                + TimeUnit.SECONDS.toNanos(config().transport().connectTimeoutSeconds());
        slot = LoopConnections.of(loop()).add(this);
    }

    /** Called by this loop's {@link LoopConnections} sweep. */
    void checkDeadline(long now) {
        switch (state) {
            case AWAIT_CONNECT, AUTHENTICATING -> {
                if (!connectDeadlineOver && now - clockNanos >= 0) {
                    connectDeadlineOver = true;
                    int timeout = config().transport().connectTimeoutSeconds();
                    if (state == State.AWAIT_CONNECT) {
                        LOG.info("Connection from {} sent no CONNECT within {} s; closing", channel.remoteAddress(),
                                timeout);
                        channel.close();
                    } else {
                        connectFlow.timedOut(timeout);
                    }
                }
            }
            case ATTACHING, CONNECTED -> {
                long silent = now - clockNanos;
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

    public void onPacket(MqttPacket packet) {
        if (connectDeadlineOver) {
            clockNanos = System.nanoTime();
        }
        switch (state) {
            case AWAIT_CONNECT -> {
                if (packet instanceof Connect connect) {
                    connectFlow = new ConnectFlow(this);
                    connectFlow.onConnect(connect);
                } else {
                    protocolViolation(ReasonCode.PROTOCOL_ERROR, "first packet was " + packet.type()
                            + ", not CONNECT [MQTT-3.1.0-1]");
                }
            }
            case AUTHENTICATING, ATTACHING -> {
                if (packet instanceof Auth auth && state == State.AUTHENTICATING && connectFlow.exchanging()) {
                    connectFlow.onAuthBeforeConnack(auth);
                } else if (packet instanceof Connect) {
                    protocolViolation(ReasonCode.PROTOCOL_ERROR, "second CONNECT [MQTT-3.1.0-2]");
                } else {
                    park(packet); // clients may send before CONNACK; hold packets until the session is attached
                }
            }
            case CONNECTED -> {
                if (awaitingAnswer || paused) {
                    park(packet); // later packets wait behind, in order
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
        if (state == State.AWAIT_CONNECT && ConnectFlow.refusedBrokenConnect(this, failure)) {
            return;
        }
        protocolViolation(failure.reasonCode(), failure.message());
    }

    public void onClosed() {
        if (slot >= 0) {
            LoopConnections.of(loop()).remove(slot);
            slot = -1;
        }
        State previous = state;
        if (previous == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        broker.metrics().connectionsOpen.decrementAndGet();
        if (previous == State.CONNECTED) {
            broker.metrics().clientsConnected.decrementAndGet();
            Trace[] traced = broker.service().traces().active();
            if (traced.length != 0) {
                Traces.disconnected(traced, clientId, channel.remoteAddress(), disconnectedByClient
                        ? "DISCONNECT from the client" : shuttingDown ? "the broker is stopping"
                        : "connection closed without DISCONNECT from the client");
            }
        }
        releaseConnectionSlot();
        if (previous == State.AWAIT_CONNECT || previous == State.AUTHENTICATING) {
            return;
        }
        Will w = will;
        will = null;
        Message willMessage = w == null ? null : ConnectFlow.willMessage(w, clientId);
        long willDelay = w == null ? 0 : ConnectFlow.willDelaySeconds(w, dialect());
        if (shuttingDown) {
            // the broker stopping is not the client failing: the will stays with its stored session and goes out
            // after the restart (the deferral MQTT 5 §3.1.2.5 allows); a session that ends now takes its will along
            if (previous == State.CONNECTED) {
                Session s = session;
                int generation = sessionGeneration;
                Message kept = willMessage;
                s.submit(() -> s.closedByShutdown(this, generation, kept, willDelay));
            }
            return;
        }
        if (willMessage != null && (willDelay == 0 || previous == State.ATTACHING)) {
            // without a delay; or sessionReady() sees CLOSED and finishes the session's side: a delayed will goes now
            broker.service().publishWill(willMessage);
            willMessage = null;
        }
        if (previous == State.ATTACHING) {
            return;
        }
        LOG.debug("Client '{}' disconnected", clientId);
        Interceptors ext = broker.service().interceptors();
        if (ext.lifecycle != null) {
            ext.disconnected(clientInfo(), disconnectedByClient);
        }
        Session s = session;
        int generation = sessionGeneration;
        Message delayedWill = willMessage;
        // the session may have moved to another loop if it was taken over, so go through its inbox
        s.submit(() -> s.closed(this, generation, delayedWill, willDelay));
    }

    /** The broker is stopping: tell MQTT 5 clients why (DISCONNECT 0x8B), then close without publishing wills. */
    public void onServerShutdown() {
        if (state == State.CLOSED) {
            return;
        }
        shuttingDown = true;
        if (state == State.CONNECTED && dialect().isV5()) {
            send(new Disconnect(ReasonCode.SERVER_SHUTTING_DOWN, MqttProperties.EMPTY));
        }
        channel.close();
    }

    /** From the transport: the socket's write buffer crossed a water mark. */
    public void onWritabilityChanged() {
        unwritableSinceNanos = channel.isWritable() ? 0 : System.nanoTime();
        if (state == State.CONNECTED) {
            outbound().writabilityChanged();
        }
    }

    private OutboundPublishFlow outbound() {
        OutboundPublishFlow out = outboundPublishes;
        if (out == null) {
            out = new OutboundPublishFlow(this, clientTopicAliasMaximum);
            outboundPublishes = out;
        }
        return out;
    }

    // ------------------------------------------------------------------ state, for the flows

    /** How this connection's MQTT version says things; from the version, not a field of its own. */
    Dialect dialect() {
        return Dialect.of(version);
    }

    void setVersion(MqttVersion v) {
        version = v;
        channel.setProtocolVersion(v);
    }

    boolean isClosed() {
        return state == State.CLOSED;
    }

    boolean isAuthenticating() {
        return state == State.AUTHENTICATING;
    }

    boolean isConnected() {
        return state == State.CONNECTED;
    }

    /** Takes a place under the broker-wide max_connections. @return false when none is left */
    boolean takeConnectionSlot() {
        if (!broker.connectionLimit().tryAcquire()) {
            return false;
        }
        holdsConnectionSlot = true;
        return true;
    }

    private void releaseConnectionSlot() {
        if (holdsConnectionSlot) {
            holdsConnectionSlot = false;
            broker.connectionLimit().release();
        }
    }

    void authenticating() {
        state = State.AUTHENTICATING;
    }

    /** CONNECT is authenticated and authorized: what the connection will be while the session is attached. */
    void authenticated(Will connectWill, long expiry, int keepAliveSeconds, int receiveMaximum, int topicAliasMaximum) {
        connectDeadlineOver = true;
        clockNanos = System.nanoTime(); // the keep alive, if any, starts now
        will = connectWill;
        sessionExpiry = expiry;
        keepAliveNanos = ConnectFlow.keepAliveNanos(keepAliveSeconds);
        clientReceiveMaximum = receiveMaximum;
        clientTopicAliasMaximum = topicAliasMaximum;
        state = State.ATTACHING;
    }

    /** Runs an asynchronous answer's continuation on this connection's loop. */
    void onLoop(Runnable r) {
        if (loop().inEventLoop()) {
            r.run();
        } else {
            loop().execute(r);
        }
    }

    /**
     * This connection as extensions see it (its client id and user name as they are now). Made per call, for the
     * rare events (connected, disconnected, SUBSCRIBE); {@link InboundPublishFlow} keeps one for its PUBLISHes, so
     * that an idle connection carries no such reference.
     */
    ClientDescription clientInfo() {
        return new ClientDescription(clientId, username, version.level(), channel.remoteAddress(),
                channel.listenerName());
    }

    /** Topic names and filters beyond the configured size: a client must not fill the broker's tables with them. */
    boolean beyondTopicLimits(String topic) {
        return InboundPublishFlow.beyondTopicLimits(config(), topic);
    }

    // ------------------------------------------------------------------ attaching

    @Override
    public boolean sessionReady(Session s, boolean sessionPresent) {
        if (state == State.CLOSED) {
            broker.service().abandoned(s);
            return false;
        }
        session = s;
        sessionGeneration = s.attachGeneration();
        state = State.CONNECTED;
        broker.metrics().clientConnected();
        connectedAtMillis = System.currentTimeMillis();
        MqttProperties connack = connectFlow.connack();
        if (!connectFlow.usesEnhancedAuthentication()) {
            connectFlow = null;
        }
        // MQTT 3.1 has no session-present flag
        boolean present = version != MqttVersion.MQTT_3_1 && sessionPresent;
        send(new Connack(present, ReasonCode.SUCCESS, connack));
        requestFlush();
        Trace[] traced = broker.service().traces().active();
        if (traced.length != 0) {
            Traces.connected(traced, clientId, channel.remoteAddress(), "MQTT " + version + (username == null ? ""
                    : ", user '" + username + "'") + ", session expiry " + sessionExpiry + (present ? ", resumed" : ""));
        }
        LOG.debug("Client '{}' connected from {} (MQTT {}, session expiry {}{})", clientId, channel.remoteAddress(),
                version, sessionExpiry, present ? ", resumed" : "");
        Interceptors ext = broker.service().interceptors();
        if (ext.lifecycle != null) {
            ext.connected(clientInfo());
        }
        loop().execute(this::resumeReading);
        return true;
    }

    private void resumeReading() {
        if (state != State.CONNECTED) {
            return;
        }
        broker.service().attached(session);
        if (!broker.service().autoSubscriptions().isEmpty()) {
            SubscribeFlow.autoSubscribe(this, broker.service().autoSubscriptions());
        }
        dispatchParked();
    }

    // ------------------------------------------------------------------ input gating

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
        while (!awaitingAnswer && !paused && held != null && (p = held.poll()) != null && state == State.CONNECTED) {
            dispatch(p);
        }
        if (!awaitingAnswer && !paused && state == State.CONNECTED) {
            channel.setAutoRead(true);
        }
    }

    /**
     * Runs {@code then} with an asynchronous answer (an authorization backend's): at once if it is already known,
     * else once it comes, holding back the client's later packets meanwhile so that they keep their order.
     */
    <T> void whenAnswered(CompletionStage<T> answer, T onError, Consumer<T> then) {
        CompletableFuture<T> f = answer.toCompletableFuture();
        if (f.isDone() && !awaitingAnswer) {
            then.accept(f.isCompletedExceptionally() ? onError : f.join());
            return;
        }
        awaitingAnswer = true;
        channel.setAutoRead(false);
        f.whenComplete((value, error) -> loop().execute(() -> {
            if (state != State.CONNECTED) {
                return;
            }
            if (error != null) {
                LOG.warn("An answer for client '{}' failed with an error; going on with {}", clientId, onError, error);
            }
            awaitingAnswer = false;
            then.accept(error != null ? onError : value);
            dispatchParked();
        }));
    }

    /** Stops reading from the client (publish rate, backpressure): later packets wait until {@link #resumeInput}. */
    void pauseInput() {
        paused = true;
        channel.setAutoRead(false);
    }

    void resumeInput() {
        paused = false;
        dispatchParked();
    }

    boolean inputPaused() {
        return paused;
    }

    // ------------------------------------------------------------------ after CONNACK

    private void dispatch(MqttPacket packet) {
        switch (packet.type()) {
            case PUBLISH -> inboundPublishes().onPublish((Publish) packet);
            case PUBREL -> inboundPublishes().onPubrel((Pubrel) packet);
            case PUBACK -> session.onPuback(((Puback) packet).packetId());
            case PUBREC -> outbound().onPubrec((Pubrec) packet);
            case PUBCOMP -> session.onPubcomp(((Pubcomp) packet).packetId());
            case SUBSCRIBE -> SubscribeFlow.onSubscribe(this, (Subscribe) packet);
            case UNSUBSCRIBE -> SubscribeFlow.onUnsubscribe(this, (Unsubscribe) packet);
            case PINGREQ -> {
                send(Pingresp.INSTANCE);
                requestFlush();
            }
            case DISCONNECT -> onDisconnect((Disconnect) packet);
            case CONNECT -> protocolViolation(ReasonCode.PROTOCOL_ERROR, "second CONNECT [MQTT-3.1.0-2]");
            case AUTH -> {
                if (connectFlow == null) {
                    protocolViolation(ReasonCode.PROTOCOL_ERROR,
                            "AUTH on a connection that did not use enhanced authentication");
                } else {
                    connectFlow.onAuth((Auth) packet);
                }
            }
            case CONNACK, SUBACK, UNSUBACK, PINGRESP -> protocolViolation(ReasonCode.PROTOCOL_ERROR,
                    packet.type() + " is sent by servers, not clients");
        }
    }

    private InboundPublishFlow inboundPublishes() {
        if (inboundPublishes == null) {
            inboundPublishes = new InboundPublishFlow(this);
        }
        return inboundPublishes;
    }

    private void onDisconnect(Disconnect disconnect) {
        if (dialect().isV5()) {
            Long expiry = disconnect.properties().getLong(PropertyId.SESSION_EXPIRY_INTERVAL);
            if (expiry != null) {
                if (requestedSessionExpiry == 0 && expiry != 0) {
                    protocolViolation(ReasonCode.PROTOCOL_ERROR,
                            "DISCONNECT sets a Session Expiry Interval after CONNECT set 0 (MQTT 5.0 3.14.2.2.2)");
                    return;
                }
                sessionExpiry = config().sessions().mqtt5Expiry(expiry);
                session.setExpiryInterval(sessionExpiry);
            }
        }
        disconnectedByClient = true;
        // [MQTT-3.14.4-3] a normal DISCONNECT discards the will; MQTT 5's 0x04 (and any other reason) keeps it
        if (!dialect().isV5() || disconnect.reasonCode() == ReasonCode.NORMAL_DISCONNECTION) {
            will = null;
        }
        channel.close();
    }

    // ------------------------------------------------------------------ responses

    ResponseQueue.Response reserveResponse() {
        if (responses == null) {
            responses = new ResponseQueue(this::send);
        }
        return responses.reserve();
    }

    /** Fills a reserved response and sends every ready one at the head; {@code after} runs right after sending. */
    void complete(ResponseQueue.Response r, MqttPacket packet, Runnable after) {
        if (state == State.CLOSED) {
            return;
        }
        responses.complete(r, packet, after);
        requestFlush();
    }

    /**
     * Writes a packet other than an application PUBLISH, keeping MQTT 5's rules on diagnostics and the client's
     * Maximum Packet Size ({@link Dialect#fit}).
     */
    void send(MqttPacket packet) {
        channel.write(dialect().fit(packet, clientMaximumPacketSize));
    }

    /** A reason string for an acknowledgement, if the client asked for problem information (MQTT 5). */
    MqttProperties problem(String why) {
        return dialect().problem(why, requestProblemInformation);
    }

    // ------------------------------------------------------------------ SessionConnection

    @Override
    public boolean sendPublish(int packetId, Delivery d, boolean dup) {
        return outbound().send(packetId, d, dup);
    }

    @Override
    public void sendPubrel(int packetId) {
        send(new Pubrel(packetId));
    }

    @Override
    public void requestFlush() {
        if (!flushPending) {
            flushPending = true;
            loop().execute(this); // run(): one flush for the batch
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
        return Math.min(config().queues().maxInflightMessages(), clientReceiveMaximum);
    }

    @Override
    public boolean clientConsuming() {
        OutboundPublishFlow out = outboundPublishes;
        return out != null ? out.clientConsuming() : channel.isWritable() || socketBackedUp();
    }

    @Override
    public boolean socketBackedUp() {
        OutboundPublishFlow out = outboundPublishes;
        // without a flow yet, a full buffer has only just filled: as a fresh flow would, count it as draining
        return out != null ? out.socketBackedUp() : !channel.isWritable();
    }

    @Override
    public void refuseSession(String why) {
        if (state == State.ATTACHING) {
            broker.metrics().takeoversRefused.increment();
            refuse(dialect().serverUnavailable(), why);
        }
    }

    @Override
    public void closeByServer(int reasonCode, String why, boolean publishWill) {
        if (!publishWill) {
            will = null; // an operator may end a client without telling its will's subscribers
        }
        closeByServer(reasonCode, why);
    }

    @Override
    public void closeByServer(int reasonCode, String why) {
        closeByServer(reasonCode, why, null);
    }

    @Override
    public void closeByServer(int reasonCode, String why, String serverReference) {
        LOG.info("Closing the connection of client '{}' from {}: {}", clientId, channel.remoteAddress(), why);
        if (dialect().isV5() && state == State.CONNECTED) {
            send(new Disconnect(reasonCode, serverReference == null ? MqttProperties.EMPTY
                    : MqttProperties.builder().set(PropertyId.SERVER_REFERENCE, serverReference).build()));
        }
        channel.close();
    }

    // ------------------------------------------------------------------ the identity authorization sees

    @Override
    public String clientId() {
        return clientId;
    }

    @Override
    public String username() {
        return username;
    }

    @Override
    public String certificateCommonName() {
        return channel.certificate() == null ? null : channel.certificate().commonName();
    }

    @Override
    public String remoteAddress() {
        return channel.remoteAddress();
    }

    @Override
    public String listener() {
        return channel.listenerName();
    }

    @Override
    public int protocolLevel() {
        return version.level();
    }

    @Override
    public ConnectionInfo info() {
        long unwritable = unwritableSinceNanos;
        return new ConnectionInfo(channel.remoteAddress(), channel.listenerName(),
                username, version.level(), connectedAtMillis, maxInflight(),
                unwritable == 0 ? 0 : Math.max(1, (System.nanoTime() - unwritable) / 1_000_000),
                channel.transport(), channel.addressVia(), channel.messagesReceived(), channel.messagesSent(),
                channel.bytesReceived(), channel.bytesSent());
    }

    // ------------------------------------------------------------------ the ways a connection ends

    /** Refuses the CONNECT: a CONNACK with the reason, then the close. */
    void refuse(int returnCode, String why) {
        refuse(returnCode, why, dialect().reasonString(why));
    }

    /** Refuses the CONNECT with these CONNACK properties (a reason string, a Server Reference). */
    void refuse(int returnCode, String why, MqttProperties connack) {
        LOG.info("Connection from {}{} refused: {}", channel.remoteAddress(),
                clientId == null ? "" : " (client '" + clientId + "')", why);
        broker.metrics().connectsRefused.increment();
        send(new Connack(false, returnCode, connack));
        state = State.CLOSED;
        broker.metrics().connectionsOpen.decrementAndGet();
        releaseConnectionSlot();
        channel.close();
    }

    /**
     * Closes the connection because the client broke the protocol (counted in {@code protocolViolations}). MQTT 5
     * clients get a DISCONNECT with the reason first, but only once CONNACK was sent [MQTT-3.2.0-2].
     */
    void protocolViolation(int reasonCode, String why) {
        broker.metrics().protocolViolations.increment();
        close(reasonCode, why);
    }

    /**
     * Closes the connection for a decision of the server's: a limit, a quota, a failed re-authentication (counted in
     * {@code serverDisconnects}, not as the client's fault).
     */
    void endConnection(int reasonCode, String why) {
        broker.metrics().serverDisconnects.increment();
        close(reasonCode, why);
    }

    private void close(int reasonCode, String why) {
        LOG.info("Closing connection {}{}: {}", channel.remoteAddress(),
                clientId == null ? "" : " of client '" + clientId + "'", why);
        if (dialect().isV5() && state == State.CONNECTED) {
            send(new Disconnect(reasonCode, dialect().reasonString(why)));
        }
        channel.close();
    }

    private void keepAliveTimedOut(long silentNanos) {
        broker.metrics().keepAliveTimeouts.increment();
        LOG.info("Client '{}' sent nothing for {} ms (1.5 x keep alive); closing", clientId,
                TimeUnit.NANOSECONDS.toMillis(silentNanos));
        if (dialect().isV5() && state == State.CONNECTED) {
            send(new Disconnect(ReasonCode.KEEP_ALIVE_TIMEOUT, MqttProperties.EMPTY));
        }
        channel.close();
    }
}
