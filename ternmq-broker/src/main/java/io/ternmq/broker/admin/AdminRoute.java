package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;

import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * One path (or, with {@link #prefix()}, one tree of paths) of the admin listener and what it answers.
 * {@link AdminRouter} finds the route, answers 404 and 405 for it, and checks credentials as {@link #access()} says
 * (and that read-only users only read) before {@link #handle} runs. Runs on the admin listener's own event loop
 * (never an MQTT one); a route that needs the sessions' loops answers later.
 */
public interface AdminRoute {

    /** Who may call a route. */
    enum Access {
        /** Anyone: health checks, which say only up or down; the login, which checks its own credentials. */
        PUBLIC,
        /** A user of the admin password file, or anyone with {@code metrics_anonymous true}. */
        METRICS,
        /** A user of the admin password file; methods other than GET only those not in admin_readonly_users. */
        USER
    }

    /** The exact request path, e.g. {@code /metrics}; with {@link #prefix()}, the path every one served begins with. */
    String path();

    /** Whether the route serves every path below {@link #path()} (which then ends with '/'), e.g. a client's. */
    default boolean prefix() {
        return false;
    }

    default Set<HttpMethod> methods() {
        return Set.of(HttpMethod.GET);
    }

    Access access();

    /** Whether users of admin_readonly_users may use its methods other than GET too (logging out). */
    default boolean readOnlyUsersMayWrite() {
        return false;
    }

    /**
     * The answer; the caller sets Content-Length and keep-alive. May throw (or complete with) an
     * {@link AdminException} for a request it refuses.
     */
    CompletionStage<FullHttpResponse> handle(AdminRequest request);
}
