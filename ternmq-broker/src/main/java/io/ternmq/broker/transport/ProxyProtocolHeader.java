package io.ternmq.broker.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.ProtocolDetectionResult;
import io.netty.handler.codec.ProtocolDetectionState;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProtocolException;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.handler.codec.haproxy.HAProxySSLTLV;
import io.netty.handler.codec.haproxy.HAProxyTLV;
import io.ternmq.broker.config.Cidr;
import io.ternmq.broker.config.ListenerConfig.ProxiedCertificates;
import io.ternmq.broker.config.TlsSettings.ClientCertificates;
import io.ternmq.broker.security.CertificateInfo;
import io.ternmq.broker.metrics.RateLimitedLog;
import io.ternmq.broker.transport.ListenerRuntime.AddressSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Takes the PROXY protocol header ({@code enable_proxy_protocol 1|2}) that Netty's {@link HAProxyMessageDecoder} read:
 * the client's address it names becomes the connection's ({@link ClientAddress}); a LOCAL header (the proxy's own
 * health check) keeps the socket's. With {@code proxy_protocol_v2_require_tls}, a header without haproxy's SSL TLV
 * saying the client used TLS closes the connection, unless the listener does TLS itself. A missing, wrong-version or
 * corrupt header closes the connection at once ({@link Check}, the decoder); one that never completes, at
 * {@code connect_timeout} like any connection without CONNECT.
 */
final class ProxyProtocolHeader extends ChannelInboundHandlerAdapter {
    static final String NAME = "proxy-header";
    static final String CHECK = "proxy-check";
    private static final Logger LOG = LoggerFactory.getLogger(ProxyProtocolHeader.class);
    private static final RateLimitedLog REFUSED_LOG = new RateLimitedLog(LOG, 10_000);

    private final ListenerRuntime listener;

    ProxyProtocolHeader(ListenerRuntime listener) {
        this.listener = listener;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HAProxyMessage header)) {
            ctx.fireChannelRead(msg); // cannot happen before the header; after it this handler is gone
            return;
        }
        try {
            InetSocketAddress client = clientOf(header);
            if (listener.config.proxyProtocolRequiresTls() && listener.tls == null && !clientUsedTls(header)) {
                refuse(ctx, "the PROXY header does not say the client used TLS (proxy_protocol_v2_require_tls)",
                        client);
                return;
            }
            ProxiedCertificates certificates = listener.config.proxiedCertificates();
            CertificateInfo certificate = certificates == null ? null : verifiedCertificate(header);
            if (certificates != null && certificate == null && certificates.required() == ClientCertificates.REQUIRED) {
                refuse(ctx, "the PROXY header does not say the client presented a certificate the proxy verified "
                        + "(require_certificate)", client);
                return;
            }
            if (certificate != null) {
                ctx.fireUserEventTriggered(new ProxiedCertificate(certificate));
            }
            if (client != null) {
                ClientAddress.resolved(ctx, listener, client, AddressSource.PROXY_HEADER,
                        ClientAddress.PROXY_PROTOCOL);
            } else if (!listener.admit(socketPeer(ctx), AddressSource.PROXY_HEADER)) {
                ctx.close();
            }
            ctx.pipeline().remove(this);
        } finally {
            header.release();
        }
    }

    /** The source the header names; null for LOCAL, UNKNOWN or a Unix socket (the socket's peer stays). */
    private static InetSocketAddress clientOf(HAProxyMessage header) {
        if (header.command() == HAProxyCommand.LOCAL || header.sourceAddress() == null) {
            return null;
        }
        HAProxyProxiedProtocol.AddressFamily family = header.proxiedProtocol().addressFamily();
        if (family != HAProxyProxiedProtocol.AddressFamily.AF_IPv4
                && family != HAProxyProxiedProtocol.AddressFamily.AF_IPv6) {
            return null;
        }
        InetAddress source = Cidr.literal(header.sourceAddress());
        return source == null ? null : new InetSocketAddress(source, header.sourcePort());
    }

    private static boolean clientUsedTls(HAProxyMessage header) {
        for (HAProxyTLV tlv : header.tlvs()) {
            if (tlv instanceof HAProxySSLTLV ssl && ssl.isPP2ClientSSL()) {
                return true;
            }
        }
        return false;
    }

    /**
     * The client certificate haproxy's SSL TLV vouches for, as Mosquitto 2.1 reads it: the client used TLS, presented
     * a certificate (on this connection or its TLS session) and the proxy verified it (verify 0). Named by its CN
     * (PP2_SUBTYPE_SSL_CN, {@code send-proxy-v2-ssl-cn}); null if the header says less.
     */
    private static CertificateInfo verifiedCertificate(HAProxyMessage header) {
        for (HAProxyTLV tlv : header.tlvs()) {
            if (tlv instanceof HAProxySSLTLV ssl && ssl.isPP2ClientSSL()
                    && (ssl.isPP2ClientCertConn() || ssl.isPP2ClientCertSess()) && ssl.verify() == 0) {
                for (HAProxyTLV sub : ssl.encapsulatedTLVs()) {
                    if (sub.type() == HAProxyTLV.Type.PP2_TYPE_SSL_CN) {
                        return CertificateInfo.ofProxiedCommonName(sub.content().toString(StandardCharsets.UTF_8));
                    }
                }
                return CertificateInfo.ofProxiedCommonName(null);
            }
        }
        return null;
    }

    /** The user event that hands the certificate a proxy verified to {@link MqttChannelAdapter}. */
    record ProxiedCertificate(CertificateInfo certificate) {
    }

    private static InetAddress socketPeer(ChannelHandlerContext ctx) {
        return ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress() : null;
    }

    private void refuse(ChannelHandlerContext ctx, String why, InetSocketAddress client) {
        REFUSED_LOG.warn("Closing connection {}{} on listener {}: {}",
                MqttChannelAdapter.remoteAddress(ctx.channel()),
                client == null ? "" : " (client " + ClientAddress.describe(client) + ")", listener.name, why);
        ctx.close();
    }

    /** The decoder's HAProxyProtocolException: a corrupt header. Anything else (a reset) is not the header's. */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof HAProxyProtocolException) {
            refuse(ctx, "bad PROXY protocol header: " + cause.getMessage(), null);
        } else {
            ctx.fireExceptionCaught(cause);
        }
    }

    /**
     * In front of the decoder: the first bytes must be a PROXY header of the configured version. Without this a
     * client that sends MQTT straight away would wait for a v1 header's end until connect_timeout; here it is closed
     * as soon as 12 bytes show it is no header.
     */
    static final class Check extends ByteToMessageDecoder {
        private final ListenerRuntime listener;

        Check(ListenerRuntime listener) {
            this.listener = listener;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            ProtocolDetectionResult<HAProxyProtocolVersion> detected = HAProxyMessageDecoder.detectProtocol(in);
            if (detected.state() == ProtocolDetectionState.NEEDS_MORE_DATA) {
                return;
            }
            HAProxyProtocolVersion expected = listener.config.proxyProtocol() == 1 ? HAProxyProtocolVersion.V1
                    : HAProxyProtocolVersion.V2;
            if (detected.state() == ProtocolDetectionState.INVALID || detected.detectedProtocol() != expected) {
                in.skipBytes(in.readableBytes());
                REFUSED_LOG.warn("Closing connection {} on listener {}: {}", MqttChannelAdapter.remoteAddress(
                        ctx.channel()), listener.name, detected.state() == ProtocolDetectionState.INVALID
                        ? "it did not begin with a PROXY protocol header (enable_proxy_protocol)"
                        : "a PROXY protocol " + detected.detectedProtocol() + " header; the listener expects "
                        + expected);
                ctx.close();
                return;
            }
            ctx.pipeline().remove(this); // hands what it holds to the decoder
        }
    }
}
