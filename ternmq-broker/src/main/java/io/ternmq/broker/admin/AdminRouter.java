package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.ternmq.broker.security.AuthRequest;
import io.ternmq.broker.security.AuthResult;
import io.ternmq.broker.security.Authenticator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.stream.Collectors;

/**
 * Finds the {@link AdminRoute} of a request's path (404 if none, 405 with {@code Allow} for another method) and
 * checks its caller: HTTP Basic credentials against the admin password file, through the same authenticator (and
 * cache of recent successes) as MQTT clients, off the event loop.
 */
final class AdminRouter {
    private static final Logger LOG = LoggerFactory.getLogger(AdminRouter.class);
    private static final String CHALLENGE = "Basic realm=\"TernMQ\", charset=\"UTF-8\"";

    private final Map<String, AdminRoute> routes = new LinkedHashMap<>();
    private final Authenticator users;
    private final boolean metricsAnonymous;

    AdminRouter(List<AdminRoute> routes, Authenticator users, boolean metricsAnonymous) {
        for (AdminRoute r : routes) {
            if (this.routes.put(r.path(), r) != null) {
                throw new IllegalArgumentException("two routes for " + r.path());
            }
        }
        this.users = users;
        this.metricsAnonymous = metricsAnonymous;
    }

    /**
     * The answer to a request, possibly later (after a password check); the route itself runs on {@code loop}, the
     * admin listener's.
     */
    CompletionStage<FullHttpResponse> route(FullHttpRequest request, String remoteAddress, Executor loop) {
        String path = new QueryStringDecoder(request.uri()).path();
        AdminRoute route = routes.get(path);
        if (route == null) {
            return done(AdminResponses.error(HttpResponseStatus.NOT_FOUND, "no such path: " + path));
        }
        if (!route.methods().contains(request.method())) {
            FullHttpResponse r = AdminResponses.error(HttpResponseStatus.METHOD_NOT_ALLOWED,
                    request.method() + " is not allowed on " + path);
            r.headers().set(HttpHeaderNames.ALLOW,
                    route.methods().stream().map(HttpMethod::name).sorted().collect(Collectors.joining(", ")));
            return done(r);
        }
        boolean open = route.access() == AdminRoute.Access.PUBLIC
                || (route.access() == AdminRoute.Access.METRICS && metricsAnonymous);
        if (open) {
            return done(route.handle(request));
        }
        Credentials c = Credentials.of(request.headers().get(HttpHeaderNames.AUTHORIZATION));
        if (c == null) {
            return done(unauthorized("credentials required (HTTP Basic)"));
        }
        CompletionStage<AuthResult> checked;
        try {
            checked = users.authenticate(new AuthRequest("admin-http", c.user(), c.password(), remoteAddress,
                    null));
        } finally {
            Arrays.fill(c.password(), (byte) 0);
        }
        return checked.handle((result, error) -> {
            if (error != null) {
                LOG.warn("Admin listener: checking the credentials of {} failed", remoteAddress, error);
                return AdminResponses.error(HttpResponseStatus.SERVICE_UNAVAILABLE, "cannot check credentials now");
            }
            if (result == AuthResult.SERVER_UNAVAILABLE) {
                return AdminResponses.error(HttpResponseStatus.SERVICE_UNAVAILABLE, "too many credential checks");
            }
            if (result != AuthResult.ACCEPTED) {
                LOG.info("Admin listener: bad credentials for user '{}' from {}", c.user(), remoteAddress);
                return unauthorized("bad user name or password");
            }
            return null; // allowed: the route answers, below
        }).thenApplyAsync(r -> r != null ? r : route.handle(request), loop);
    }

    private static FullHttpResponse unauthorized(String why) {
        FullHttpResponse r = AdminResponses.error(HttpResponseStatus.UNAUTHORIZED, why);
        r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, CHALLENGE);
        return r;
    }

    private static CompletionStage<FullHttpResponse> done(FullHttpResponse r) {
        return CompletableFuture.completedFuture(r);
    }

    /** User name and password of an {@code Authorization: Basic} header. */
    private record Credentials(String user, byte[] password) {
        static Credentials of(String header) {
            if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
                return null;
            }
            byte[] decoded;
            try {
                decoded = Base64.getDecoder().decode(header.substring(6).strip());
            } catch (IllegalArgumentException e) {
                return null;
            }
            int colon = -1;
            for (int i = 0; i < decoded.length; i++) {
                if (decoded[i] == ':') {
                    colon = i;
                    break;
                }
            }
            if (colon <= 0) {
                Arrays.fill(decoded, (byte) 0);
                return null;
            }
            String user = new String(decoded, 0, colon, StandardCharsets.UTF_8);
            byte[] password = Arrays.copyOfRange(decoded, colon + 1, decoded.length);
            Arrays.fill(decoded, (byte) 0);
            return new Credentials(user, password);
        }
    }
}
