package io.ternmq.broker.security;

/**
 * {@code plugin http}: a web service authenticates (and, with {@code plugin_opt_http_acl_url}, authorizes) clients.
 * See {@link HttpAuthPlugin} for the options and the protocol.
 */
public final class HttpSecurityProvider implements SecurityProvider {
    @Override
    public String name() {
        return "http";
    }

    @Override
    public SecurityPlugin create(SecurityContext context) {
        return new HttpAuthPlugin(context);
    }
}
