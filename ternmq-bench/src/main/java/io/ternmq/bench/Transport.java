package io.ternmq.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.concurrent.DefaultThreadFactory;

import javax.net.ssl.SSLException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.concurrent.TimeUnit;

/** The client side of the network: event loops (epoll where available), socket options, TLS, source addresses. */
final class Transport implements AutoCloseable {
    final EventLoopGroup group;
    final boolean epoll;
    final InetSocketAddress remote;
    /** Where subscribers connect: {@link #remote} unless --sub-host/--sub-port name another node. */
    final InetSocketAddress subscriberRemote;
    final SslContext ssl;
    /** MQTT over WebSocket (--transport ws). */
    final boolean webSocket;
    private final Bootstrap base;
    private final int sourceIps;

    Transport(ClientOptions o) {
        this.webSocket = o.webSocket(); // first: a bad --transport fails before threads start
        this.epoll = !o.nio && Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.group = new MultiThreadIoEventLoopGroup(o.threads(), new DefaultThreadFactory("bench-io", true), io);
        String host = o.host;
        try {
            this.remote = new InetSocketAddress(InetAddress.getByName(host), o.port);
            host = o.subscriberHost();
            this.subscriberRemote = o.splitSubscribers()
                    ? new InetSocketAddress(InetAddress.getByName(host), o.subscriberPort()) : remote;
        } catch (UnknownHostException e) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw new IllegalArgumentException("unknown host " + host);
        }
        this.sourceIps = o.sourceIps >= 0 ? Math.min(o.sourceIps, 254)
                : remote.getAddress().isLoopbackAddress() && remote.getAddress().getAddress().length == 4 ? 250 : 0;
        this.ssl = o.tls ? sslContext(o) : null;
        Class<? extends Channel> channelClass = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
        this.base = new Bootstrap()
                .group(group)
                .channel(channelClass)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, false)
                .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 30_000)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024));
    }

    private static SslContext sslContext(ClientOptions o) {
        try {
            SslContextBuilder b = SslContextBuilder.forClient();
            if (o.insecure) {
                b.trustManager(InsecureTrustManagerFactory.INSTANCE);
            } else if (o.caFile != null) {
                b.trustManager(o.caFile.toFile());
            }
            return b.build();
        } catch (SSLException e) {
            throw new IllegalArgumentException("cannot set up TLS: " + e.getMessage(), e);
        }
    }

    /** A bootstrap for one more client (Bootstrap is mutable, so each connection gets a copy). */
    Bootstrap bootstrap() {
        return base.clone();
    }

    /** The source address of client number {@code index}, or null to let the kernel pick. */
    InetSocketAddress localAddress(int index) {
        if (sourceIps <= 0) {
            return null;
        }
        return new InetSocketAddress("127.0.0." + (1 + index % sourceIps), 0);
    }

    int sourceIps() {
        return sourceIps;
    }

    String describe() {
        return (epoll ? "epoll" : "nio") + ", " + ((MultiThreadIoEventLoopGroup) group).executorCount() + " threads"
                + (sourceIps > 0 ? ", source addresses 127.0.0.1-" + sourceIps : "") + (ssl != null ? ", TLS" : "")
                + (webSocket ? ", WebSocket" : "");
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
