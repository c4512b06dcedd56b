package io.ternmq.broker.admin;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code POST /api/v1/logout}: ends the login whose cookie the request carries (its token is forgotten at once, so
 * a copy of the cookie is worthless too) and tells the browser to drop the cookie. With the cookie it is a write,
 * so it needs the login's CSRF token: another site cannot log the user out. Read-only users may log out.
 */
final class LogoutRoute implements AdminRoute {
    private final AdminLogins logins;
    private final boolean https;

    LogoutRoute(AdminLogins logins, boolean https) {
        this.logins = logins;
        this.https = https;
    }

    @Override
    public String path() {
        return "/api/v1/logout";
    }

    @Override
    public Set<HttpMethod> methods() {
        return Set.of(HttpMethod.POST);
    }

    @Override
    public Access access() {
        return Access.USER;
    }

    @Override
    public boolean readOnlyUsersMayWrite() {
        return true;
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        // a request with HTTP Basic credentials may carry no cookie: nothing to end, and it says so
        boolean ended = logins.remove(AdminRouter.cookie(request.http(), AdminLogins.COOKIE));
        FullHttpResponse r = AdminResponses.json(HttpResponseStatus.OK, Map.of("loggedOut", ended));
        r.headers().set(HttpHeaderNames.SET_COOKIE, AdminLogins.COOKIE + "=; Path=/; Max-Age=0; HttpOnly; "
                + "SameSite=Strict" + (https ? "; Secure" : ""));
        return CompletableFuture.completedFuture(r);
    }
}
