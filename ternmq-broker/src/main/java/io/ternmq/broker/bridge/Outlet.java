package io.ternmq.broker.bridge;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.ScheduledFuture;
import io.ternmq.broker.config.BridgeSettings;
import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.session.ConnectionInfo;
import io.ternmq.broker.session.Session;
import io.ternmq.broker.session.SessionConnection;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.DecodeFailure;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Pingreq;
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
import io.ternmq.codec.Will;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One connection to the remote broker: its MQTT client side (CONNECT with the bridge's will, the subscriptions of the
 * incoming topics, keep alive, the ack timeout) and, once the remote broker accepted it and the subscriptions are
 * made, the bridge session's connection: the session sends through its {@link OutgoingPublishes}. What the remote
 * sends goes to the bridge's {@link IncomingPublishes}. Event loop only.
 */
final class Outlet extends SimpleChannelInboundHandler<Object> implements SessionConnection {
    private static final Logger LOG = LoggerFactory.getLogger(Outlet.class);
    private static final int SUBSCRIBE_PACKET_ID = 1;
    private static final String NOTIFICATION_PREFIX = "$SYS/broker/connection/";
    private static final String NOTIFICATION_SUFFIX = "/state";

    private final BridgeSettings settings;
    private final BrokerMetrics metrics;
    private final BridgeSession bridgeSession;
    private final RemoteLink link;
    private final IncomingPublishes incoming;
    private final BridgeAccess access;
    private final BridgeTopicTable topics;
    private final BridgeSettings.Address address;
    private final int maxPacketSize;
    private final MqttVersion version;
    private final BridgePeers peers;
    private final BridgePeers.Link peerLink;
    /** MQTT 3.x with try_private: the link learns the remote broker's bridges toward this one ({@link BridgePeers}). */
    private final boolean learnsPeers;
    private Channel channel;
    private OutgoingPublishes outgoing;
    private boolean accepted;
    /** A PINGREQ went and nothing came since: no other one until something does. */
    private boolean awaitingPingresp;
    private long acceptedAtNanos;
    private Session session;
    private int generation;
    private ScheduledFuture<?> ticker;
    private boolean flushRequested;
    /** This side closed the connection (else the remote broker did, or the network). */
    private boolean closedHere;
    /** Set when the broker stops this connection: completed once it is closed. */
    private CompletableFuture<Void> stopDone;

    Outlet(BridgeSettings settings, BrokerMetrics metrics, BridgeSession bridgeSession, RemoteLink link,
           IncomingPublishes incoming, BridgeAccess access, BridgeTopicTable topics, BridgeSettings.Address address,
           int maxPacketSize, BridgePeers peers, BridgePeers.Link peerLink) {
        this.peers = peers;
        this.peerLink = peerLink;
        this.settings = settings;
        this.metrics = metrics;
        this.bridgeSession = bridgeSession;
        this.link = link;
        this.incoming = incoming;
        this.access = access;
        this.topics = topics;
        this.address = address;
        this.maxPacketSize = maxPacketSize;
        this.version = switch (settings.protocolVersion()) {
            case 3 -> MqttVersion.MQTT_3_1;
            case 5 -> MqttVersion.MQTT_5;
            default -> MqttVersion.MQTT_3_1_1;
        };
        // only toward brokers that know bridges (try_private): some cloud brokers close a connection that
        // subscribes to a topic its policy does not allow, and their bridges are configured try_private false
        this.learnsPeers = !version.isV5() && settings.tryPrivate();
    }

    MqttVersion version() {
        return version;
    }

    void channel(Channel c) {
        channel = c;
    }

    boolean hasChannel() {
        return channel != null;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        outgoing = new OutgoingPublishes(settings, metrics, access, topics, ctx.channel(), version.isV5(),
                peerLink);
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
                        RemoteLink.CONNACK_TIMEOUT_SECONDS);
                closeHere();
            }
        }, RemoteLink.CONNACK_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
        awaitingPingresp = false; // the remote is there
        if (msg instanceof Publish p) {
            if (learnsPeers && isNotification(p.topic())) {
                String id = p.topic().substring(NOTIFICATION_PREFIX.length(),
                        p.topic().length() - NOTIFICATION_SUFFIX.length());
                peers.announced(peerLink, id);
                if (!topics.carriesIn(p.topic())) {
                    IncomingPublishes.acknowledge(ctx.channel(), p.qos(), p.packetId());
                    return; // learned, not asked for here
                }
            }
            incoming.publish(ctx.channel(), p, version.isV5());
        } else if (msg instanceof Puback a) {
            outgoing.puback(a.packetId());
        } else if (msg instanceof Pubrec r) {
            outgoing.pubrec(r.packetId(), r.reasonCode());
        } else if (msg instanceof Pubcomp c) {
            outgoing.pubcomp(c.packetId());
        } else if (msg instanceof Pubrel r) {
            incoming.release(ctx.channel(), r.packetId());
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
            closeHere();
        } else if (msg instanceof DecodeFailure f) {
            LOG.warn("Bridge {}: {} sent a malformed packet: {}", settings.name(), address, f);
            closeHere();
        }
    }

    private void connack(ChannelHandlerContext ctx, Connack c) {
        if (c.reasonCode() != ReasonCode.SUCCESS) {
            LOG.warn("Bridge {}: {} refused the connection (CONNACK 0x{})", settings.name(), address,
                    Integer.toHexString(c.reasonCode()));
            closeHere();
            return;
        }
        accepted = true;
        acceptedAtNanos = System.nanoTime();
        metrics.bridgeConnects.increment();
        outgoing.remoteLimits(c.properties().getInt(PropertyId.RECEIVE_MAXIMUM),
                c.properties().getInt(PropertyId.MAXIMUM_QOS), c.properties().getInt(PropertyId.RETAIN_AVAILABLE));
        link.accepted();
        incoming.remoteSession(c.sessionPresent());
        LOG.info("Bridge {}: connected to {} (MQTT {}, session {})", settings.name(), address, version,
                c.sessionPresent() ? "resumed" : "new");
        if (settings.notifications()) {
            ctx.write(new Publish(settings.stateTopic(), QoS.AT_MOST_ONCE, true, false, 0,
                    new byte[]{'1'}, MqttProperties.EMPTY));
        }
        ticker = ctx.executor().scheduleAtFixedRate(this::tick, 1, 1, TimeUnit.SECONDS);
        List<TopicSubscription> subs = new ArrayList<>(topics.remoteSubscriptions(version.isV5()));
        if (learnsPeers) {
            subs.add(new TopicSubscription(BridgePeers.NOTIFICATIONS, QoS.AT_MOST_ONCE));
        }
        if (subs.isEmpty()) {
            ctx.flush();
            bridgeSession.attach(this);
            return;
        }
        ctx.writeAndFlush(new Subscribe(SUBSCRIBE_PACKET_ID, subs, MqttProperties.EMPTY));
    }

    private static boolean isNotification(String topic) {
        return topic.startsWith(NOTIFICATION_PREFIX) && topic.endsWith(NOTIFICATION_SUFFIX)
                && topic.length() > NOTIFICATION_PREFIX.length() + NOTIFICATION_SUFFIX.length()
                && topic.indexOf('/', NOTIFICATION_PREFIX.length()) == topic.length() - NOTIFICATION_SUFFIX.length();
    }

    private void suback(Suback s) {
        List<Integer> codes = s.reasonCodes();
        for (int i = 0; i < codes.size(); i++) {
            if (codes.get(i) >= 0x80 && i >= topics.incoming().size()) {
                LOG.info("Bridge {}: {} refused the subscription to {} (0x{}): bridges toward this broker from there "
                        + "are not recognised, and a loop between the two is not prevented", settings.name(), address,
                        BridgePeers.NOTIFICATIONS, Integer.toHexString(codes.get(i)));
            } else if (codes.get(i) >= 0x80) {
                LOG.warn("Bridge {}: {} refused the subscription to '{}' (0x{})", settings.name(), address,
                        topics.incoming().get(Math.min(i, topics.incoming().size() - 1)).remoteTopic(),
                        Integer.toHexString(codes.get(i)));
            }
        }
        if (session == null) {
            // subscribed: the session's messages may now use every packet id
            bridgeSession.attach(this);
        }
    }

    /** Once a second: the ack timeout. */
    private void tick() {
        if (outgoing.ackOverdue()) {
            LOG.warn("Bridge {}: no acknowledgement from {} for {} s with {} messages in flight: reconnecting",
                    settings.name(), address, settings.ackTimeoutSeconds(), outgoing.inFlight());
            closeHere();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent e) {
            if (e.state() == IdleState.READER_IDLE && !e.isFirst()) {
                LOG.warn("Bridge {}: {} silent for 2 keep alive intervals: reconnecting", settings.name(),
                        address);
                closeHere();
            } else if (accepted && !awaitingPingresp) {
                // nothing written for an interval, or nothing read (a remote that only receives, e.g. QoS 0 going
                // out, says nothing unless asked): a PINGREQ, whose PINGRESP shows it is there
                awaitingPingresp = true;
                ctx.writeAndFlush(Pingreq.INSTANCE);
            }
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.warn("Bridge {}: connection to {} failed: {}", settings.name(), address, cause.toString());
        closeHere();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (ticker != null) {
            ticker.cancel(false);
        }
        if (outgoing != null) {
            outgoing.close();
            outgoing.session(null);
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
        boolean stable = false;
        if (accepted) {
            metrics.bridgeDisconnects.increment();
            stable = System.nanoTime() - acceptedAtNanos
                    >= TimeUnit.SECONDS.toNanos(settings.restart().stableSeconds());
            if (settings.notifications() && stopDone == null) {
                bridgeSession.publishState(false);
            }
        }
        if (stopDone != null) {
            stopDone.complete(null);
            return;
        }
        long lived = accepted ? System.nanoTime() - acceptedAtNanos : 0;
        link.ended(this, stable, accepted && !closedHere ? lived : -1, accepted ? "connection to " + address
                + " lost" : "connection to " + address + " ended before CONNACK");
    }

    /** Ends this connection to connect elsewhere (the main address answers again). */
    void leave() {
        closeHere();
    }

    private void closeHere() {
        closedHere = true;
        channel.close();
    }

    /** The broker stops: the remote broker hears state 0 and a normal DISCONNECT. */
    void stop(CompletableFuture<Void> done) {
        stopDone = done;
        if (!channel.isActive()) {
            closeHere();
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
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> closeHere());
    }

    // ------------------------------------------------------------------ the session's connection

    @Override
    public boolean sessionReady(Session s, boolean sessionPresent) {
        if (!channel.isActive() || !link.isCurrent(this)) {
            return false;
        }
        session = s;
        bridgeSession.ready(s);
        generation = s.attachGeneration();
        outgoing.session(s);
        if (settings.notifications()) {
            bridgeSession.publishState(true); // subscribed both sides: the bridge carries messages from now on
        }
        return true;
    }

    @Override
    public boolean sendPublish(int packetId, Delivery delivery, boolean dup) {
        return outgoing.send(packetId, delivery, dup);
    }

    @Override
    public void sendPubrel(int packetId) {
        outgoing.sendPubrel(packetId);
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
        return outgoing.maxInflight();
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
        closeHere();
    }

    @Override
    public void refuseSession(String why) {
        LOG.warn("Bridge {}: local session refused: {}", settings.name(), why);
        closeHere();
    }

    @Override
    public ConnectionInfo info() {
        return new ConnectionInfo(address.toString(), "bridge " + settings.name(), settings.localUsername(),
                version.level(), System.currentTimeMillis(), settings.maxInflight(), 0,
                settings.tls() != null ? "tls" : "tcp", null, 0, 0, 0, 0);
    }
}
