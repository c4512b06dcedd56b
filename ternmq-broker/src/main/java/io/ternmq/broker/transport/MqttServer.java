package io.ternmq.broker.transport;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Promise;
import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.config.ListenerConfig;
import io.ternmq.broker.config.TransportKind;
import io.ternmq.broker.config.TransportSettings;
import io.ternmq.broker.config.TransportSettings.SlowConsumerPolicy;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.protocol.BrokerContext;
import io.ternmq.broker.protocol.LoopConnections;
import io.ternmq.broker.security.BrokerSecurity;
import io.ternmq.broker.security.ListenerSecurity;
import io.ternmq.broker.transport.ListenerRuntime.AddressSource;
import io.ternmq.broker.metrics.RateLimitedLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * Network listeners: event loop groups (epoll when the platform has it, NIO otherwise), one server channel per
 * configured listener, and the one place where a connection's pipeline is assembled, by the {@link PipelineBuilder}
 * of the listener's {@link TransportKind}:
 * <pre>
 * TCP:           mqtt (MqttChannelAdapter → MqttConnection)
 * TLS:           tls → mqtt
 * WEBSOCKET:     http, http-aggregator, ws-upgrade → mqtt (after the upgrade: ws-frames → mqtt)
 * WEBSOCKET_TLS: tls → the WebSocket handlers → mqtt
 * with enable_proxy_protocol, in front of all: proxy-check, proxy-decoder, proxy-header (gone once read)
 * </pre>
 * Connections beyond a listener's {@code max_connections} are closed at accept; those from an address that opens
 * more than the listener's {@code connection_rate_per_address} a second, as soon as the address is known (at accept,
 * or once the PROXY header or a trusted proxy's X-Forwarded-For has named it).
 */
public final class MqttServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MqttServer.class);
    private static final RateLimitedLog LIMIT_LOG = new RateLimitedLog(LOG, 10_000);

    private final BrokerConfig config;
    private final BrokerMetrics metrics;
    private final BrokerSecurity security;
    private final IntFunction<BrokerContext> contexts;
    private final OutboundLimits outboundLimits;
    /** Shared: it holds only settings, and Netty would otherwise give every connection its own. */
    private final RecvByteBufAllocator receiveAllocator = new CompactReceiveAllocator();
    private final EventLoopGroup acceptGroup;
    private final EventLoopGroup ioGroup;
    private final Class<? extends ServerChannel> serverChannelClass;
    /** Read by readiness checks from the admin listener's thread. */
    private final List<Channel> serverChannels = new CopyOnWriteArrayList<>();
    private final List<ListenerRuntime> listeners = new ArrayList<>();

    /**
     * @param security the listeners' authentication, by index of {@link TransportSettings#listeners()}
     * @param contexts the collaborators of the listener at an index
     */
    public MqttServer(BrokerConfig config, BrokerMetrics metrics, BrokerSecurity security,
                      IntFunction<BrokerContext> contexts) {
        this.config = config;
        this.metrics = metrics;
        this.security = security;
        this.contexts = contexts;
        TransportSettings transport = config.transport();
        this.outboundLimits = new OutboundLimits(transport.maxOutboundBuffer(),
                transport.slowConsumerPolicy() == SlowConsumerPolicy.DISCONNECT,
                transport.slowConsumerTimeoutSeconds() * 1000L, metrics);
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.serverChannelClass = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        this.acceptGroup = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("ternmq-accept"), io);
        int threads = transport.ioThreads() > 0 ? transport.ioThreads()
                : defaultIoThreads(Runtime.getRuntime().availableProcessors());
        this.ioGroup = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("ternmq-io"), io);
        LoopHoldProbe.startIfAsked(ioGroup);
        LOG.info("Transport: {}", epoll ? "epoll" : "NIO (" + Epoll.unavailabilityCause() + ")");
    }

    /**
     * One I/O loop per core but one, at least one (Netty's default is two per core). Each connection, and the session
     * attached to it, lives on one loop; the spare core runs what else the broker needs at once (the store writer,
     * the garbage collector, the kernel's network work), so a loop woken for a message rarely waits for a CPU. On
     * the 2-core benchmark machine one loop instead of two halved the p99 latency of 64 publisher/subscriber pairs at
     * a moderate rate (2.1 ms to 1.0 ms) for 10-20 % less peak throughput (docs/benchmarks.md).
     */
    static int defaultIoThreads(int cores) {
        return Math.max(1, cores - 1);
    }

    /**
     * Binds every listener.
     *
     * @return the bound addresses, in configuration order (port 0 resolved)
     * @throws io.ternmq.broker.config.ConfigException if a listener's TLS files are unusable
     */
    public List<InetSocketAddress> start() throws InterruptedException {
        List<InetSocketAddress> bound = new ArrayList<>();
        List<ListenerConfig> configured = config.transport().listeners();
        for (int i = 0; i < configured.size(); i++) {
            ListenerConfig listenerConfig = configured.get(i);
            ListenerSecurity listenerSecurity = security.listener(i);
            ServerTlsContext tls;
            try {
                tls = listenerConfig.isTls() ? new ServerTlsContext(listenerConfig,
                        config.transport().connectTimeoutSeconds() * 1000, security.watcher(), metrics) : null;
            } catch (RuntimeException e) {
                close();
                throw e;
            }
            ListenerRuntime listener = new ListenerRuntime(listenerConfig, contexts.apply(i), tls,
                    security.authFailureDelay(), outboundLimits);
            listeners.add(listener);
            PipelineBuilder pipeline = pipelineBuilder(listener);
            ServerBootstrap b = new ServerBootstrap()
                    .group(acceptGroup, ioGroup)
                    .channel(serverChannelClass)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.RCVBUF_ALLOCATOR, receiveAllocator)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            initPipeline(listener, pipeline, ch);
                        }
                    });
            Channel ch;
            try {
                ch = b.bind(listenerConfig.bindAddress(), listenerConfig.port()).sync().channel();
            } catch (Exception e) {
                close();
                throw new IllegalStateException("cannot listen on " + listenerConfig + ": " + e.getMessage(), e);
            }
            serverChannels.add(ch);
            InetSocketAddress address = (InetSocketAddress) ch.localAddress();
            bound.add(address);
            logExposure(listener, listenerSecurity, address);
        }
        return bound;
    }

    /** Says, for each listener, what is exposed and how: address, TLS or not, authentication. */
    private void logExposure(ListenerRuntime listener, ListenerSecurity listenerSecurity, InetSocketAddress address) {
        ListenerConfig l = listener.config;
        String where = l.bindAddress() + ":" + address.getPort(); // as configured: epoll prints 0.0.0.0 as ::
        String transport = (listener.tls == null ? "plain TCP (no TLS)" : listener.tls.describe())
                + (l.isWebSocket() ? "; MQTT over WebSocket on path " + l.webSocket().path()
                + (l.webSocket().trustedProxies().isEmpty() ? ""
                : ", X-Forwarded-For read from " + l.webSocket().trustedProxies()) : "")
                + (l.proxyProtocol() > 0 ? "; PROXY protocol v" + l.proxyProtocol() + " header required"
                + (l.proxyProtocolRequiresTls() ? " (client TLS required)" : "") : "");
        String limits = (l.maxConnections() >= 0 ? "; at most " + l.maxConnections() + " connections" : "")
                + (l.connectionRatePerAddress() > 0 ? "; at most " + l.connectionRatePerAddress()
                + " new connections a second per address" : "");
        LOG.info("Listening for MQTT on {}: {}; {}{}", where, transport, listenerSecurity.describe(), limits);
        boolean loopback = isLoopback(l.bindAddress());
        if (!loopback && config.allowAnonymous(l) && listenerSecurity.describe().contains("anonymous ALLOWED")) {
            LOG.warn("Listener {} accepts anonymous clients from the network; set allow_anonymous false and a "
                    + "password_file to require credentials", where);
        }
        if (!loopback && listener.tls == null) {
            LOG.warn("Listener {} is not encrypted: passwords and messages cross the network in clear text", where);
        }
    }

    private static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** The pipeline builder of the listener's transport kind, behind the PROXY protocol header if configured. */
    private PipelineBuilder pipelineBuilder(ListenerRuntime listener) {
        int maxPacketSize = config.mqtt().maxPacketSize();
        PipelineBuilder transport = switch (listener.config.transport()) {
            case TCP -> new TcpPipelineBuilder(listener, maxPacketSize);
            case TLS -> new TlsPipelineBuilder(listener.tls, new TcpPipelineBuilder(listener, maxPacketSize));
            case WEBSOCKET -> new WebSocketPipelineBuilder(listener, maxPacketSize);
            case WEBSOCKET_TLS -> new TlsPipelineBuilder(listener.tls,
                    new WebSocketPipelineBuilder(listener, maxPacketSize));
        };
        return listener.config.proxyProtocol() > 0 ? new ProxyProtocolPipelineBuilder(listener, transport)
                : transport;
    }

    private void initPipeline(ListenerRuntime listener, PipelineBuilder pipeline, SocketChannel ch) {
        InetSocketAddress remote = ch.remoteAddress();
        if (!listener.admit(remote == null ? null : remote.getAddress(), AddressSource.SOCKET)) {
            ch.close();
            return;
        }
        if (!listener.tryOpen()) {
            metrics.listenerConnectionsRefused.increment();
            LIMIT_LOG.warn("Listener {} holds its maximum of {} connections; closing new ones", listener.name,
                    listener.config.maxConnections());
            ch.close();
            return;
        }
        pipeline.build(ch);
    }

    /** Rebuilds every TLS listener's context from its files now (SIGHUP): what each did. */
    public List<io.ternmq.broker.security.ReloadOutcome> reloadTls() {
        List<io.ternmq.broker.security.ReloadOutcome> done = new ArrayList<>();
        for (ListenerRuntime l : listeners) {
            if (l.tls != null) {
                done.add(l.tls.reloadNow());
            }
        }
        return done;
    }

    /** The server socket channel class of this transport (epoll or NIO), for other listeners on its loops. */
    public Class<? extends ServerChannel> serverChannelClass() {
        return serverChannelClass;
    }

    /** The client socket channel class of this transport (epoll or NIO), for outgoing connections (bridges). */
    public Class<? extends io.netty.channel.Channel> socketChannelClass() {
        return serverChannelClass == EpollServerSocketChannel.class ? io.netty.channel.epoll.EpollSocketChannel.class
                : io.netty.channel.socket.nio.NioSocketChannel.class;
    }

    /** An I/O event loop, round robin: the owner of a session restored from the store until its client returns. */
    public io.netty.channel.EventLoop nextLoop() {
        return ioGroup.next();
    }

    /** How many MQTT listeners there are (indexes of {@link #connections(int)} and the like). */
    public int listenerCount() {
        return listeners.size();
    }

    /** The configuration of the listener at this index. */
    public ListenerConfig listener(int listenerIndex) {
        return listeners.get(listenerIndex).config;
    }

    /** When the certificate the listener at this index serves expires; null for a listener without TLS. */
    public java.time.Instant certificateExpiry(int listenerIndex) {
        ServerTlsContext tls = listeners.get(listenerIndex).tls;
        X509Certificate cert = tls == null ? null : tls.serverCertificate();
        return cert == null ? null : cert.getNotAfter().toInstant();
    }

    /** Whether every listener is bound and accepting connections (readiness). */
    public boolean listening() {
        return !serverChannels.isEmpty() && serverChannels.size() == listeners.size()
                && serverChannels.stream().allMatch(Channel::isActive);
    }

    /** Open TCP connections of the listener at this index, for listings and limits' checks. */
    public int connections(int listenerIndex) {
        return listeners.get(listenerIndex).connections.get();
    }

    @Override
    public void close() {
        for (Channel ch : serverChannels) {
            ch.close().awaitUninterruptibly();
        }
        serverChannels.clear();
        // every loop tells its connections (MQTT 5 clients learn why), then up to 2 s for them to close
        List<Promise<Void>> closed = new ArrayList<>();
        for (EventExecutor loop : ioGroup) {
            Promise<Void> done = loop.newPromise();
            closed.add(done);
            try {
                loop.execute(() -> LoopConnections.serverShutdown(done));
            } catch (RejectedExecutionException e) {
                done.trySuccess(null); // already stopping
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        for (Promise<Void> done : closed) {
            done.awaitUninterruptibly(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
        for (ListenerRuntime l : listeners) {
            if (l.tls != null) {
                l.tls.close();
            }
        }
        acceptGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    /**
     * Stops the I/O loops, after {@link #close}: apart, since what else runs on them (the cluster's links) closes in
     * between.
     */
    public void stopLoops() {
        ioGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
