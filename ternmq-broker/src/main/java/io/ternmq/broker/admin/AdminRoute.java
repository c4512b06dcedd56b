package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;

import java.util.Set;

/**
 * One path of the admin listener and what it answers. {@link AdminRouter} finds the route, answers 404 and 405 for
 * it, and checks credentials as {@link #access()} says before {@link #handle} runs. Runs on the admin listener's own
 * event loop (never an MQTT one).
 */
public interface AdminRoute {

    /** Who may call a route. */
    enum Access {
        /** Anyone: health checks, which say only up or down. */
        PUBLIC,
        /** A user of the admin password file, or anyone with {@code metrics_anonymous true}. */
        METRICS,
        /** A user of the admin password file. */
        USER
    }

    /** The exact request path, e.g. {@code /metrics}. */
    String path();

    default Set<HttpMethod> methods() {
        return Set.of(HttpMethod.GET);
    }

    Access access();

    /** The answer; the caller sets Content-Length and keep-alive. */
    FullHttpResponse handle(FullHttpRequest request);
}
