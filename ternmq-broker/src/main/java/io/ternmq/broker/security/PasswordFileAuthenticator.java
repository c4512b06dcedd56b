package io.ternmq.broker.security;

import io.ternmq.broker.metrics.RateLimitedLog;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Checks user name and password against a password file ({@link PasswordFile}), reloaded when it changes.
 * <p>
 * A PBKDF2 check costs on purpose (some 100 ms of CPU at 210,000 iterations), so it runs on a small worker pool,
 * never on an event loop; when that pool's queue is full the client is told the server is unavailable. A successful
 * check is remembered (by a keyed hash of user name and password, never the password) for a few minutes, so that
 * reconnecting clients do not pay it each time; a reload of the file forgets them. Unknown users cost the same as
 * known ones, so that timing does not tell which user names exist.
 */
public final class PasswordFileAuthenticator implements Authenticator {
    private static final Logger LOG = LoggerFactory.getLogger(PasswordFileAuthenticator.class);
    private static final long CACHE_NANOS = TimeUnit.MINUTES.toNanos(5);
    private static final int CACHE_LIMIT = 10_000;
    private static final CompletionStage<AuthResult> BAD =
            CompletableFuture.completedFuture(AuthResult.BAD_USER_NAME_OR_PASSWORD);

    private final ReloadingFile<PasswordFile> file;
    private final Executor worker;
    private final byte[] cacheKey = PasswordHash.randomBytes(32);
    private final Map<String, CachedSuccess> successes = new ConcurrentHashMap<>();
    private final RateLimitedLog busyLog = new RateLimitedLog(LOG, 10_000);
    /** A hash with the default cost, checked for unknown users; made on first use. */
    private static final class Dummy {
        static final String HASH = PasswordHash.hash("not a password".toCharArray(), PasswordHash.DEFAULT_ITERATIONS);
    }

    private record CachedSuccess(String hash, long expiresNanos) {
    }

    public PasswordFileAuthenticator(ReloadingFile<PasswordFile> file, Executor worker) {
        this.file = file;
        this.worker = worker;
        file.onReload(f -> successes.clear());
    }

    @Override
    public CompletionStage<AuthResult> authenticate(AuthRequest request) {
        String user = request.username();
        byte[] password = request.password();
        if (user == null || password == null) {
            return BAD;
        }
        PasswordFile.Entry entry = file.current().get(user);
        String cacheId = cacheId(user, password);
        if (entry != null) {
            CachedSuccess hit = successes.get(cacheId);
            if (hit != null && hit.hash().equals(entry.hash()) && System.nanoTime() - hit.expiresNanos() < 0) {
                return CompletableFuture.completedFuture(AuthResult.ACCEPTED);
            }
        }
        byte[] copy = password.clone();
        String hash = entry != null ? entry.hash() : null;
        CompletableFuture<AuthResult> result = new CompletableFuture<>();
        try {
            worker.execute(() -> {
                try {
                    boolean ok = PasswordHash.verify(copy, hash != null ? hash : Dummy.HASH) && hash != null;
                    if (ok) {
                        if (successes.size() >= CACHE_LIMIT) {
                            successes.clear();
                        }
                        successes.put(cacheId, new CachedSuccess(hash, System.nanoTime() + CACHE_NANOS));
                    }
                    result.complete(ok ? AuthResult.ACCEPTED : AuthResult.BAD_USER_NAME_OR_PASSWORD);
                } catch (RuntimeException e) {
                    result.completeExceptionally(e);
                } finally {
                    Arrays.fill(copy, (byte) 0);
                }
            });
        } catch (RejectedExecutionException e) {
            Arrays.fill(copy, (byte) 0);
            busyLog.warn("Password checks are queued to the limit; refusing client '{}' as server unavailable",
                    request.clientId());
            return CompletableFuture.completedFuture(AuthResult.SERVER_UNAVAILABLE);
        }
        return result;
    }

    private String cacheId(String user, byte[] password) {
        byte[] u = user.getBytes(StandardCharsets.UTF_8);
        byte[] data = new byte[u.length + 1 + password.length];
        System.arraycopy(u, 0, data, 0, u.length);
        System.arraycopy(password, 0, data, u.length + 1, password.length);
        try {
            return Base64.getEncoder().encodeToString(PasswordHash.hmacSha256(cacheKey, data));
        } finally {
            Arrays.fill(data, (byte) 0);
        }
    }
}
