package io.ternmq.broker.transport;

import io.netty.channel.Channel;

/** MQTT directly on TCP: the adapter alone, decoding the byte stream and encoding what the connection sends. */
final class TcpPipelineBuilder implements PipelineBuilder {
    private final ListenerRuntime listener;
    private final int maxPacketSize;

    TcpPipelineBuilder(ListenerRuntime listener, int maxPacketSize) {
        this.listener = listener;
        this.maxPacketSize = maxPacketSize;
    }

    @Override
    public void build(Channel ch) {
        ch.pipeline().addLast("mqtt", new MqttChannelAdapter(listener, maxPacketSize));
    }
}
