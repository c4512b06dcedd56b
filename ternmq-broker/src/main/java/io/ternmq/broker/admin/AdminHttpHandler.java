package io.ternmq.broker.admin;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * One admin connection's requests, one at a time (reading pauses while one is answered, and requests already read
 * behind it wait in order, so pipelined requests get their answers in order): requests Netty could not read (431 for headers over 8 KiB, 414 for a long request line,
 * 400 otherwise), the {@code Host} check (421), then the {@link AdminRouter}. An idle connection is closed.
 */
final class AdminHttpHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(AdminHttpHandler.class);

    /** More pipelined requests than a client has reason to send before reading an answer: the connection closes. */
    private static final int MAX_WAITING = 64;

    private final AdminRouter router;
    private final HostCheck hosts;
    /** Set while a request is being answered asynchronously; requests decoded meanwhile wait in {@link #waiting}. */
    private boolean answering;
    private final java.util.ArrayDeque<FullHttpRequest> waiting = new java.util.ArrayDeque<>();

    AdminHttpHandler(AdminRouter router, HostCheck hosts) {
        this.router = router;
        this.hosts = hosts;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (answering) {
            // the codec had decoded more requests from what was already read: each waits for the one before
            if (waiting.size() >= MAX_WAITING) {
                request.release();
                ctx.close();
                return;
            }
            waiting.add(request);
            return;
        }
        handle(ctx, request);
    }

    private void handle(ChannelHandlerContext ctx, FullHttpRequest request) {
        DecoderResult decoded = request.decoderResult();
        if (decoded.isFailure()) {
            Throwable cause = decoded.cause();
            HttpResponseStatus status = cause instanceof TooLongHttpHeaderException
                    ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                    : cause instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
                    : HttpResponseStatus.BAD_REQUEST;
            String why = cause instanceof TooLongFrameException ? "request too large" : "malformed request";
            request.release();
            answer(ctx, AdminResponses.error(status, why), false);
            return;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        InetSocketAddress reached = (InetSocketAddress) ctx.channel().localAddress();
        String host = request.headers().get(HttpHeaderNames.HOST);
        if (host == null && request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
            host = "localhost"; // HTTP/1.0 need not send one; a browser always does
        }
        if (!hosts.allows(host, reached)) {
            request.release();
            answer(ctx, AdminResponses.error(HttpResponseStatus.MISDIRECTED_REQUEST,
                    host == null ? "no Host header" : "this listener does not serve " + host), false);
            return;
        }
        ctx.channel().config().setAutoRead(false);
        answering = true;
        String remote = String.valueOf(ctx.channel().remoteAddress()).replaceFirst("^/", "");
        router.route(request, remote, ctx.executor()).whenComplete((response, error) -> ctx.executor().execute(() -> {
            request.release();
            answering = false;
            if (error != null) {
                LOG.warn("Admin listener: answering {} {} failed", request.method(), request.uri(), error);
                answer(ctx, AdminResponses.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error"),
                        false);
            } else if (response instanceof StreamingResponse stream) {
                answering = true; // the stream has the connection until it closes it: nothing more is read
                stream(ctx, stream);
                return;
            } else {
                answer(ctx, response, keepAlive);
            }
            FullHttpRequest next;
            while (!answering && ctx.channel().isActive() && (next = waiting.poll()) != null) {
                handle(ctx, next);
            }
            if (!answering) {
                ctx.channel().config().setAutoRead(true);
            }
        }));
    }

    /** The head of a streamed answer (the security headers, chunked, no length), then its body. */
    private static void stream(ChannelHandlerContext ctx, StreamingResponse stream) {
        AdminResponses.secured(stream);
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, stream.status());
        head.headers().set(stream.headers()).remove(HttpHeaderNames.CONTENT_LENGTH)
                .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        stream.release();
        ctx.writeAndFlush(head);
        // reading again: a client that goes away is noticed at once (anything it sends waits, up to MAX_WAITING)
        ctx.channel().config().setAutoRead(true);
        stream.body().start(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        FullHttpRequest left;
        while ((left = waiting.poll()) != null) {
            left.release();
        }
        super.channelInactive(ctx);
    }

    private static void answer(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive) {
        AdminResponses.secured(response);
        if (keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(response, ctx.voidPromise());
        } else {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent) {
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof IOException)) {
            LOG.warn("Admin listener: error on {}; closing it", ctx.channel().remoteAddress(), cause);
        }
        ctx.close();
    }
}
