package io.ternmq.broker.security;

import io.ternmq.broker.json.Json;
import io.ternmq.broker.metrics.RateLimitedLog;

import io.ternmq.broker.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Authentication and authorization by a web service. For each decision the broker POSTs a JSON object to the
 * configured URL and reads the answer; nothing waits on an event loop (asynchronous {@link HttpClient}).
 * <p>
 * Options ({@code plugin_opt_<name> <value>} after {@code plugin http}):
 * <ul>
 *   <li>{@code http_url} (required): where CONNECTs are checked;</li>
 *   <li>{@code http_acl_url}: where publishes and subscriptions are checked; without it HTTP does not
 *       authorize;</li>
 *   <li>{@code http_timeout_ms} (2000): connect and answer timeout;</li>
 *   <li>{@code http_cache_seconds} (60): how long an answer is reused for the same question (0: never);</li>
 *   <li>{@code http_on_error} {@code deny}|{@code allow} ({@code deny}): the decision when the service cannot be
 *       reached, times out or answers with another status;</li>
 *   <li>{@code http_authorization}: sent as the {@code Authorization} header.</li>
 * </ul>
 * Request bodies: {@code {"action":"connect","clientid":..,"username":..,"password":..,"remote_address":..,
 * "listener":..,"certificate":{"cn":..,"subject":..,"san":[..],"serial":..,"pem":..}}} (a password that is not
 * UTF-8 goes as {@code "password_base64"}); for authorization {@code {"action":"publish"|"subscribe",
 * "clientid":..,"username":..,"topic":..,"remote_address":..,"listener":..}}.
 * <p>
 * Answers: a 2xx status allows, unless the body is JSON with {@code "result":"deny"} (or {@code "allow":false});
 * 401 and 403 deny; anything else is an error (see {@code http_on_error}). Message delivery is not checked per
 * message: subscriptions are.
 */
public final class HttpAuthPlugin implements SecurityPlugin {
    private static final Logger LOG = LoggerFactory.getLogger(HttpAuthPlugin.class);
    private static final int CACHE_LIMIT = 10_000;

    private enum Decision { ALLOW, DENY, ERROR }

    private record Cached(CompletableFuture<Decision> decision, long expiresNanos) {
    }

    private final SecurityContext context;
    private final URI authUrl;
    private final URI aclUrl;
    private final Duration timeout;
    private final long cacheNanos;
    private final boolean allowOnError;
    private final String authorizationHeader;
    private final ExecutorService executor;
    private final HttpClient client;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();
    private final byte[] cacheKey = PasswordHash.randomBytes(32);
    private final RateLimitedLog errorLog = new RateLimitedLog(LOG, 10_000);

    HttpAuthPlugin(SecurityContext context) {
        this.context = context;
        this.authUrl = uri(context, "http_url", context.requiredOption("http_url"));
        String acl = context.option("http_acl_url", null);
        this.aclUrl = acl == null ? null : uri(context, "http_acl_url", acl);
        this.timeout = Duration.ofMillis(context.longOption("http_timeout_ms", 2000, 1, 600_000));
        this.cacheNanos = Duration.ofSeconds(context.longOption("http_cache_seconds", 60, 0, 86_400)).toNanos();
        String onError = context.option("http_on_error", "deny");
        if (!onError.equals("deny") && !onError.equals("allow")) {
            throw new ConfigException("listener " + context.listener() + ": plugin_opt_http_on_error: '" + onError
                    + "' is not one of deny, allow");
        }
        this.allowOnError = onError.equals("allow");
        this.authorizationHeader = context.option("http_authorization", null);
        AtomicInteger n = new AtomicInteger();
        this.executor = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "ternmq-http-auth-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.client = HttpClient.newBuilder().connectTimeout(timeout).executor(executor)
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    private static URI uri(SecurityContext context, String name, String value) {
        try {
            URI u = URI.create(value);
            if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme())) {
                throw new IllegalArgumentException("not http or https");
            }
            return u;
        } catch (IllegalArgumentException e) {
            throw new ConfigException("listener " + context.listener() + ": plugin_opt_" + name + ": '" + value
                    + "' is not an http(s) URL");
        }
    }

    @Override
    public Authenticator authenticator() {
        return this::authenticate;
    }

    @Override
    public Authorizer authorizer() {
        if (aclUrl == null) {
            return null;
        }
        return new Authorizer() {
            @Override
            public CompletionStage<Boolean> mayPublish(ClientIdentity client, String topic) {
                return authorize("publish", client, topic);
            }

            @Override
            public CompletionStage<Boolean> maySubscribe(ClientIdentity client, String filter) {
                return authorize("subscribe", client, filter);
            }
        };
    }

    @Override
    public String describe() {
        return "HTTP " + authUrl + (aclUrl == null ? "" : ", ACL " + aclUrl)
                + (allowOnError ? " (allows when unreachable)" : "");
    }

    @Override
    public void reload() {
        cache.clear();
    }

    @Override
    public void close() {
        cache.clear();
        executor.shutdownNow();
    }

    // ------------------------------------------------------------------ decisions

    private CompletionStage<AuthResult> authenticate(AuthRequest request) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("action", "connect");
        body.put("clientid", request.clientId());
        body.put("username", request.username());
        byte[] password = request.password();
        String passwordKey = "";
        if (password != null) {
            String text = strictUtf8(password);
            if (text != null) {
                body.put("password", text);
            } else {
                body.put("password_base64", Base64.getEncoder().encodeToString(password));
            }
            passwordKey = Base64.getEncoder().encodeToString(PasswordHash.hmacSha256(cacheKey, password));
        }
        body.put("remote_address", request.remoteAddress());
        body.put("listener", context.listener().toString());
        CertificateInfo cert = request.certificate();
        if (cert != null) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("cn", cert.commonName());
            c.put("subject", cert.subject());
            c.put("san", cert.subjectAltNames());
            c.put("serial", cert.serialNumber());
            c.put("pem", cert.pem());
            body.put("certificate", c);
        }
        String key = String.join("\u0000", "connect", String.valueOf(request.clientId()),
                String.valueOf(request.username()), passwordKey, cert == null ? ""
                        // a certificate a proxy verified is known by its CN alone
                        : cert.serialNumber() != null ? cert.serialNumber() : "cn:" + cert.commonName());
        return decide(authUrl, key, body).thenApply(d -> switch (d) {
            case ALLOW -> AuthResult.ACCEPTED;
            case DENY -> password != null ? AuthResult.BAD_USER_NAME_OR_PASSWORD : AuthResult.NOT_AUTHORIZED;
            case ERROR -> allowOnError ? AuthResult.ACCEPTED : AuthResult.SERVER_UNAVAILABLE;
        });
    }

    private CompletionStage<Boolean> authorize(String action, ClientIdentity client, String topic) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("action", action);
        body.put("clientid", client.clientId());
        body.put("username", client.username());
        body.put("topic", topic);
        body.put("remote_address", client.remoteAddress());
        body.put("listener", context.listener().toString());
        String key = String.join("\u0000", action, String.valueOf(client.clientId()),
                String.valueOf(client.username()), topic);
        return decide(aclUrl, key, body).thenApply(d -> d == Decision.ALLOW || (d == Decision.ERROR && allowOnError));
    }

    private CompletableFuture<Decision> decide(URI url, String key, Map<String, Object> body) {
        long now = System.nanoTime();
        if (cacheNanos > 0) {
            Cached c = cache.get(key);
            if (c != null && now - c.expiresNanos() < 0) {
                return c.decision();
            }
        }
        CompletableFuture<Decision> decision = post(url, body);
        if (cacheNanos > 0) {
            if (cache.size() >= CACHE_LIMIT) {
                cache.values().removeIf(c -> now - c.expiresNanos() >= 0);
                if (cache.size() >= CACHE_LIMIT) {
                    cache.clear();
                }
            }
            Cached entry = new Cached(decision, now + cacheNanos);
            cache.put(key, entry);
            // errors are not remembered: the next question asks again
            decision.thenAccept(d -> {
                if (d == Decision.ERROR) {
                    cache.remove(key, entry);
                }
            });
        }
        return decision;
    }

    private CompletableFuture<Decision> post(URI url, Map<String, Object> body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(url).timeout(timeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(Json.write(withoutNulls(body)), StandardCharsets.UTF_8));
        if (authorizationHeader != null) {
            request.header("Authorization", authorizationHeader);
        }
        try {
            return client.sendAsync(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8))
                    .handle((response, error) -> {
                        if (error != null) {
                            errorLog.warn("HTTP authentication service {} failed: {}", url, error.toString());
                            return Decision.ERROR;
                        }
                        return decision(url, response);
                    });
        } catch (RuntimeException e) {
            errorLog.warn("HTTP authentication service {} failed: {}", url, e.toString());
            return CompletableFuture.completedFuture(Decision.ERROR);
        }
    }

    private Decision decision(URI url, HttpResponse<String> response) {
        int status = response.statusCode();
        if (status == 401 || status == 403) {
            return Decision.DENY;
        }
        if (status < 200 || status > 299) {
            errorLog.warn("HTTP authentication service {} answered status {}", url, status);
            return Decision.ERROR;
        }
        String text = response.body() == null ? "" : response.body().strip();
        if (text.isEmpty()) {
            return Decision.ALLOW; // the status says it all
        }
        Map<String, Object> answer;
        try {
            answer = Json.parseObject(text);
        } catch (Json.JsonException e) {
            return Decision.ALLOW; // a 2xx whose body is not a JSON object: the status says it all
        }
        Object result = answer.get("result");
        if ((result instanceof String r && r.equalsIgnoreCase("deny")) || Boolean.FALSE.equals(answer.get("allow"))) {
            return Decision.DENY;
        }
        return Decision.ALLOW;
    }

    /** The question without its absent fields (no password: no "password" key), as the service expects it. */
    private static Map<String, Object> withoutNulls(Map<?, ?> body) {
        Map<String, Object> present = new java.util.LinkedHashMap<>();
        body.forEach((k, v) -> {
            if (v != null) {
                present.put(String.valueOf(k), v instanceof Map<?, ?> m ? withoutNulls(m) : v);
            }
        });
        return present;
    }

    private static String strictUtf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    static List<String> optionNames() {
        return List.of("http_url", "http_acl_url", "http_timeout_ms", "http_cache_seconds", "http_on_error",
                "http_authorization");
    }
}
