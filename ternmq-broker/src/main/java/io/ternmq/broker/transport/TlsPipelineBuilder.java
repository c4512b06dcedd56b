package io.ternmq.broker.transport;

import io.netty.channel.Channel;

/**
 * MQTT over TLS: a TLS handler from the listener's current context (a reload changes it for new connections), then
 * the handlers of the transport it encrypts.
 */
final class TlsPipelineBuilder implements PipelineBuilder {
    private final ServerTlsContext tls;
    private final PipelineBuilder inner;

    TlsPipelineBuilder(ServerTlsContext tls, PipelineBuilder inner) {
        this.tls = tls;
        this.inner = inner;
    }

    @Override
    public void build(Channel ch) {
        ch.pipeline().addLast("tls", tls.newHandler(ch.alloc()));
        inner.build(ch);
    }
}
