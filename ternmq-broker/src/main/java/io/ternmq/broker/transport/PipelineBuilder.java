package io.ternmq.broker.transport;

import io.netty.channel.Channel;

/**
 * Adds a new connection's handlers for one {@link io.ternmq.broker.config.TransportKind}: what lies between the
 * socket and {@link MqttChannelAdapter}, and the adapter itself. One per listener, chosen by
 * {@code MqttServer.pipelineBuilder}; a connection carries only the handlers added, nothing of the builder.
 */
interface PipelineBuilder {

    /** Adds the handlers to the pipeline of a connection just accepted (and admitted) on the listener. */
    void build(Channel ch);
}
