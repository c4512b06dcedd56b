package io.ternmq.broker.bridge;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.ScheduledFuture;
import io.ternmq.broker.config.BridgeSettings;
import io.ternmq.broker.config.BridgeTopic;
import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.metrics.RateLimitedLog;
import io.ternmq.broker.routing.Router;
import io.ternmq.broker.routing.TopicMatch;
import io.ternmq.broker.security.Authorizer;
import io.ternmq.broker.security.ClientIdentity;
import io.ternmq.broker.service.BrokerService;
import io.ternmq.broker.session.ConnectionInfo;
import io.ternmq.broker.session.Session;
import io.ternmq.broker.session.SessionConnection;
import io.ternmq.broker.session.SessionRequest;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.DecodeFailure;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttDecoder;
import io.ternmq.codec.MqttEncoder;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Pingreq;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Pubcomp;
import io.ternmq.codec.Publish;
import io.ternmq.codec.Pubrec;
import io.ternmq.codec.Pubrel;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import io.ternmq.codec.Will;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One bridge ({@code connection} section): a client connection to a remote broker, made and remade on one broker
 * event loop, which owns every field here.
 *
 * <p>The outgoing side is the bridge's session on this broker ({@code local_clientid}, which no client may take):
 * persistent, subscribed to the {@code out}/{@code both} topics with no-local, so while the remote broker is away
 * its stored queue is the buffer (bounded by {@code bridge_max_queued_*}, surviving restarts). While connected, an
 * {@link Outlet} is attached to that session as its connection: the session's outbox sends through it, within
 * {@code min(bridge_max_inflight, remote Receive Maximum)}, and what was in flight is resent with DUP on the next
 * connection. The incoming side subscribes on the remote broker (MQTT 5: no-local, retain-as-published) and routes
 * what arrives through {@link BrokerService#publish} with the bridge's client id as publisher.
 */
public final class Bridge {
    private static final Logger LOG = LoggerFactory.getLogger(Bridge.class);
    private static final RateLimitedLog HOP_LOG = new RateLimitedLog(LOG, 10_000);
    private static final RateLimitedLog DENY_LOG = new RateLimitedLog(LOG, 10_000);
    /** Seconds the remote broker has to answer CONNECT (and the TLS handshake before it). */
    private static final int CONNACK_TIMEOUT_SECONDS = 30;
    private static final int SUBSCRIBE_PACKET_ID = 1;

    private final BridgeSettings settings;
    private final BrokerService service;
    private final BrokerMetrics metrics;
    private final EventLoop loop;
    private final Class<? extends Channel> channelClass;
    /** Resolves the remote's name off the event loop (InetAddress blocks). */
    private final Executor resolver;
    private final int maxPacketSize;
    /** The access rules of local_username (the first listener's acl_file or plugin); allows all without it. */
    private final Authorizer authorizer;
    /** Who the bridge is to the authorizer: local_clientid with local_username. */
    private final ClientIdentity identity;
    private final SslContext ssl;
    private final List<BridgeTopic> outTopics = new ArrayList<>();
    private final List<String[]> outFilters = new ArrayList<>();
    private final List<BridgeTopic> inTopics = new ArrayList<>();
    private final List<String[]> inFilters = new ArrayList<>();

    // event-loop state
    private boolean stopped;
    private boolean localCleanStartPending;
    private Outlet outlet;
    private int addressIndex;
    private int failures;
    private ScheduledFuture<?> reconnect;
    /** Written on the loop, read anywhere (a hint for listings and tests). */
    private volatile String state = "starting";

    public Bridge(BridgeSettings settings, BrokerService service, BrokerMetrics metrics, EventLoop loop,
                  Class<? extends Channel> channelClass, Executor resolver, int brokerMaxPacketSize,
                  Authorizer authorizer) {
        this.authorizer = settings.localUsername() == null ? Authorizer.ALLOW_ALL : authorizer;
        this.identity = ClientIdentity.of(settings.localClientId(), settings.localUsername(), null, "bridge",
                "bridge " + settings.name());
        this.settings = settings;
        this.service = service;
        this.metrics = metrics;
        this.loop = loop;
        this.channelClass = channelClass;
        this.resolver = resolver;
        this.maxPacketSize = settings.maxPacketSize() > 0 ? settings.maxPacketSize() : brokerMaxPacketSize;
        this.ssl = settings.tls() == null ? null : clientTls(settings.tls());
        this.localCleanStartPending = settings.localCleanSession();
        for (BridgeTopic t : settings.topics()) {
            if (t.direction().outgoing()) {
                outTopics.add(t);
                outFilters.add(TopicMatch.levels(t.localTopic()));
            }
            if (t.direction().incoming()) {
                inTopics.add(t);
                inFilters.add(TopicMatch.levels(t.remoteTopic()));
            }
        }
    }

    private static SslContext clientTls(BridgeSettings.Tls tls) {
        try {
            SslContextBuilder b = SslContextBuilder.forClient().trustManager(tls.caFile().toFile())
                    .protocols(tls.minVersion() == io.ternmq.broker.config.TlsSettings.Version.TLS_1_3
                            ? new String[]{"TLSv1.3"} : new String[]{"TLSv1.3", "TLSv1.2"});
            if (tls.certFile() != null) {
                b.keyManager(tls.certFile().toFile(), tls.keyFile().toFile());
            }
            if (tls.alpn() != null) {
                b.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, tls.alpn()));
            }
            return b.build();
        } catch (javax.net.ssl.SSLException | RuntimeException e) {
            throw new IllegalArgumentException("bridge TLS files cannot be used: " + e.getMessage(), e);
        }
    }

    public String name() {
        return settings.name();
    }

    public BridgeSettings settings() {
        return settings;
    }

    /** "connected", "connecting", "waiting" (to reconnect) or "stopped"; a hint from any thread. */
    public String state() {
        return state;
    }

    /**
     * Starts the bridge: its session subscribes to the outgoing topics at once (so messages queue from now on, the
     * remote broker reachable or not), then the first connection attempt.
     */
    public void start() {
        if (settings.notifications()) {
            publishStateLocally(false);
        }
        loop.execute(() -> attach(new Parking()));
    }

    // ------------------------------------------------------------------ the local session

    /**
     * Attaches a connection to the bridge's session (a {@link Parking} at start, then an {@link Outlet} per remote
     * connection). With {@code local_cleansession} the first attach starts the session afresh.
     */
    private void attach(SessionConnection c) {
        boolean clean = localCleanStartPending;
        localCleanStartPending = false;
        service.connect(new SessionRequest(settings.localClientId(), clean, Session.NEVER_EXPIRES, 5, null, 0),
                loop, c);
    }

    /** The subscriptions of the bridge's session: those of the configured outgoing topics, and no others. */
    private void subscribeOutgoing(Session session) {
        List<Subscription> wanted = new ArrayList<>();
        Set<String> filters = new HashSet<>();
        for (BridgeTopic t : outTopics) {
            if (!allowed(authorizer.maySubscribe(identity, t.localTopic()))) {
                LOG.warn("Bridge {}: local_username '{}' may not subscribe to '{}': that topic line sends nothing",
                        settings.name(), settings.localUsername(), t.localTopic());
                continue;
            }
            if (filters.add(t.localTopic())) {
                // no-local: what the bridge brought in never goes back; retain as published: the remote broker
                // keeps what is retained here; retained messages only when the subscription is new (a persistent
                // session queued the later ones, retained deletes included)
                wanted.add(new Subscription(t.localTopic(), t.qos(), true, true, 1, 0));
            }
        }
        List<String> stale = new ArrayList<>();
        for (Subscription s : session.subscriptions()) {
            if (!filters.contains(s.filter())) {
                stale.add(s.filter());
            }
        }
        if (!stale.isEmpty()) {
            service.unsubscribe(session, stale, had -> { });
        }
        service.subscribe(session, wanted, Runnable::run);
    }

    /**
     * An authorization answer the bridge cannot wait for (it would reorder messages): an answer not ready at once
     * (an HTTP plugin's) counts as a refusal, logged. File ACLs answer at once.
     */
    private boolean allowed(java.util.concurrent.CompletionStage<Boolean> answer) {
        java.util.concurrent.CompletableFuture<Boolean> f = answer.toCompletableFuture();
        if (!f.isDone()) {
            LOG.warn("Bridge {}: the authorizer did not answer at once; refused", settings.name());
            return false;
        }
        return !f.isCompletedExceptionally() && Boolean.TRUE.equals(f.getNow(false));
    }

    /** The session's first attach: subscribe, then leave it offline until the remote broker answers. */
    private final class Parking implements SessionConnection {
        @Override
        public boolean sessionReady(Session session, boolean sessionPresent) {
            subscribeOutgoing(session);
            LOG.info("Bridge {}: local session '{}' {} ({} messages queued)", settings.name(),
                    settings.localClientId(), sessionPresent ? "resumed" : "created", session.queuedCount());
            connectNow();
            return false; // stays detached: queueing until an outlet attaches
        }

        @Override
        public boolean sendPublish(int packetId, Delivery delivery, boolean dup) {
            return true;
        }

        @Override
        public void sendPubrel(int packetId) {
        }

        @Override
        public void requestFlush() {
        }

        @Override
        public int maxInflight() {
            return 1;
        }

        @Override
        public boolean socketBackedUp() {
            return false;
        }

        @Override
        public boolean clientConsuming() {
            return true;
        }

        @Override
        public void closeByServer(int reasonCode, String why) {
        }

        @Override
        public void refuseSession(String why) {
            LOG.warn("Bridge {}: local session not available: {}", settings.name(), why);
        }

        @Override
        public ConnectionInfo info() {
            return new ConnectionInfo("bridge", settings.name(), settings.localUsername(), 5,
                    System.currentTimeMillis(), settings.maxInflight(), 0, "internal", null, 0, 0, 0, 0);
        }
    }

    // ------------------------------------------------------------------ connecting

    private void connectNow() {
        if (stopped) {
            return;
        }
        reconnect = null;
        state = "connecting";
        BridgeSettings.Address address = settings.addresses().get(addressIndex);
        // resolved again at every attempt, off the loop: the remote may have moved
        resolver.execute(() -> {
            InetAddress resolved;
            try {
                resolved = InetAddress.getByName(address.host());
            } catch (UnknownHostException e) {
                loop.execute(() -> failed(address, "cannot resolve " + address.host() + ": " + e.getMessage()));
                return;
            }
            loop.execute(() -> connectTo(address, new InetSocketAddress(resolved, address.port())));
        });
    }

    private void connectTo(BridgeSettings.Address address, InetSocketAddress target) {
        if (stopped) {
            return;
        }
        Outlet o = new Outlet(address);
        outlet = o;
        Bootstrap b = new Bootstrap().group(loop).channel(channelClass)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNACK_TIMEOUT_SECONDS * 1000)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (ssl != null) {
                            SslHandler h = ssl.newHandler(ch.alloc(), address.host(), address.port());
                            if (!settings.tls().insecure()) {
                                SSLEngine engine = h.engine();
                                SSLParameters p = engine.getSSLParameters();
                                p.setEndpointIdentificationAlgorithm("HTTPS");
                                engine.setSSLParameters(p);
                            }
                            ch.pipeline().addLast(h);
                        }
                        int keepAlive = settings.keepAliveSeconds();
                        ch.pipeline().addLast(new IdleStateHandler(keepAlive * 3 / 2, keepAlive, 0));
                        MqttDecoder decoder = new MqttDecoder(maxPacketSize);
                        decoder.setVersion(o.version);
                        MqttEncoder encoder = new MqttEncoder();
                        encoder.setVersion(o.version);
                        ch.pipeline().addLast(decoder, encoder, o);
                    }
                });
        ChannelFuture f = b.connect(target);
        o.channel = f.channel();
        f.addListener(done -> {
            if (!done.isSuccess()) {
                failed(address, "cannot connect to " + target + ": " + done.cause().getMessage());
            }
        });
    }

    /** An attempt failed or a connection ended: try again after the backoff, at the next address if several. */
    private void failed(BridgeSettings.Address address, String why) {
        if (stopped) {
            return;
        }
        outlet = null;
        int n = settings.addresses().size();
        addressIndex = (addressIndex + 1) % n;
        long delayMillis = backoffMillis();
        state = "waiting";
        LOG.warn("Bridge {}: {}; next attempt in {} ms{}", settings.name(), why, delayMillis,
                n > 1 ? " (to " + settings.addresses().get(addressIndex) + ")" : "");
        reconnect = loop.schedule(this::connectNow, delayMillis, TimeUnit.MILLISECONDS);
    }

    /** {@code restart_timeout}: constant, or base doubling to cap; jitter takes it down by up to a half. */
    private long backoffMillis() {
        BridgeSettings.RestartTimeout r = settings.restart();
        long seconds = r.constant() ? r.baseSeconds()
                : Math.min(r.capSeconds(), (long) r.baseSeconds() << Math.min(failures, 20));
        failures++;
        long millis = seconds * 1000;
        return millis / 2 + ThreadLocalRandom.current().nextLong(millis / 2 + 1);
    }

    /** Stops the bridge (the broker is stopping): tells the remote broker, detaches the session. Any thread. */
    public CompletableFuture<Void> stop() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        loop.execute(() -> {
            stopped = true;
            state = "stopped";
            if (reconnect != null) {
                reconnect.cancel(false);
            }
            Outlet o = outlet;
            outlet = null;
            if (o == null || o.channel == null) {
                done.complete(null);
                return;
            }
            o.stop(done);
        });
        return done;
    }

    private void publishStateLocally(boolean connected) {
        service.publishOwn(new Message(settings.stateTopic(), QoS.AT_LEAST_ONCE, true,
                new byte[]{(byte) (connected ? '1' : '0')}, MqttProperties.EMPTY, settings.localClientId(),
                System.currentTimeMillis()), null);
    }

    // ------------------------------------------------------------------ one connection

    /**
     * One connection to the remote broker: its MQTT client side, and, once the remote broker accepted it, the
     * bridge session's connection (the session sends through it). Event loop only.
     */
    private final class Outlet extends SimpleChannelInboundHandler<Object> implements SessionConnection {
        final BridgeSettings.Address address;
        final MqttVersion version = switch (settings.protocolVersion()) {
            case 3 -> MqttVersion.MQTT_3_1;
            case 5 -> MqttVersion.MQTT_5;
            default -> MqttVersion.MQTT_3_1_1;
        };
        Channel channel;
        boolean accepted;
        long acceptedAtNanos;
        Session session;
        int generation;
        int remoteReceiveMaximum = 65_535;
        /** MQTT 5 CONNACK's Maximum QoS: messages above it go at it, and complete here as the remote acks. */
        int remoteMaxQos = 2;
        boolean remoteRetainAvailable = true;
        /** QoS 2 messages sent at QoS 1: their PUBACK completes them. */
        final Set<Integer> downgraded = new HashSet<>();
        /** QoS 2 messages whose PUBREL the remote never hears of: the session completes them itself. */
        final Set<Integer> completeOnPubrel = new HashSet<>();
        /** QoS 1/2 packet ids written and not yet acknowledged (PUBACK, PUBCOMP). */
        final Set<Integer> unacknowledged = new HashSet<>();
        long lastAckNanos;
        /** Inbound QoS 2 ids routed and waiting for PUBREL. */
        final Set<Integer> awaitingPubrel = new HashSet<>();
        /** bridge_publish_rate: PUBLISHes waiting for the bucket to refill, in order. */
        final ArrayDeque<Publish> paced = new ArrayDeque<>();
        double tokens;
        long tokensAtNanos = System.nanoTime();
        ScheduledFuture<?> pacer;
        ScheduledFuture<?> ticker;
        boolean flushRequested;
        boolean closing;
        /** Set when the broker stops this connection: completed once it is closed. */
        CompletableFuture<Void> stopDone;

        Outlet(BridgeSettings.Address address) {
            this.address = address;
            this.tokens = settings.publishRate();
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Will will = settings.notifications() ? new Will(settings.stateTopic(),
                    "0".getBytes(StandardCharsets.US_ASCII), QoS.AT_LEAST_ONCE, true, MqttProperties.EMPTY) : null;
            MqttProperties props = MqttProperties.EMPTY;
            if (version.isV5()) {
                props = MqttProperties.builder()
                        .set(PropertyId.SESSION_EXPIRY_INTERVAL, settings.cleanSession() ? 0L : 0xFFFF_FFFFL)
                        .set(PropertyId.MAXIMUM_PACKET_SIZE, (long) maxPacketSize)
                        // a TernMQ remote then sends the messages' origin ids here (other brokers ignore it)
                        .userProperty(BridgeOrigins.CONNECT_PROPERTY, "1")
                        .build();
            }
            byte[] password = settings.remotePassword() == null ? null
                    : settings.remotePassword().getBytes(StandardCharsets.UTF_8);
            boolean bridgeBit = settings.tryPrivate() && !version.isV5();
            ctx.writeAndFlush(new Connect(version, settings.remoteClientId(), settings.cleanSession(),
                    settings.keepAliveSeconds(), settings.remoteUsername(), password, will, props, bridgeBit));
            ctx.executor().schedule(() -> {
                if (!accepted && ctx.channel().isOpen()) {
                    LOG.warn("Bridge {}: no CONNACK from {} within {} s", settings.name(), address,
                            CONNACK_TIMEOUT_SECONDS);
                    ctx.close();
                }
            }, CONNACK_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Publish p) {
                inbound(ctx, p);
            } else if (msg instanceof Puback a) {
                acknowledged(a.packetId());
                if (session != null) {
                    if (downgraded.remove(a.packetId())) {
                        completeOnPubrel.add(a.packetId());
                        session.onPubrec(a.packetId());
                    } else {
                        session.onPuback(a.packetId());
                    }
                }
            } else if (msg instanceof Pubrec r) {
                lastAckNanos = System.nanoTime();
                if (session != null) {
                    if (r.reasonCode() >= 0x80) {
                        acknowledged(r.packetId());
                        session.onPubrecError(r.packetId());
                    } else {
                        session.onPubrec(r.packetId());
                    }
                }
            } else if (msg instanceof Pubcomp c) {
                acknowledged(c.packetId());
                if (session != null) {
                    session.onPubcomp(c.packetId());
                }
            } else if (msg instanceof Pubrel r) {
                awaitingPubrel.remove(r.packetId());
                ctx.writeAndFlush(new Pubcomp(r.packetId(), ReasonCode.SUCCESS, MqttProperties.EMPTY));
            } else if (msg instanceof Connack c) {
                connack(ctx, c);
            } else if (msg instanceof Suback s) {
                suback(s);
            } else if (msg instanceof Disconnect d) {
                if (d.reasonCode() == ReasonCode.SESSION_TAKEN_OVER) {
                    LOG.warn("Bridge {}: another client took remote_clientid '{}' over on {}: a conflict (two "
                            + "bridges with one client id?)", settings.name(), settings.remoteClientId(), address);
                } else {
                    LOG.warn("Bridge {}: {} disconnected the bridge (reason 0x{})", settings.name(), address,
                            Integer.toHexString(d.reasonCode()));
                }
                ctx.close();
            } else if (msg instanceof DecodeFailure f) {
                LOG.warn("Bridge {}: {} sent a malformed packet: {}", settings.name(), address, f);
                ctx.close();
            }
        }

        private void connack(ChannelHandlerContext ctx, Connack c) {
            if (c.reasonCode() != ReasonCode.SUCCESS) {
                LOG.warn("Bridge {}: {} refused the connection (CONNACK 0x{})", settings.name(), address,
                        Integer.toHexString(c.reasonCode()));
                ctx.close();
                return;
            }
            accepted = true;
            acceptedAtNanos = System.nanoTime();
            metrics.bridgeConnects.increment();
            Integer receiveMaximum = c.properties().getInt(PropertyId.RECEIVE_MAXIMUM);
            if (receiveMaximum != null) {
                remoteReceiveMaximum = receiveMaximum;
            }
            Integer maxQos = c.properties().getInt(PropertyId.MAXIMUM_QOS);
            if (maxQos != null) {
                remoteMaxQos = maxQos;
            }
            Integer retainAvailable = c.properties().getInt(PropertyId.RETAIN_AVAILABLE);
            remoteRetainAvailable = retainAvailable == null || retainAvailable != 0;
            if (!settings.roundRobin()) {
                addressIndex = 0; // back to the primary after this connection ends
            }
            state = "connected";
            LOG.info("Bridge {}: connected to {} (MQTT {}, session {})", settings.name(), address, version,
                    c.sessionPresent() ? "resumed" : "new");
            if (settings.notifications()) {
                ctx.write(new Publish(settings.stateTopic(), QoS.AT_MOST_ONCE, true, false, 0,
                        new byte[]{'1'}, MqttProperties.EMPTY));
            }
            ticker = ctx.executor().scheduleAtFixedRate(this::tick, 1, 1, TimeUnit.SECONDS);
            if (inTopics.isEmpty()) {
                ctx.flush();
                attach(this);
                return;
            }
            List<TopicSubscription> subs = new ArrayList<>();
            for (BridgeTopic t : inTopics) {
                // MQTT 5: no-local keeps what the bridge sends from coming back; retained flags as published
                subs.add(version.isV5() ? new TopicSubscription(t.remoteTopic(), t.qos(), true, true, 0)
                        : new TopicSubscription(t.remoteTopic(), t.qos()));
            }
            ctx.writeAndFlush(new Subscribe(SUBSCRIBE_PACKET_ID, subs, MqttProperties.EMPTY));
        }

        private void suback(Suback s) {
            for (int i = 0; i < s.reasonCodes().size(); i++) {
                if (s.reasonCodes().get(i) >= 0x80) {
                    LOG.warn("Bridge {}: {} refused the subscription to '{}' (0x{})", settings.name(), address,
                            inTopics.get(Math.min(i, inTopics.size() - 1)).remoteTopic(),
                            Integer.toHexString(s.reasonCodes().get(i)));
                }
            }
            if (session == null) {
                // subscribed: the session's messages may now use every packet id
                attach(this);
            }
        }

        /** A PUBLISH from the remote broker: remapped, then routed here as the bridge's session published it. */
        private void inbound(ChannelHandlerContext ctx, Publish p) {
            if (p.qos() == QoS.EXACTLY_ONCE && !awaitingPubrel.add(p.packetId())) {
                ctx.writeAndFlush(new Pubrec(p.packetId(), ReasonCode.SUCCESS, MqttProperties.EMPTY));
                return; // a resend of one routed already
            }
            String topic = p.topic();
            for (int i = 0; i < inTopics.size(); i++) {
                if (TopicMatch.matches(inFilters.get(i), topic)) {
                    topic = inTopics.get(i).toLocal(topic);
                    break;
                }
            }
            MqttProperties props = p.properties();
            if (props.subscriptionIdentifierCount() > 0 || props.contains(PropertyId.TOPIC_ALIAS)) {
                props = props.toBuilder().clearSubscriptionIdentifiers().set(PropertyId.TOPIC_ALIAS, null).build();
            }
            if (version.isV5()) {
                // brought in by this bridge: one crossing more (a message the remote pushed was counted there)
                int hops = BridgeHops.of(props) + 1;
                if (hops > settings.hopLimit()) {
                    hopLimitReached(p.topic(), hops - 1);
                    acknowledge(ctx, p.qos(), p.packetId());
                    return;
                }
                props = BridgeHops.with(props, hops);
            }
            if (!allowed(authorizer.mayPublish(identity, topic))) {
                metrics.publishesDenied.increment();
                DENY_LOG.warn("Bridge {}: local_username '{}' may not publish to '{}': dropped", settings.name(),
                        settings.localUsername(), topic);
                acknowledge(ctx, p.qos(), p.packetId());
                return;
            }
            Message m = new Message(topic, p.qos(), p.retain(), p.payload(), props, settings.localClientId(),
                    System.currentTimeMillis());
            int id = p.packetId();
            QoS qos = p.qos();
            service.publish(m, new Router.Origin(null, 0, loop), (matched, quotaExceeded) ->
                    acknowledge(ctx, qos, id));
        }

        private void acknowledge(ChannelHandlerContext ctx, QoS qos, int id) {
            if (qos == QoS.AT_LEAST_ONCE) {
                ctx.writeAndFlush(new Puback(id, ReasonCode.SUCCESS, MqttProperties.EMPTY));
            } else if (qos == QoS.EXACTLY_ONCE) {
                ctx.writeAndFlush(new Pubrec(id, ReasonCode.SUCCESS, MqttProperties.EMPTY));
            }
        }

        private void hopLimitReached(String topic, int hops) {
            metrics.bridgeHopDrops.increment();
            HOP_LOG.warn("Bridge {}: not forwarding a message on '{}' that crossed {} bridges (bridge_hop_limit {}; "
                    + "a loop of bridges?)", settings.name(), topic, hops, settings.hopLimit());
        }

        private void acknowledged(int packetId) {
            unacknowledged.remove(packetId);
            lastAckNanos = System.nanoTime();
        }

        /** Once a second: the ack timeout, and the pace. */
        private void tick() {
            if (!unacknowledged.isEmpty()
                    && System.nanoTime() - lastAckNanos > TimeUnit.SECONDS.toNanos(settings.ackTimeoutSeconds())) {
                LOG.warn("Bridge {}: no acknowledgement from {} for {} s with {} messages in flight: reconnecting",
                        settings.name(), address, settings.ackTimeoutSeconds(), unacknowledged.size());
                channel.close();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent e) {
                if (e.state() == IdleState.READER_IDLE) {
                    LOG.warn("Bridge {}: {} silent for 1.5 keep alive intervals: reconnecting", settings.name(),
                            address);
                    ctx.close();
                } else if (e.state() == IdleState.WRITER_IDLE && accepted) {
                    ctx.writeAndFlush(Pingreq.INSTANCE);
                }
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.warn("Bridge {}: connection to {} failed: {}", settings.name(), address, cause.toString());
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (ticker != null) {
                ticker.cancel(false);
            }
            if (pacer != null) {
                pacer.cancel(false);
            }
            Session s = session;
            session = null;
            if (s != null) {
                if (stopDone != null) {
                    s.closedByShutdown(this, generation, null, 0);
                } else {
                    s.closed(this, generation, null, 0);
                }
            }
            if (accepted) {
                metrics.bridgeDisconnects.increment();
                BridgeSettings.RestartTimeout r = settings.restart();
                if (System.nanoTime() - acceptedAtNanos >= TimeUnit.SECONDS.toNanos(r.stableSeconds())) {
                    failures = 0; // a connection that lasted: the backoff starts again from its base
                }
                if (settings.notifications() && stopDone == null) {
                    publishStateLocally(false);
                }
            }
            if (stopDone != null) {
                stopDone.complete(null);
                return;
            }
            if (outlet == this) {
                failed(address, accepted ? "connection to " + address + " lost" : "connection to " + address
                        + " ended before CONNACK");
            }
        }

        /** The broker stops: the remote broker hears state 0 and a normal DISCONNECT. */
        void stop(CompletableFuture<Void> done) {
            stopDone = done;
            if (!channel.isActive()) {
                channel.close();
                if (!channel.isRegistered() || session == null) {
                    done.complete(null);
                }
                return;
            }
            if (accepted && settings.notifications()) {
                channel.write(new Publish(settings.stateTopic(), QoS.AT_MOST_ONCE, true, false, 0,
                        new byte[]{'0'}, MqttProperties.EMPTY));
            }
            if (accepted) {
                channel.write(version.isV5() ? Disconnect.NORMAL : new Disconnect(ReasonCode.NORMAL_DISCONNECTION));
            }
            channel.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER)
                    .addListener(f -> channel.close());
        }

        // -------------------------------------------------------------- the session's connection

        @Override
        public boolean sessionReady(Session s, boolean sessionPresent) {
            if (!channel.isActive() || outlet != this) {
                return false;
            }
            session = s;
            generation = s.attachGeneration();
            lastAckNanos = System.nanoTime();
            if (settings.notifications()) {
                publishStateLocally(true); // subscribed both sides: the bridge carries messages from now on
            }
            return true;
        }

        @Override
        public boolean sendPublish(int packetId, Delivery delivery, boolean dup) {
            Message m = delivery.message();
            int hops = BridgeHops.of(m.properties());
            if (hops >= settings.hopLimit()) {
                hopLimitReached(m.topic(), hops);
                return false;
            }
            String topic = m.topic();
            if (!authorizer.mayReceive(identity, topic)) {
                metrics.deliveriesDenied.increment();
                return false;
            }
            for (int i = 0; i < outTopics.size(); i++) {
                if (TopicMatch.matches(outFilters.get(i), topic)) {
                    topic = outTopics.get(i).toRemote(topic);
                    break;
                }
            }
            MqttProperties props = MqttProperties.EMPTY;
            if (version.isV5()) {
                props = BridgeHops.with(m.properties(), hops + 1);
                if (m.expires()) {
                    props = props.toBuilder().set(PropertyId.MESSAGE_EXPIRY_INTERVAL,
                            m.remainingExpirySeconds(System.currentTimeMillis())).build();
                }
            }
            QoS qos = delivery.qos();
            if (qos.value() > remoteMaxQos) {
                // the remote takes no more (MQTT 5 Maximum QoS): sent at its maximum, completed as it acks
                qos = QoS.of(remoteMaxQos);
                int id = packetId;
                QoS asked = delivery.qos();
                if (qos == QoS.AT_MOST_ONCE) {
                    channel.eventLoop().execute(() -> completeHere(id, asked));
                } else {
                    downgraded.add(id);
                }
            }
            boolean retain = settings.outgoingRetain() && delivery.retain() && remoteRetainAvailable;
            Publish p = new Publish(topic, qos, retain, dup && qos != QoS.AT_MOST_ONCE,
                    qos == QoS.AT_MOST_ONCE ? 0 : packetId, m.payload(), props);
            if (settings.publishRate() > 0 && (!paced.isEmpty() || !takeToken())) {
                paced.add(p);
                schedulePacer();
                return true;
            }
            write(p);
            return true;
        }

        private void write(Publish p) {
            if (p.qos() != QoS.AT_MOST_ONCE) {
                if (unacknowledged.isEmpty()) {
                    lastAckNanos = System.nanoTime();
                }
                unacknowledged.add(p.packetId());
            }
            channel.write(p);
        }

        private boolean takeToken() {
            long now = System.nanoTime();
            int rate = settings.publishRate();
            tokens = Math.min(rate, tokens + (now - tokensAtNanos) * rate / 1e9);
            tokensAtNanos = now;
            if (tokens >= 1) {
                tokens -= 1;
                return true;
            }
            return false;
        }

        private void schedulePacer() {
            if (pacer != null || !channel.isActive()) {
                return;
            }
            long waitNanos = (long) Math.max(1_000_000, 1e9 / settings.publishRate());
            pacer = channel.eventLoop().schedule(() -> {
                pacer = null;
                while (!paced.isEmpty() && takeToken()) {
                    write(paced.poll());
                }
                channel.flush();
                if (!paced.isEmpty()) {
                    schedulePacer();
                }
            }, waitNanos, TimeUnit.NANOSECONDS);
        }

        /** A message sent at QoS 0 for a remote whose Maximum QoS is 0: done once written. */
        private void completeHere(int packetId, QoS asked) {
            if (session == null) {
                return;
            }
            if (asked == QoS.AT_LEAST_ONCE) {
                session.onPuback(packetId);
            } else {
                completeOnPubrel.add(packetId);
                session.onPubrec(packetId);
            }
        }

        @Override
        public void sendPubrel(int packetId) {
            if (completeOnPubrel.remove(packetId)) {
                // the remote got it at a lower QoS: no PUBREL to send, the flow ends here (after this call returns)
                channel.eventLoop().execute(() -> {
                    if (session != null) {
                        session.onPubcomp(packetId);
                    }
                });
                return;
            }
            channel.write(new Pubrel(packetId));
        }

        @Override
        public void requestFlush() {
            if (!flushRequested) {
                flushRequested = true;
                channel.eventLoop().execute(() -> {
                    flushRequested = false;
                    channel.flush();
                });
            }
        }

        @Override
        public int maxInflight() {
            return Math.min(settings.maxInflight(), remoteReceiveMaximum);
        }

        @Override
        public boolean socketBackedUp() {
            return !channel.isWritable();
        }

        @Override
        public boolean clientConsuming() {
            return channel.isWritable();
        }

        @Override
        public void closeByServer(int reasonCode, String why) {
            LOG.warn("Bridge {}: local session closed: {}", settings.name(), why);
            channel.close();
        }

        @Override
        public void refuseSession(String why) {
            LOG.warn("Bridge {}: local session refused: {}", settings.name(), why);
            channel.close();
        }

        @Override
        public ConnectionInfo info() {
            return new ConnectionInfo(address.toString(), "bridge " + settings.name(), settings.localUsername(),
                    version.level(), System.currentTimeMillis(), settings.maxInflight(), 0,
                    settings.tls() != null ? "tls" : "tcp", null, 0, 0, 0, 0);
        }
    }
}
