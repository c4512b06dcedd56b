package io.ternmq.broker.transport;

import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;

/**
 * MQTT over WebSocket (MQTT 5.0 §6): the HTTP upgrade request is checked by {@link WebSocketUpgrade} and answered by
 * Netty's handshaker, after which {@link WebSocketFrames} is all that stands between the socket and the adapter: it
 * reads and writes the frames, answers pings and close frames. No extensions (so no permessage-deflate); a frame
 * larger than {@code max_packet_size} is refused with close status 1009. An upgrade not done within
 * {@code connect_timeout} is closed by the connection's CONNECT deadline, which runs from the accept.
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

    WebSocketPipelineBuilder(ListenerRuntime listener, int maxPacketSize) {
        this.listener = listener;
        this.maxPacketSize = maxPacketSize;
    }

    @Override
    public void build(Channel ch) {
        ChannelPipeline p = ch.pipeline();
        p.addLast("http", new HttpServerCodec(MAX_REQUEST_LINE, MAX_HEADER_BYTES, MAX_REQUEST_BODY));
        p.addLast("http-aggregator", new HttpObjectAggregator(MAX_REQUEST_BODY));
        p.addLast(WebSocketUpgrade.NAME, new WebSocketUpgrade(listener, maxPacketSize));
        p.addLast("mqtt", new MqttChannelAdapter(listener, maxPacketSize));
    }
}
