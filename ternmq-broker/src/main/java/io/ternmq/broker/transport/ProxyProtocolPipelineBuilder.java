package io.ternmq.broker.transport;

import io.netty.channel.Channel;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;

/**
 * A listener behind a proxy that speaks the PROXY protocol ({@code enable_proxy_protocol}): the header is read first,
 * before TLS, then the handlers of the listener's own transport follow. The three header handlers leave the pipeline
 * once the header is read.
 */
final class ProxyProtocolPipelineBuilder implements PipelineBuilder {
    /** TLVs beyond the addresses: haproxy's SSL TLV with version and cipher fits easily. */
    private static final int MAX_TLV_BYTES = 4096;

    private final ListenerRuntime listener;
    private final PipelineBuilder inner;

    ProxyProtocolPipelineBuilder(ListenerRuntime listener, PipelineBuilder inner) {
        this.listener = listener;
        this.inner = inner;
    }

    @Override
    public void build(Channel ch) {
        ch.pipeline().addLast(ProxyProtocolHeader.CHECK, new ProxyProtocolHeader.Check(listener));
        ch.pipeline().addLast("proxy-decoder", new HAProxyMessageDecoder(MAX_TLV_BYTES));
        ch.pipeline().addLast(ProxyProtocolHeader.NAME, new ProxyProtocolHeader(listener));
        inner.build(ch);
    }
}
