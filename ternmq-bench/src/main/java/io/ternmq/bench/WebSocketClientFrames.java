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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ThreadLocalRandom;

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
            // framed and masked here, not by Netty's encoder: it masks four bytes at a time through the buffer's
            // checked writes, which cost the load generator more CPU than the broker spends on the same frame and
            // took it from the broker on a 2-core machine. Same bytes on the wire: a binary frame, a random mask.
            ByteBuf header = ctx.alloc().buffer(14);
            int mask = ThreadLocalRandom.current().nextInt() | 1; // never 0: the broker unmasks as for a browser
            writeHeader(header, bytes.readableBytes(), mask);
            mask(bytes, mask);
            ctx.write(header, ctx.voidPromise());
            ctx.write(bytes, promise);
        } else {
            ctx.write(msg, promise);
        }
    }

    /** A final binary frame's header (RFC 6455 5.2) for {@code length} payload bytes masked with {@code mask}. */
    static void writeHeader(ByteBuf header, int length, int mask) {
        header.writeByte(0x82);
        if (length < 126) {
            header.writeByte(0x80 | length);
        } else if (length <= 0xFFFF) {
            header.writeByte(0x80 | 126);
            header.writeShort(length);
        } else {
            header.writeByte(0x80 | 127);
            header.writeLong(length);
        }
        header.writeInt(mask);
    }

    /** XORs the readable bytes with the 4-byte {@code mask} (big-endian, from the first byte), eight at a time. */
    static void mask(ByteBuf bytes, int mask) {
        int length = bytes.readableBytes();
        if (bytes.nioBufferCount() != 1) {
            for (int i = 0; i < length; i++) {
                int at = bytes.readerIndex() + i;
                bytes.setByte(at, bytes.getByte(at) ^ (mask >>> (24 - 8 * (i & 3))));
            }
            return;
        }
        ByteBuffer nio = bytes.internalNioBuffer(bytes.readerIndex(), length).order(ByteOrder.BIG_ENDIAN);
        int base = nio.position();
        long longMask = (mask & 0xFFFFFFFFL) << 32 | (mask & 0xFFFFFFFFL);
        int i = 0;
        for (; i + 8 <= length; i += 8) {
            nio.putLong(base + i, nio.getLong(base + i) ^ longMask);
        }
        for (; i < length; i++) {
            nio.put(base + i, (byte) (nio.get(base + i) ^ (mask >>> (24 - 8 * (i & 3)))));
        }
    }
}
