package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.EventExecutor;
import io.ternmq.broker.security.AuthRequest;
import io.ternmq.broker.security.AuthResult;
import io.ternmq.broker.security.Authenticator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * {@code POST /api/v1/login} with {@code {"user":..,"password":..}}: for a browser, which should not keep a password.
 * Sets an HttpOnly, SameSite=Strict session cookie (Secure when the admin listener serves HTTPS, or when a TLS proxy
 * in front says with {@code X-Forwarded-Proto} that the request came over HTTPS) and answers the CSRF token that writes made with the cookie carry in
 * {@code X-TernMQ-CSRF}. A failed login is answered after {@code auth_failure_delay}; more than
 * {@link LoginThrottle#MAX_ATTEMPTS} a minute from one address get 429.
 */
final class LoginRoute implements AdminRoute {
    private static final Logger LOG = LoggerFactory.getLogger(LoginRoute.class);

    private final Authenticator users;
    private final Set<String> readonlyUsers;
    private final AdminLogins logins;
    private final LoginThrottle throttle = new LoginThrottle();
    private final EventExecutor loop;
    private final long failureDelayMillis;
    private final boolean listenerHttps;

    /** @param listenerHttps whether the admin listener itself serves HTTPS (its cookies are then Secure) */
    LoginRoute(Authenticator users, Set<String> readonlyUsers, AdminLogins logins, EventExecutor loop,
               long failureDelayMillis, boolean listenerHttps) {
        this.users = users;
        this.readonlyUsers = readonlyUsers;
        this.logins = logins;
        this.loop = loop;
        this.failureDelayMillis = failureDelayMillis;
        this.listenerHttps = listenerHttps;
    }

    @Override
    public String path() {
        return "/api/v1/login";
    }

    @Override
    public Set<HttpMethod> methods() {
        return Set.of(HttpMethod.POST);
    }

    @Override
    public Access access() {
        return Access.PUBLIC;
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        long now = System.currentTimeMillis();
        if (!throttle.tryAttempt(request.remoteHost(), now)) {
            FullHttpResponse r = AdminResponses.error(HttpResponseStatus.TOO_MANY_REQUESTS,
                    "too many logins from " + request.remoteHost() + "; try again later");
            r.headers().setInt(HttpHeaderNames.RETRY_AFTER,
                    (int) throttle.retryAfterSeconds(request.remoteHost(), now));
            return CompletableFuture.completedFuture(r);
        }
        Map<String, Object> body = request.jsonBody();
        if (!(body.get("user") instanceof String user) || user.isEmpty()) {
            throw AdminException.badRequest("\"user\" must be a non-empty string");
        }
        if (!(body.get("password") instanceof String password)) {
            throw AdminException.badRequest("\"password\" must be a string");
        }
        byte[] secret = password.getBytes(StandardCharsets.UTF_8);
        CompletionStage<AuthResult> checked;
        try {
            checked = users.authenticate(new AuthRequest("admin-http", user, secret, request.remoteHost(), null));
        } finally {
            Arrays.fill(secret, (byte) 0);
        }
        boolean https = listenerHttps
                || "https".equalsIgnoreCase(request.http().headers().get("X-Forwarded-Proto"));
        return checked.handle((result, error) -> error != null ? AuthResult.SERVER_UNAVAILABLE : result)
                .thenComposeAsync(result -> {
                    if (result == AuthResult.ACCEPTED) {
                        return CompletableFuture.completedFuture(loggedIn(user, https));
                    }
                    if (result == AuthResult.SERVER_UNAVAILABLE) {
                        return CompletableFuture.completedFuture(AdminResponses.error(
                                HttpResponseStatus.SERVICE_UNAVAILABLE, "cannot check credentials now"));
                    }
                    LOG.info("Admin listener: failed login of user '{}' from {}", user, request.remoteHost());
                    // the same delay as a refused MQTT CONNECT: guessing is slow whichever door is used
                    CompletableFuture<FullHttpResponse> later = new CompletableFuture<>();
                    loop.schedule(() -> later.complete(AdminResponses.error(HttpResponseStatus.UNAUTHORIZED,
                            "bad user name or password")), failureDelayMillis, TimeUnit.MILLISECONDS);
                    return later;
                }, loop);
    }

    private FullHttpResponse loggedIn(String user, boolean https) {
        String token = logins.create(user, System.currentTimeMillis());
        AdminLogins.Login login = logins.find(token, System.currentTimeMillis());
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("user", user);
        answer.put("readOnly", readonlyUsers.contains(user));
        answer.put("csrf", login.csrf());
        FullHttpResponse r = AdminResponses.json(HttpResponseStatus.OK, answer);
        r.headers().set(HttpHeaderNames.SET_COOKIE, AdminLogins.COOKIE + "=" + token + "; Path=/; Max-Age="
                + AdminLogins.TTL_MILLIS / 1000 + "; HttpOnly; SameSite=Strict" + (https ? "; Secure" : ""));
        return r;
    }
}
