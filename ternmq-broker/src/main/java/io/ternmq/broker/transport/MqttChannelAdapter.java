package io.ternmq.broker.transport;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import io.ternmq.broker.protocol.BrokerContext;
import io.ternmq.broker.protocol.ClientChannel;
import io.ternmq.broker.protocol.MqttConnection;
import io.ternmq.codec.DecodeFailure;
import io.ternmq.codec.MqttEncoder;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * The thin adapter between a Netty channel and {@link MqttConnection}: forwards decoded packets and channel events
 * in, and exposes the channel through {@link ClientChannel}. The last handler of the pipeline.
 */
final class MqttChannelAdapter extends ChannelInboundHandlerAdapter implements ClientChannel {
    private static final Logger LOG = LoggerFactory.getLogger(MqttChannelAdapter.class);

    private final BrokerContext broker;
    private ChannelHandlerContext ctx;
    private MqttConnection connection;

    MqttChannelAdapter(BrokerContext broker) {
        this.broker = broker;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.connection = new MqttConnection(this, broker);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        connection.onOpen();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof MqttPacket packet) {
            connection.onPacket(packet);
        } else if (msg instanceof DecodeFailure failure) {
            connection.onDecodeFailure(failure);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        connection.onClosed();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            LOG.debug("I/O error on {}: {}", remoteAddress(), cause.toString());
        } else {
            LOG.warn("Unexpected error on {}; closing it", remoteAddress(), cause);
        }
        ctx.close();
    }

    /** The broker is stopping; runs on this channel's event loop. */
    void serverShutdown() {
        connection.onServerShutdown();
    }

    // ------------------------------------------------------------------ ClientChannel

    @Override
    public EventExecutor executor() {
        return ctx.executor();
    }

    @Override
    public void write(MqttPacket packet) {
        ctx.write(packet, ctx.voidPromise());
    }

    @Override
    public void flush() {
        ctx.flush();
    }

    @Override
    public void close() {
        // written packets (a CONNACK with an error, a DISCONNECT) reach the socket before it closes
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public boolean isOpen() {
        return ctx.channel().isActive();
    }

    @Override
    public void setProtocolVersion(MqttVersion version) {
        MqttEncoder encoder = ctx.pipeline().get(MqttEncoder.class);
        if (encoder != null) {
            encoder.setVersion(version);
        }
    }

    @Override
    public void setAutoRead(boolean autoRead) {
        ctx.channel().config().setAutoRead(autoRead);
    }

    @Override
    public String remoteAddress() {
        Object a = ctx.channel().remoteAddress();
        return a == null ? "?" : a.toString().replaceFirst("^/", "");
    }
}
