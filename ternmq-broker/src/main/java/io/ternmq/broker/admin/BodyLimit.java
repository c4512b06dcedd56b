package io.ternmq.broker.admin;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.ReferenceCountUtil;

import java.util.concurrent.TimeUnit;

/**
 * Netty's aggregator of a request's body, with the admin listener's own answer to one over the limit: 413 as
 * {@code {"code","message"}} with the headers every answer carries (Netty's has neither), then the connection ends,
 * since the rest of the body would follow.
 */
final class BodyLimit extends HttpObjectAggregator {
    BodyLimit(int maxBytes) {
        super(maxBytes);
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        ReferenceCountUtil.release(oversized);
        FullHttpResponse r = AdminResponses.secured(AdminResponses.error(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                "the body is over " + maxContentLength() / 1024 + " KiB"));
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        if (!(ctx.channel() instanceof DuplexChannel duplex) || ctx.pipeline().get(SslHandler.class) != null) {
            ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        // closing at once, with the rest of the body still arriving, makes the kernel reset the connection, and a
        // reset can discard the 413 before the client reads it: end only our side, keep reading (the aggregator
        // drops the rest of the body), and close once the client has, or after a while
        ctx.writeAndFlush(r).addListener((ChannelFutureListener) f -> {
            duplex.shutdownOutput();
            ctx.executor().schedule(() -> ctx.close(), LINGER_SECONDS, TimeUnit.SECONDS);
        });
    }

    /** How long a connection answered 413 may go on sending the body it announced. */
    private static final long LINGER_SECONDS = 5;
}
