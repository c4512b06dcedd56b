package io.ternmq.broker.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.ternmq.broker.config.TlsSettings.CertificateIdentity;
import io.ternmq.broker.protocol.ClientChannel;
import io.ternmq.broker.protocol.MqttConnection;
import io.ternmq.broker.security.CertificateInfo;
import io.ternmq.broker.metrics.RateLimitedLog;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.DecodeFailure;
import io.ternmq.codec.MqttDecoder;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttPacketEncoder;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Publish;
import io.ternmq.codec.ReasonCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLPeerUnverifiedException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The thin adapter between a Netty channel and {@link MqttConnection}: forwards decoded packets and channel events
 * in, and exposes the channel through {@link ClientChannel}. The last handler of the pipeline, and its only one besides
 * TLS: it decodes (as an {@link MqttDecoder} taking the packets itself) and encodes what the connection sends (checked
 * by {@link OutboundLimits} first). Separate decoder, encoder and limits handlers would cost every idle connection
 * three more pipeline contexts.
 * <p>
 * Transport-level security lives here too: the verified client certificate of a TLS connection is kept for the
 * authentication request, and on listeners with {@code use_identity_as_username} it replaces the CONNECT's user
 * name (and the password is dropped) before the protocol sees it; a CONNACK refusing credentials is held back by the
 * auth failure delay.
 */
final class MqttChannelAdapter extends MqttDecoder implements ClientChannel {
    private static final Logger LOG = LoggerFactory.getLogger(MqttChannelAdapter.class);
    private static final RateLimitedLog HANDSHAKE_LOG = new RateLimitedLog(LOG, 10_000);

    private final ListenerRuntime listener;
    private ChannelHandlerContext ctx;
    private MqttConnection connection;
    private CertificateInfo certificate;
    /** A refusing CONNACK is waiting out the auth failure delay; the close it is followed by waits too. */
    private boolean refusalDelayed;
    /** The close has begun ({@link LingeringClose}): nothing more is decoded or written. */
    private boolean closing;
    /** Closes the connection if it stays unwritable too long; null while it is writable. */
    private ScheduledFuture<?> unwritableTimer;
    /** The client's address as a proxy in front named it ({@link ClientAddress}); null: the socket's peer. */
    private InetSocketAddress clientAddress;
    /** Which header named {@link #clientAddress} ({@link ClientAddress#via()}); null: none. */
    private String clientAddressVia;
    // This connection's traffic for the admin API: plain fields, written and read on this connection's loop only.
    private long bytesIn;
    private long bytesOut;
    private long messagesIn;
    private long messagesOut;

    MqttChannelAdapter(ListenerRuntime listener, int maxPacketSize) {
        super(maxPacketSize);
        this.listener = listener;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.connection = new MqttConnection(this, listener.context);
    }

    /** The pipeline is torn down once the channel is closed and deregistered: give the listener its slot back. */
    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        listener.closed();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        connection.onOpen();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof ProxyProtocolHeader.ProxiedCertificate proxied) {
            certificate = proxied.certificate();
            return;
        }
        if (evt instanceof ClientAddress client) {
            clientAddress = client.address();
            clientAddressVia = client.via();
            return;
        }
        if (evt instanceof SslHandshakeCompletionEvent done) {
            if (done.isSuccess()) {
                recordPeerCertificate();
            } else {
                listener.context.metrics().tlsHandshakeFailures.increment();
                HANDSHAKE_LOG.warn("TLS handshake with {} on listener {} failed: {}", remoteAddress(),
                        listener.name, String.valueOf(done.cause()));
            }
        }
        super.userEventTriggered(ctx, evt);
    }

    private void recordPeerCertificate() {
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        if (ssl == null) {
            return;
        }
        try {
            Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
            if (chain.length > 0 && chain[0] instanceof X509Certificate x509) {
                certificate = CertificateInfo.of(x509);
            }
        } catch (SSLPeerUnverifiedException e) {
            // no client certificate (require_certificate false or optional)
        }
    }

    /** Counts the MQTT bytes of each read (once per read, not per packet), then decodes them. */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof ByteBuf bytes) {
            listener.context.metrics().bytesReceived.add(bytes.readableBytes());
            bytesIn += bytes.readableBytes();
        }
        super.channelRead(ctx, msg);
    }

    @Override
    protected void decoded(ChannelHandlerContext ctx, Object packetOrFailure, List<Object> out) {
        if (closing) {
            return; // decoded from bytes that arrived before the close began
        }
        if (packetOrFailure instanceof MqttPacket packet) {
            if (packet instanceof Publish) {
                messagesIn++;
            } else {
                listener.context.metrics().packetsReceived[packet.type().value()].increment();
            }
            if (packet instanceof Connect connect && listener.usernameFromCertificate != CertificateIdentity.NONE
                    && certificate != null) {
                packet = withCertificateIdentity(connect);
            }
            connection.onPacket(packet);
        } else if (packetOrFailure instanceof DecodeFailure failure) {
            connection.onDecodeFailure(failure);
        }
    }

    /**
     * Not ByteToMessageDecoder's: it asks for another read whenever reading is paused and it passed nothing down the
     * pipeline, which here is always (packets are taken in {@link #decoded}), so it would undo every pause the
     * connection makes (backpressure, publish rate, authentication). Paused with half a packet buffered, the rest is
     * read when reading resumes.
     */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        discardSomeReadBytes();
        ctx.fireChannelReadComplete();
    }

    /** Mosquitto's use_identity_as_username: the certificate says who the client is; its password is not used. */
    private Connect withCertificateIdentity(Connect c) {
        String identity = certificate.identity(listener.usernameFromCertificate);
        return new Connect(c.version(), c.clientId(), c.cleanStart(), c.keepAliveSeconds(), identity, null, c.will(),
                c.properties());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        super.channelInactive(ctx); // decodes what is left
        OutboundLimits.cancel(unwritableTimer);
        unwritableTimer = null;
        connection.onClosed();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException || cause.getCause() instanceof javax.net.ssl.SSLException) {
            LOG.debug("I/O error on {}: {}", remoteAddress(), cause.toString());
        } else {
            LOG.warn("Unexpected error on {}; closing it", remoteAddress(), cause);
        }
        ctx.close();
    }

    // ------------------------------------------------------------------ ClientChannel

    @Override
    public EventExecutor executor() {
        return ctx.executor();
    }

    @Override
    public void write(MqttPacket packet) {
        if (packet instanceof Connack connack && refusesCredentials(connack.reasonCode())) {
            long delay = listener.authFailureDelay.failed(remoteAddress());
            if (delay > 0) {
                listener.context.metrics().authFailuresDelayed.increment();
                refusalDelayed = true;
                ctx.channel().config().setAutoRead(false);
                ctx.executor().schedule(() -> {
                    ByteBuf bytes = encode(packet);
                    if (bytes != null) {
                        countSent(packet, bytes.readableBytes());
                        ctx.write(bytes, ctx.voidPromise());
                        beginClose();
                    }
                }, delay, TimeUnit.MILLISECONDS);
                return;
            }
        }
        if (refusalDelayed || closing) {
            return; // nothing follows a refusal or a close
        }
        if (packet instanceof Publish p) {
            if (listener.outboundLimits.admit(ctx.channel(), p)) {
                writePublish(p);
            }
            return;
        }
        writeWhole(packet);
    }

    /** A payload other receivers on this loop get too is not copied again: only this receiver's header is built. */
    private void writePublish(Publish p) {
        ByteBuf payload = SharedPayloads.sharedCopy(p.payload(), ctx.alloc(), ctx.executor());
        if (payload == null) {
            writeWhole(p);
            return;
        }
        ByteBuf header;
        try {
            header = MqttPacketEncoder.encodePublishHeader(ctx.alloc(), p, version());
        } catch (RuntimeException e) {
            payload.release();
            cannotEncode(p, e);
            return;
        }
        int size = header.readableBytes() + payload.readableBytes();
        listener.context.metrics().bytesSent.add(size);
        bytesOut += size;
        messagesOut++;
        boolean writable = ctx.channel().isWritable();
        ctx.write(header, ctx.voidPromise());
        ctx.write(payload, ctx.voidPromise());
        flushIfFilled(writable);
    }

    /**
     * Flushes at once when this write filled the write buffer (it was writable before), instead of at the end of the
     * loop's batch: a burst routed to this client in one batch (a bridge's or many publishers' reads) then reaches the
     * socket, and the channel counts as backed up, holding publishers back, only when the socket itself is full. Once
     * per filling: while it stays unwritable nothing more is flushed early.
     */
    private void flushIfFilled(boolean wasWritable) {
        if (wasWritable && !ctx.channel().isWritable()) {
            ctx.flush();
        }
    }

    private void writeWhole(MqttPacket packet) {
        ByteBuf bytes = encode(packet);
        if (bytes != null) {
            countSent(packet, bytes.readableBytes());
            boolean writable = ctx.channel().isWritable();
            ctx.write(bytes, ctx.voidPromise());
            flushIfFilled(writable);
        }
    }

    /** PUBLISH packets are counted by the protocol, which knows their QoS; their bytes here, with the others'. */
    private void countSent(MqttPacket packet, int bytes) {
        listener.context.metrics().bytesSent.add(bytes);
        bytesOut += bytes;
        if (packet instanceof Publish) {
            messagesOut++;
        } else {
            listener.context.metrics().packetsSent[packet.type().value()].increment();
        }
    }

    /** @return the packet's bytes, sized exactly, or null if it cannot be encoded (then the connection closes) */
    private ByteBuf encode(MqttPacket packet) {
        try {
            return MqttPacketEncoder.encode(ctx.alloc(), packet, version());
        } catch (RuntimeException e) {
            cannotEncode(packet, e);
            return null;
        }
    }

    private void cannotEncode(MqttPacket packet, RuntimeException e) {
        LOG.warn("Cannot encode {} for {}; closing the connection", packet.type(), remoteAddress(), e);
        ctx.close();
    }

    private boolean refusesCredentials(int code) {
        return version().isV5()
                ? code == ReasonCode.BAD_USER_NAME_OR_PASSWORD || code == ReasonCode.NOT_AUTHORIZED
                : code == ReasonCode.V3_BAD_USER_NAME_OR_PASSWORD || code == ReasonCode.V3_NOT_AUTHORIZED;
    }

    @Override
    public void flush() {
        if (!refusalDelayed && !closing) {
            ctx.flush();
        }
    }

    @Override
    public void close() {
        if (refusalDelayed) {
            return; // closed after the delayed CONNACK
        }
        beginClose();
    }

    /**
     * Written packets (a DISCONNECT, a refusing CONNACK) reach the client before the connection closes, and the client
     * can read them even if it is still sending ({@link LingeringClose}). The protocol side is told at once, in a task
     * of its own (the caller may be in the middle of its own close), rather than when the socket finally closes.
     */
    private void beginClose() {
        if (closing || !ctx.channel().isActive()) {
            if (!closing) {
                ctx.close();
            }
            return;
        }
        closing = true;
        LingeringClose.begin(ctx, listener.context.metrics());
        ctx.executor().execute(connection::onClosed);
    }

    @Override
    public void setProtocolVersion(MqttVersion version) {
        setVersion(version); // the decoder's, which the encoding uses too
    }

    @Override
    public void setAutoRead(boolean autoRead) {
        if (!refusalDelayed && !closing) {
            ctx.channel().config().setAutoRead(autoRead);
        }
    }

    @Override
    public String remoteAddress() {
        // not kept: an idle connection would carry the string; logs and authentication ask for it rarely
        return clientAddress != null ? ClientAddress.describe(clientAddress) : socketPeer(ctx.channel());
    }

    /** "host:port" of the channel's client (as a proxy named it, else the peer), for logs; "?" if unknown. */
    static String remoteAddress(Channel ch) {
        MqttChannelAdapter adapter = ch.pipeline().get(MqttChannelAdapter.class);
        return adapter != null && adapter.ctx != null ? adapter.remoteAddress() : socketPeer(ch);
    }

    private static String socketPeer(Channel ch) {
        Object a = ch.remoteAddress();
        return a == null ? "?" : a.toString().replaceFirst("^/", "");
    }

    @Override
    public CertificateInfo certificate() {
        return certificate;
    }

    @Override
    public String listenerName() {
        return listener.name;
    }

    @Override
    public String transport() {
        return listener.transportName;
    }

    @Override
    public String addressVia() {
        return clientAddressVia;
    }

    @Override
    public long bytesReceived() {
        return bytesIn;
    }

    @Override
    public long bytesSent() {
        return bytesOut;
    }

    @Override
    public long messagesReceived() {
        return messagesIn;
    }

    @Override
    public long messagesSent() {
        return messagesOut;
    }

    @Override
    public boolean isWritable() {
        return ctx.channel().isWritable();
    }

    @Override
    public long unwrittenBytes() {
        return ctx.channel().bytesBeforeWritable();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        unwritableTimer = listener.outboundLimits.writabilityChanged(ctx.channel(), unwritableTimer);
        connection.onWritabilityChanged();
        ctx.fireChannelWritabilityChanged();
    }
}
