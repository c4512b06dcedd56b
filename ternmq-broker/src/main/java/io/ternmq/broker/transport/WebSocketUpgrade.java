package io.ternmq.broker.transport;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker13;
import io.netty.util.ReferenceCountUtil;
import io.ternmq.broker.config.Cidr;
import io.ternmq.broker.config.WebSocketSettings;
import io.ternmq.broker.transport.ListenerRuntime.AddressSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Checks the HTTP request that opens a WebSocket connection where Netty's handshake is lenient, then has Netty's
 * handshaker answer it. Another path gets 404 (Netty passes it on), a request that is no upgrade 400, a
 * {@code Sec-WebSocket-Version} other than 13 gets 426 with {@code Sec-WebSocket-Version: 13} (Netty also speaks
 * drafts 7, 8 and 00, the last when the header is missing), an offer of subprotocols none of which is MQTT's 400
 * (Netty would answer 101 without one). A request from a trusted proxy names the client in {@code X-Forwarded-For}.
 * Leaves the pipeline once a request passes, handing the connection to {@link WebSocketFrames}; every refusal closes
 * the connection.
 */
final class WebSocketUpgrade extends ChannelInboundHandlerAdapter {
    static final String NAME = "ws-upgrade";
    private static final Logger LOG = LoggerFactory.getLogger(WebSocketUpgrade.class);
    private static final Set<String> SUBPROTOCOLS = Set.of(WebSocketPipelineBuilder.SUBPROTOCOLS.split(","));

    /** What Netty's handshaker names the frame codec it installs (and WebSocketFrames replaces). */
    private static final String NETTY_FRAME_DECODER = "wsdecoder";
    private static final String NETTY_FRAME_ENCODER = "wsencoder";
    /** For the decoder Netty's handshaker makes and WebSocketFrames replaces before it reads a byte. */
    private static final WebSocketDecoderConfig HANDSHAKER_CONFIG = WebSocketDecoderConfig.newBuilder()
            .allowExtensions(false).withUTF8Validator(false).build();

    private final ListenerRuntime listener;
    private final int maxPacketSize;
    /** The client as a PROXY header named it, if one did; else the socket's peer is. */
    private InetSocketAddress proxied;

    WebSocketUpgrade(ListenerRuntime listener, int maxPacketSize) {
        this.listener = listener;
        this.maxPacketSize = maxPacketSize;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ClientAddress client) {
            proxied = client.address();
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest req)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        String refusal = check(ctx, req);
        if (refusal != null) {
            req.release();
            return;
        }
        WebSocketSettings ws = listener.config.webSocket();
        if (!ws.trustedProxies().isEmpty()) {
            InetSocketAddress peer = peer(ctx);
            ClientAddress named = trusted(peer) ? forwardedFor(req.headers()) : null;
            InetSocketAddress client = named != null ? named.address() : peer;
            if (client != null && !ClientAddress.resolved(ctx, listener, client, AddressSource.FORWARDED_FOR,
                    named != null ? named.via() : null)) {
                req.release();
                return;
            }
        }
        ctx.pipeline().remove(this);
        handshake(ctx.channel(), req);
    }

    /**
     * Netty's handshaker answers 101 (with the subprotocol chosen from the client's offer) and puts its frame decoder
     * and encoder in front of the HTTP codec, which it removes once the 101 is written; {@link WebSocketFrames} takes
     * their place at once, before any frame arrives. Netty's protocol handler is not used: it would stay in the
     * pipeline and keep the handshaker for the connection's life (about 700 B per idle connection, with the frame
     * decoder, encoder and their contexts; docs/benchmarks.md).
     */
    private void handshake(Channel ch, FullHttpRequest req) {
        try {
            WebSocketServerHandshaker13 handshaker = new WebSocketServerHandshaker13(
                    listener.config.webSocket().path(), WebSocketPipelineBuilder.SUBPROTOCOLS, HANDSHAKER_CONFIG);
            ChannelPromise written = ch.newPromise();
            handshaker.handshake(ch, req, null, written);
            ChannelPipeline p = ch.pipeline();
            if (p.get(NETTY_FRAME_DECODER) == null) { // the handshake failed at once (and closes)
                ch.close();
                return;
            }
            WebSocketFrames frames = new WebSocketFrames(maxPacketSize);
            p.replace(NETTY_FRAME_DECODER, WebSocketFrames.NAME, frames);
            p.remove(NETTY_FRAME_ENCODER);
            written.addListener(done -> {
                if (done.isSuccess()) {
                    frames.handshakeDone();
                } else {
                    ch.close();
                }
            });
        } finally {
            req.release();
        }
    }

    /** @return null if the request may be upgraded, else why not (it was answered and the connection closes) */
    private String check(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (req.decoderResult().isFailure()) {
            return refuse(ctx, HttpResponseStatus.BAD_REQUEST, "malformed HTTP request", null);
        }
        String path = new QueryStringDecoder(req.uri()).path();
        if (!path.equals(listener.config.webSocket().path())) {
            return refuse(ctx, HttpResponseStatus.NOT_FOUND, "MQTT over WebSocket is served on "
                    + listener.config.webSocket().path() + ", not " + path, null);
        }
        HttpHeaders h = req.headers();
        if (!HttpMethod.GET.equals(req.method())) {
            return refuse(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "a WebSocket upgrade is a GET",
                    HttpHeaderNames.ALLOW + ": GET");
        }
        if (!h.containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)
                || !h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)) {
            return refuse(ctx, HttpResponseStatus.BAD_REQUEST,
                    "not a WebSocket upgrade (Upgrade: websocket and Connection: Upgrade expected)", null);
        }
        if (!"13".equals(h.get(HttpHeaderNames.SEC_WEBSOCKET_VERSION))) {
            return refuse(ctx, HttpResponseStatus.UPGRADE_REQUIRED, "only WebSocket version 13 (RFC 6455) is spoken",
                    HttpHeaderNames.SEC_WEBSOCKET_VERSION + ": 13");
        }
        if (!h.contains(HttpHeaderNames.SEC_WEBSOCKET_KEY)) {
            return refuse(ctx, HttpResponseStatus.BAD_REQUEST, "Sec-WebSocket-Key missing", null);
        }
        List<String> offered = h.getAll(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL);
        if (!offered.isEmpty() && offered.stream().flatMap(v -> List.of(v.split(",")).stream())
                .map(String::trim).noneMatch(SUBPROTOCOLS::contains)) {
            return refuse(ctx, HttpResponseStatus.BAD_REQUEST, "none of the subprotocols offered (" + String.join(
                    ", ", offered) + ") is one of " + WebSocketPipelineBuilder.SUBPROTOCOLS, null);
        }
        return null;
    }

    private String refuse(ChannelHandlerContext ctx, HttpResponseStatus status, String why, String extraHeader) {
        LOG.debug("Refusing the WebSocket upgrade from {} on listener {}: {} {}",
                MqttChannelAdapter.remoteAddress(ctx.channel()), listener.name, status.code(), why);
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(why + "\n", StandardCharsets.UTF_8));
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, res.content().readableBytes())
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        if (extraHeader != null) {
            int colon = extraHeader.indexOf(':');
            res.headers().set(extraHeader.substring(0, colon), extraHeader.substring(colon + 1).trim());
        }
        ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
        return why;
    }

    private InetSocketAddress peer(ChannelHandlerContext ctx) {
        if (proxied != null) {
            return proxied;
        }
        return ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a : null;
    }

    private boolean trusted(InetSocketAddress a) {
        return a != null && a.getAddress() != null && trusted(a.getAddress());
    }

    private boolean trusted(InetAddress a) {
        for (Cidr block : listener.config.webSocket().trustedProxies()) {
            if (block.contains(a)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The client a trusted proxy names, from RFC 7239's {@code Forwarded} if the request has one, else from
     * {@code X-Forwarded-For}: read from the right (the hop nearest to us), skipping the hops that are trusted proxies
     * themselves; the first one that is not is the client. An entry that is no IP address ({@code unknown}, an
     * obfuscated {@code _name}, garbage) ends the walk: nothing left of it can be believed, and the address stays the
     * last hop believed (the peer itself if none).
     *
     * @return the client and the header that named it; null when the header named nobody beyond the peer
     */
    private ClientAddress forwardedFor(HttpHeaders headers) {
        List<String> forwarded = headers.getAll("Forwarded");
        List<InetSocketAddress> hops = new ArrayList<>();
        String via;
        if (!forwarded.isEmpty()) {
            via = ClientAddress.FORWARDED;
            for (String value : forwarded) {
                for (String element : ForwardedHeader.elements(value)) {
                    hops.add(ForwardedHeader.forNode(element));
                }
            }
        } else {
            via = ClientAddress.X_FORWARDED_FOR;
            for (String value : headers.getAll("X-Forwarded-For")) {
                for (String hop : value.split(",")) {
                    InetAddress a = Cidr.literal(withoutPort(hop.trim()));
                    hops.add(a == null ? null : new InetSocketAddress(a, 0));
                }
            }
        }
        InetSocketAddress client = null;
        for (int i = hops.size() - 1; i >= 0; i--) {
            InetSocketAddress a = hops.get(i);
            if (a == null) {
                break;
            }
            client = a;
            if (!trusted(a.getAddress())) {
                break;
            }
        }
        return client == null ? null : new ClientAddress(client, via);
    }

    /** "1.2.3.4:5678" and "[2001:db8::1]:80" as some proxies write them, without the port. */
    private static String withoutPort(String hop) {
        if (hop.startsWith("[")) {
            int end = hop.indexOf(']');
            return end < 0 ? hop : hop.substring(1, end);
        }
        int colon = hop.indexOf(':');
        return colon > 0 && colon == hop.lastIndexOf(':') ? hop.substring(0, colon) : hop;
    }
}
