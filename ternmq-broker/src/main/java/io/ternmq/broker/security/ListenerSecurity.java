package io.ternmq.broker.security;

import io.ternmq.broker.config.ListenerConfig;
import io.ternmq.broker.config.TlsSettings.CertificateIdentity;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The authentication and authorization of one listener, assembled from its settings and plugins:
 * <ol>
 *   <li>On a listener that takes the user name from client certificates, a client whose user name is its verified
 *       certificate's identity is accepted (the transport put it there), as in Mosquitto.</li>
 *   <li>A client without a user name is accepted only with {@code allow_anonymous}.</li>
 *   <li>Otherwise the plugins' authenticators are asked in order; the first to accept wins. Without any, the client
 *       is treated like an anonymous one.</li>
 * </ol>
 * Authorization: every plugin authorizer must allow; with none, everything is allowed.
 */
public final class ListenerSecurity implements AutoCloseable {
    private static final CompletionStage<AuthResult> ACCEPT = CompletableFuture.completedFuture(AuthResult.ACCEPTED);
    private static final CompletionStage<AuthResult> REFUSE =
            CompletableFuture.completedFuture(AuthResult.NOT_AUTHORIZED);

    private final ListenerConfig listener;
    private final Authenticator authenticator;
    private final Authorizer authorizer;
    private final Map<String, EnhancedAuthenticator> enhanced;
    private final List<SecurityPlugin> plugins;
    private final String description;

    private ListenerSecurity(ListenerConfig listener, Authenticator authenticator,
                             Authorizer authorizer, Map<String, EnhancedAuthenticator> enhanced,
                             List<SecurityPlugin> plugins, String description) {
        this.listener = listener;
        this.authenticator = authenticator;
        this.authorizer = authorizer;
        this.enhanced = Map.copyOf(enhanced);
        this.plugins = List.copyOf(plugins);
        this.description = description;
    }

    /** The embedder's authenticator and methods, used as they are; everything is authorized. */
    static ListenerSecurity fixed(ListenerConfig listener, Authenticator authenticator,
                                  Collection<EnhancedAuthenticator> enhanced) {
        Map<String, EnhancedAuthenticator> byMethod = new LinkedHashMap<>();
        for (EnhancedAuthenticator e : enhanced) {
            byMethod.putIfAbsent(e.method(), e);
        }
        return new ListenerSecurity(listener, authenticator, Authorizer.ALLOW_ALL, byMethod,
                List.of(), "authentication by " + authenticator.getClass().getSimpleName());
    }

    /** From the listener's settings and the plugins built for it. */
    static ListenerSecurity assemble(ListenerConfig listener, boolean allowAnonymous, List<SecurityPlugin> plugins) {
        List<Authenticator> authenticators = new ArrayList<>();
        List<Authorizer> authorizers = new ArrayList<>();
        Map<String, EnhancedAuthenticator> byMethod = new LinkedHashMap<>();
        for (SecurityPlugin p : plugins) {
            if (p.authenticator() != null) {
                authenticators.add(p.authenticator());
            }
            if (p.authorizer() != null) {
                authorizers.add(p.authorizer());
            }
            for (EnhancedAuthenticator e : p.enhancedAuthenticators()) {
                byMethod.putIfAbsent(e.method(), e);
            }
        }
        CertificateIdentity identity = listener.usernameFromCertificate();
        Authenticator authenticator = new Combined(List.copyOf(authenticators), allowAnonymous, identity);
        Authorizer authorizer = authorizers.isEmpty() ? Authorizer.ALLOW_ALL
                : authorizers.size() == 1 ? authorizers.get(0) : new AllOf(List.copyOf(authorizers));
        StringBuilder d = new StringBuilder();
        if (identity != CertificateIdentity.NONE) {
            d.append("certificate ").append(identity.name()).append(" as user name; ");
        }
        List<String> parts = new ArrayList<>();
        for (SecurityPlugin p : plugins) {
            parts.add(p.describe());
        }
        d.append(parts.isEmpty() ? "no password check" : String.join("; ", parts));
        d.append("; anonymous ").append(allowAnonymous ? "ALLOWED" : "refused");
        if (authorizers.isEmpty()) {
            d.append("; no ACL (everything allowed)");
        }
        return new ListenerSecurity(listener, authenticator, authorizer, byMethod, plugins,
                d.toString());
    }

    public ListenerConfig listener() {
        return listener;
    }

    public Authenticator authenticator() {
        return authenticator;
    }

    public Authorizer authorizer() {
        return authorizer;
    }

    public Map<String, EnhancedAuthenticator> enhancedAuthenticators() {
        return enhanced;
    }


    /** For the start-up log. */
    public String describe() {
        return description;
    }

    public void reload() {
        plugins.forEach(SecurityPlugin::reload);
    }

    @Override
    public void close() {
        plugins.forEach(SecurityPlugin::close);
    }

    /** The authentication rules above. */
    private record Combined(List<Authenticator> chain, boolean allowAnonymous, CertificateIdentity identity)
            implements Authenticator {
        @Override
        public CompletionStage<AuthResult> authenticate(AuthRequest request) {
            if (identity != CertificateIdentity.NONE && request.username() != null) {
                CertificateInfo cert = request.certificate();
                if (cert != null && request.username().equals(cert.identity(identity))) {
                    return ACCEPT;
                }
            }
            if (request.username() == null || chain.isEmpty()) {
                return allowAnonymous ? ACCEPT : REFUSE;
            }
            return ask(0, request, null);
        }

        private CompletionStage<AuthResult> ask(int i, AuthRequest request, AuthResult firstRefusal) {
            CompletionStage<AuthResult> answer;
            try {
                answer = chain.get(i).authenticate(request);
            } catch (RuntimeException e) {
                answer = CompletableFuture.completedFuture(AuthResult.SERVER_UNAVAILABLE);
            }
            return answer.handle((r, e) -> e != null || r == null ? AuthResult.SERVER_UNAVAILABLE : r)
                    .thenCompose(r -> {
                        if (r == AuthResult.ACCEPTED) {
                            return ACCEPT;
                        }
                        AuthResult refusal = firstRefusal == null ? r : firstRefusal;
                        return i + 1 < chain.size() ? ask(i + 1, request, refusal)
                                : CompletableFuture.completedFuture(refusal);
                    });
        }
    }

    /** Allowed only when every authorizer allows. */
    private record AllOf(List<Authorizer> all) implements Authorizer {
        @Override
        public CompletionStage<Boolean> mayPublish(ClientIdentity client, String topic) {
            return every(a -> a.mayPublish(client, topic));
        }

        @Override
        public CompletionStage<Boolean> maySubscribe(ClientIdentity client, String filter) {
            return every(a -> a.maySubscribe(client, filter));
        }

        @Override
        public boolean mayReceive(ClientIdentity client, String topic) {
            for (Authorizer a : all) {
                if (!a.mayReceive(client, topic)) {
                    return false;
                }
            }
            return true;
        }

        private CompletionStage<Boolean> every(java.util.function.Function<Authorizer, CompletionStage<Boolean>> f) {
            CompletionStage<Boolean> result = CompletableFuture.completedFuture(true);
            for (Authorizer a : all) {
                result = result.thenCompose(ok -> ok ? f.apply(a) : CompletableFuture.completedFuture(false));
            }
            return result;
        }
    }
}
