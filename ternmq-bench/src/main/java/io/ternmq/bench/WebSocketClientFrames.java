package io.ternmq.bench;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler.ClientHandshakeStateEvent;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;

import java.net.URI;

/**
 * MQTT over WebSocket for the bench's clients (--transport ws): Netty's client handshake (subprotocol mqtt), then
 * binary frames' payloads go to the MQTT decoder as a stream and every buffer written becomes one binary frame (a
 * batch of PUBLISHes in one frame, as a browser client writing many packets at once would). The client hears of the
 * connection (and sends CONNECT) only once the upgrade is done.
 */
final class WebSocketClientFrames extends ChannelDuplexHandler {
    private static final int MAX_FRAME = 256 * 1024 * 1024;

    private boolean upgraded;
    private boolean active;

    static void addTo(ChannelPipeline p, ClientOptions o, String host, int port, boolean tls) {
        URI uri = URI.create((tls ? "wss" : "ws") + "://" + host + ":" + port + o.wsPath);
        p.addLast("http", new HttpClientCodec());
        p.addLast("http-aggregator", new HttpObjectAggregator(8192));
        p.addLast("ws", new WebSocketClientProtocolHandler(WebSocketClientProtocolConfig.newBuilder()
                .webSocketUri(uri)
                .subprotocol("mqtt")
                .maxFramePayloadLength(MAX_FRAME)
                .dropPongFrames(true)
                .build()));
        p.addLast("ws-frames", new WebSocketClientFrames());
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        active = true; // passed on once upgraded
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt == ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
            upgraded = true;
            if (active) {
                ctx.fireChannelActive();
            }
        } else if (evt == ClientHandshakeStateEvent.HANDSHAKE_TIMEOUT) {
            ctx.close();
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof BinaryWebSocketFrame || msg instanceof ContinuationWebSocketFrame) {
            ctx.fireChannelRead(((WebSocketFrame) msg).content());
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (upgraded && msg instanceof ByteBuf bytes && bytes.isReadable()) {
            ctx.write(new BinaryWebSocketFrame(bytes), promise);
        } else {
            ctx.write(msg, promise);
        }
    }
}
