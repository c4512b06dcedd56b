package io.ternmq.broker.admin;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Logins made with {@code POST /api/v1/login}: a random session token (the cookie) per login, with its user and the
 * CSRF token its writes must carry. Only the admin loop touches it. A login lasts {@link #TTL_MILLIS}; the oldest
 * are dropped past {@link #MAX_LOGINS}, so that logging in again and again cannot grow it without bound.
 */
final class AdminLogins {
    static final String COOKIE = "ternmq_session";
    static final long TTL_MILLIS = 8 * 3600_000L;
    static final int MAX_LOGINS = 1000;

    record Login(String user, String csrf, long expiresAtMillis) {
    }

    private final SecureRandom random = new SecureRandom();
    private final Map<String, Login> byToken = new HashMap<>();

    /** A new login of {@code user}; returns its session token. */
    String create(String user, long nowMillis) {
        purge(nowMillis);
        if (byToken.size() >= MAX_LOGINS) {
            String oldest = null;
            long at = Long.MAX_VALUE;
            for (Map.Entry<String, Login> e : byToken.entrySet()) {
                if (e.getValue().expiresAtMillis() < at) {
                    at = e.getValue().expiresAtMillis();
                    oldest = e.getKey();
                }
            }
            byToken.remove(oldest);
        }
        String token = randomToken();
        byToken.put(token, new Login(user, randomToken(), nowMillis + TTL_MILLIS));
        return token;
    }

    /** The login of a session token, or null if unknown or expired. */
    Login find(String token, long nowMillis) {
        Login l = token == null ? null : byToken.get(token);
        if (l != null && l.expiresAtMillis() <= nowMillis) {
            byToken.remove(token);
            return null;
        }
        return l;
    }

    /** Ends a login. @return whether it existed */
    boolean remove(String token) {
        return token != null && byToken.remove(token) != null;
    }

    private void purge(long nowMillis) {
        for (Iterator<Login> it = byToken.values().iterator(); it.hasNext(); ) {
            if (it.next().expiresAtMillis() <= nowMillis) {
                it.remove();
            }
        }
    }

    private String randomToken() {
        byte[] b = new byte[32];
        random.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
