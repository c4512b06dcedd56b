package io.ternmq.broker.transport;

import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;

/**
 * MQTT over WebSocket (MQTT 5.0 §6): the HTTP upgrade request is checked by {@link WebSocketUpgrade} and answered by
 * Netty's {@link WebSocketServerProtocolHandler}, which then replaces the HTTP codec by the frame codec and answers
 * pings and close frames; {@link WebSocketFrames} turns binary frames into the byte stream the adapter decodes, and the
 * packets it writes into one binary frame each. No extensions (so no permessage-deflate); a frame larger than
 * {@code max_packet_size} is refused with close status 1009.
 */
final class WebSocketPipelineBuilder implements PipelineBuilder {
    /** MQTT's registered subprotocol, mqtt.js's name for 3.1 and the versioned names some clients offer. */
    static final String SUBPROTOCOLS = "mqtt,mqttv3.1,mqttv3.1.1,mqttv5";
    /** An upgrade request has no body; a small bound for what a client might send anyway. */
    private static final int MAX_REQUEST_BODY = 1024;
    private static final int MAX_REQUEST_LINE = 4096;
    private static final int MAX_HEADER_BYTES = 8192;

    private final ListenerRuntime listener;
    private final int maxPacketSize;
    private final WebSocketServerProtocolConfig protocol;

    WebSocketPipelineBuilder(ListenerRuntime listener, int maxPacketSize, long connectTimeoutMillis) {
        this.listener = listener;
        this.maxPacketSize = maxPacketSize;
        this.protocol = WebSocketServerProtocolConfig.newBuilder()
                .websocketPath(listener.config.webSocket().path())
                .checkStartsWith(true) // the path is checked exactly, query string aside, by WebSocketUpgrade
                .subprotocols(SUBPROTOCOLS)
                .handshakeTimeoutMillis(connectTimeoutMillis)
                .maxFramePayloadLength(maxPacketSize)
                .allowExtensions(false)
                .withUTF8Validator(false) // text frames are refused anyway: one handler less per connection
                .dropPongFrames(true)
                .build();
    }

    @Override
    public void build(Channel ch) {
        ChannelPipeline p = ch.pipeline();
        p.addLast("http", new HttpServerCodec(MAX_REQUEST_LINE, MAX_HEADER_BYTES, MAX_REQUEST_BODY));
        p.addLast("http-aggregator", new HttpObjectAggregator(MAX_REQUEST_BODY));
        p.addLast(WebSocketUpgrade.NAME, new WebSocketUpgrade(listener));
        p.addLast("ws", new WebSocketServerProtocolHandler(protocol));
        p.addLast(WebSocketFrames.NAME, new WebSocketFrames());
        p.addLast("mqtt", new MqttChannelAdapter(listener, maxPacketSize));
    }
}
