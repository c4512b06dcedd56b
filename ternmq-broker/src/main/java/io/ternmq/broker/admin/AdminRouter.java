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
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Finds the {@link AdminRoute} of a request's path (404 if none, 405 with {@code Allow} for another method) and
 * checks its caller: HTTP Basic credentials against the admin password file, through the same authenticator (and
 * cache of recent successes) as MQTT clients, off the event loop; or the cookie of a login, whose writes must carry
 * its CSRF token. Users in {@code admin_readonly_users} may only read (GET): anything else is 403.
 */
final class AdminRouter {
    private static final Logger LOG = LoggerFactory.getLogger(AdminRouter.class);
    private static final String CHALLENGE = "Basic realm=\"TernMQ\", charset=\"UTF-8\"";
    static final String CSRF_HEADER = "X-TernMQ-CSRF";

    private final Map<String, AdminRoute> routes = new LinkedHashMap<>();
    private final List<AdminRoute> prefixRoutes = new ArrayList<>();
    private final Authenticator users;
    private final boolean metricsAnonymous;
    private final Set<String> readonlyUsers;
    private final AdminLogins logins;
    private final long authFailureDelayMillis;

    /** @param authFailureDelayMillis how long a refusal of HTTP Basic credentials waits, as a failed login does */
    AdminRouter(List<AdminRoute> routes, Authenticator users, boolean metricsAnonymous, Set<String> readonlyUsers,
                AdminLogins logins, long authFailureDelayMillis) {
        for (AdminRoute r : routes) {
            if (r.prefix()) {
                prefixRoutes.add(r);
            } else if (this.routes.put(r.path(), r) != null) {
                throw new IllegalArgumentException("two routes for " + r.path());
            }
        }
        // the longest prefix wins
        prefixRoutes.sort((a, b) -> b.path().length() - a.path().length());
        this.users = users;
        this.metricsAnonymous = metricsAnonymous;
        this.readonlyUsers = Set.copyOf(readonlyUsers);
        this.logins = logins;
        this.authFailureDelayMillis = authFailureDelayMillis;
    }

    private AdminRoute find(String rawPath) {
        AdminRoute exact = routes.get(rawPath);
        if (exact != null) {
            return exact;
        }
        for (AdminRoute r : prefixRoutes) {
            if (rawPath.startsWith(r.path()) && rawPath.length() > r.path().length()) {
                return r;
            }
        }
        return null;
    }

    /**
     * The answer to a request, possibly later (after a password check, or a listing from the sessions' loops); the
     * route itself runs on {@code loop}, the admin listener's.
     */
    CompletionStage<FullHttpResponse> route(FullHttpRequest request, String remoteAddress,
                                            ScheduledExecutorService loop) {
        String path = new QueryStringDecoder(request.uri()).rawPath();
        AdminRoute route = find(path);
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
        String remoteHost = hostOf(remoteAddress);
        boolean open = route.access() == AdminRoute.Access.PUBLIC
                || (route.access() == AdminRoute.Access.METRICS && metricsAnonymous);
        if (open) {
            return run(route, request, null, remoteHost);
        }
        Credentials c = Credentials.of(request.headers().get(HttpHeaderNames.AUTHORIZATION));
        if (c == null) {
            String token = cookie(request, AdminLogins.COOKIE);
            if (token == null) {
                return done(unauthorized("credentials required (HTTP Basic, or POST /api/v1/login)"));
            }
            AdminLogins.Login login = logins.find(token, System.currentTimeMillis());
            if (login == null) {
                return done(unauthorized("the login has expired: log in again"));
            }
            // a browser sends the cookie with any request a page makes, whoever's page: a write must also carry
            // the token only the login's answer told
            if (isWrite(request.method()) && !constantTimeEquals(login.csrf(),
                    request.headers().get(CSRF_HEADER))) {
                return done(AdminResponses.error(HttpResponseStatus.FORBIDDEN,
                        "a write with the login cookie needs the " + CSRF_HEADER + " header of the login"));
            }
            return authorized(route, request, login.user(), remoteHost);
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
        }).thenComposeAsync(r -> {
            if (r == null) {
                return authorized(route, request, c.user(), remoteHost);
            }
            if (r.status().code() != 401 || authFailureDelayMillis <= 0) {
                return done(r);
            }
            // the same delay as a failed login or a refused MQTT CONNECT: guessing is slow whichever door is used
            CompletableFuture<FullHttpResponse> later = new CompletableFuture<>();
            loop.schedule(() -> later.complete(r), authFailureDelayMillis, TimeUnit.MILLISECONDS);
            return later;
        }, loop);
    }

    private CompletionStage<FullHttpResponse> authorized(AdminRoute route, FullHttpRequest request, String user,
                                                         String remoteHost) {
        if (isWrite(request.method()) && readonlyUsers.contains(user) && !route.readOnlyUsersMayWrite()) {
            return done(AdminResponses.error(HttpResponseStatus.FORBIDDEN,
                    "user '" + user + "' is read-only (admin_readonly_users)"));
        }
        return run(route, request, user, remoteHost);
    }

    /** Runs a route; a request it refuses becomes its {@code {"code","message"}} answer. */
    private static CompletionStage<FullHttpResponse> run(AdminRoute route, FullHttpRequest request, String user,
                                                         String remoteHost) {
        CompletionStage<FullHttpResponse> answer;
        try {
            answer = route.handle(AdminRequest.of(request, route.path(), user, remoteHost));
        } catch (AdminException e) {
            return done(AdminResponses.error(e.status(), e.getMessage()));
        }
        return answer.exceptionally(e -> {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof AdminException a) {
                return AdminResponses.error(a.status(), a.getMessage());
            }
            throw e instanceof CompletionException ce ? ce : new CompletionException(e);
        });
    }

    static boolean isWrite(HttpMethod method) {
        return !method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD);
    }

    private static boolean constantTimeEquals(String expected, String given) {
        return given != null && MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8),
                given.getBytes(StandardCharsets.UTF_8));
    }

    /** The value of a cookie of the request, or null. */
    static String cookie(FullHttpRequest request, String name) {
        for (String header : request.headers().getAll(HttpHeaderNames.COOKIE)) {
            for (String part : header.split(";")) {
                int eq = part.indexOf('=');
                if (eq > 0 && part.substring(0, eq).strip().equals(name)) {
                    return part.substring(eq + 1).strip();
                }
            }
        }
        return null;
    }

    /** "host:port" (or "[v6]:port") without the port. */
    static String hostOf(String address) {
        int colon = address.lastIndexOf(':');
        String host = colon > 0 ? address.substring(0, colon) : address;
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
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
