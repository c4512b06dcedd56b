package io.ternmq.broker.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslHandler;
import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.config.ListenerConfig;
import io.ternmq.broker.config.ListenerSettings;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.protocol.BrokerContext;
import io.ternmq.broker.testing.TestPki;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The pipeline builders: which handlers a connection of each transport kind gets, and in which order. */
class PipelineBuilderTest {

    private static ListenerRuntime listener() {
        return listener(new ListenerConfig("127.0.0.1", 0));
    }

    private static ListenerRuntime listener(ListenerConfig config) {
        BrokerContext context = new BrokerContext(BrokerConfig.builder().build(), null, new BrokerMetrics(), null,
                Map.of(), null, null);
        return new ListenerRuntime(config, context, null, null, null);
    }

    @Test
    @DisplayName("WebSocket: HTTP codec and aggregator, our upgrade checks, adapter; after Netty's handshaker has answered the upgrade, only our frame codec before the adapter")
    void webSocket() {
        EmbeddedChannel ch = new EmbeddedChannel();
        new WebSocketPipelineBuilder(listener(new ListenerSettings().webSocket(true).build("127.0.0.1", 0)), 1024)
                .build(ch);
        assertThat(ch.pipeline().toMap().keySet()).containsExactly("http", "http-aggregator", "ws-upgrade", "mqtt");
        ch.writeInbound(Unpooled.copiedBuffer("""
                GET /mqtt HTTP/1.1\r
                Host: localhost\r
                Upgrade: websocket\r
                Connection: Upgrade\r
                Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
                Sec-WebSocket-Version: 13\r
                Sec-WebSocket-Protocol: mqtt\r
                \r
                """, StandardCharsets.US_ASCII));
        ByteBuf response = ch.readOutbound();
        assertThat(response.toString(StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 101 ")
                .contains("sec-websocket-protocol: mqtt");
        response.release();
        assertThat(ch.pipeline().toMap().keySet()).containsExactly(WebSocketFrames.NAME, "mqtt");
        ch.finishAndReleaseAll();
    }

    @Test
    @DisplayName("PROXY protocol: check, decoder and header handlers in front of the transport's own")
    void proxyProtocol() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ListenerRuntime l = listener(new ListenerSettings().proxyProtocol(2).build("127.0.0.1", 0));
        new ProxyProtocolPipelineBuilder(l, new TcpPipelineBuilder(l, 1024)).build(ch);
        assertThat(ch.pipeline().toMap().keySet()).containsExactly("proxy-check", "proxy-decoder", "proxy-header",
                "mqtt");
        ch.close();
    }

    @Test
    @DisplayName("TCP: the MQTT adapter alone, one handler per connection")
    void tcp() {
        EmbeddedChannel ch = new EmbeddedChannel();
        new TcpPipelineBuilder(listener(), 1024).build(ch);
        assertThat(ch.pipeline().toMap().keySet()).containsExactly("mqtt");
        assertThat(ch.pipeline().get("mqtt")).isInstanceOf(MqttChannelAdapter.class);
        ch.close();
    }

    @Test
    @DisplayName("TLS: the TLS handler, then what the transport it encrypts adds")
    void tlsWrapsItsInnerTransport(@TempDir Path dir) {
        TestPki.Issued server = TestPki.create(dir).server("localhost");
        ListenerConfig config = new ListenerSettings().certificate(server.certFile(), server.keyFile())
                .build("127.0.0.1", 0);
        ServerTlsContext tls = new ServerTlsContext(config, 10_000, null, null);
        PipelineBuilder inner = c -> c.pipeline().addLast("inner", new ChannelInboundHandlerAdapter());
        EmbeddedChannel ch = new EmbeddedChannel();
        new TlsPipelineBuilder(tls, inner).build(ch);
        assertThat(ch.pipeline().toMap().keySet()).containsExactly("tls", "inner");
        assertThat(ch.pipeline().get("tls")).isInstanceOf(SslHandler.class);
        ch.close();
        tls.close();
    }
}
