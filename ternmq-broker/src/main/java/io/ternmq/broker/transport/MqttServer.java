package io.ternmq.broker.transport;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.config.ListenerConfig;
import io.ternmq.broker.protocol.BrokerContext;
import io.ternmq.codec.MqttDecoder;
import io.ternmq.codec.MqttEncoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Network listeners: event loop groups (epoll when the platform has it, NIO otherwise), one server channel per
 * configured listener, and the one place where a connection's pipeline is assembled.
 */
public final class MqttServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MqttServer.class);

    private final BrokerConfig config;
    private final BrokerContext broker;
    private final EventLoopGroup acceptGroup;
    private final EventLoopGroup ioGroup;
    private final Class<? extends ServerChannel> serverChannelClass;
    private final List<Channel> serverChannels = new ArrayList<>();
    /** Every client connection, so that a shutdown can tell MQTT 5 clients why it closes them. */
    private final ChannelGroup clientChannels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);

    public MqttServer(BrokerConfig config, BrokerContext broker) {
        this.config = config;
        this.broker = broker;
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.serverChannelClass = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        this.acceptGroup = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("ternmq-accept"), io);
        // one I/O loop per core: each connection, and the session attached to it, lives on one of them
        this.ioGroup = new MultiThreadIoEventLoopGroup(0, new DefaultThreadFactory("ternmq-io"), io);
        LOG.info("Transport: {}", epoll ? "epoll" : "NIO (" + Epoll.unavailabilityCause() + ")");
    }

    /** Binds every listener. @return the bound addresses, in configuration order (port 0 resolved) */
    public List<InetSocketAddress> start() throws InterruptedException {
        List<InetSocketAddress> bound = new ArrayList<>();
        for (ListenerConfig listener : config.listeners()) {
            ServerBootstrap b = new ServerBootstrap()
                    .group(acceptGroup, ioGroup)
                    .channel(serverChannelClass)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(32 * 1024, 64 * 1024))
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            initPipeline(ch.pipeline());
                        }
                    });
            Channel ch;
            try {
                ch = b.bind(listener.bindAddress(), listener.port()).sync().channel();
            } catch (Exception e) {
                close();
                throw new IllegalStateException("cannot listen on " + listener + ": " + e.getMessage(), e);
            }
            serverChannels.add(ch);
            InetSocketAddress address = (InetSocketAddress) ch.localAddress();
            bound.add(address);
            LOG.info("Listening for MQTT on {}:{}", address.getHostString(), address.getPort());
        }
        return bound;
    }

    private void initPipeline(ChannelPipeline p) {
        clientChannels.add(p.channel());
        p.addLast("decoder", new MqttDecoder(config.maxPacketSize()));
        p.addLast("encoder", new MqttEncoder());
        p.addLast("mqtt", new MqttChannelAdapter(broker));
    }

    @Override
    public void close() {
        for (Channel ch : serverChannels) {
            ch.close().awaitUninterruptibly();
        }
        serverChannels.clear();
        for (Channel ch : clientChannels) {
            MqttChannelAdapter adapter = ch.pipeline().get(MqttChannelAdapter.class);
            if (adapter != null) {
                ch.eventLoop().execute(adapter::serverShutdown);
            }
        }
        clientChannels.newCloseFuture().awaitUninterruptibly(2, TimeUnit.SECONDS);
        acceptGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        ioGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
