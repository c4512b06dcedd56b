package io.ternmq.broker.admin;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * An answer whose body goes on after its head, for as long as it has something to say (Server-Sent Events): the
 * {@link AdminHttpHandler} writes the head (chunked, {@code Connection: close}) and hands the connection to
 * {@link Body#start}, which writes {@code HttpContent}s on the admin loop and ends with a
 * {@code LastHttpContent} and the close. The connection serves nothing else meanwhile.
 */
final class StreamingResponse extends DefaultFullHttpResponse {
    /** Writes the body; every call on the connection's loop. */
    interface Body {
        void start(ChannelHandlerContext ctx);
    }

    private final Body body;

    StreamingResponse(String contentType, Body body) {
        super(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.EMPTY_BUFFER);
        headers().set("Content-Type", contentType);
        this.body = body;
    }

    Body body() {
        return body;
    }
}
