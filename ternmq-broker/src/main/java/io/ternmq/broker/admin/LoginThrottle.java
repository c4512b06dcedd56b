package io.ternmq.broker.admin;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * How many logins one address may try: {@link #MAX_ATTEMPTS} per {@link #WINDOW_MILLIS}; more get 429 without a
 * password check, so that a flood neither guesses passwords quickly nor keeps the hashing pool busy. Only the admin
 * loop touches it.
 */
final class LoginThrottle {
    static final int MAX_ATTEMPTS = 10;
    static final long WINDOW_MILLIS = 60_000;
    private static final int MAX_ADDRESSES = 10_000;

    private final Map<String, ArrayDeque<Long>> attempts = new HashMap<>();

    /** Records an attempt from {@code address}; false if it is one too many. */
    boolean tryAttempt(String address, long nowMillis) {
        if (attempts.size() >= MAX_ADDRESSES) {
            attempts.values().removeIf(q -> q.isEmpty() || q.peekLast() <= nowMillis - WINDOW_MILLIS);
        }
        ArrayDeque<Long> q = attempts.computeIfAbsent(address, a -> new ArrayDeque<>());
        while (!q.isEmpty() && q.peekFirst() <= nowMillis - WINDOW_MILLIS) {
            q.pollFirst();
        }
        if (q.size() >= MAX_ATTEMPTS) {
            return false;
        }
        q.addLast(nowMillis);
        return true;
    }

    /** Seconds until {@code address} may try again. */
    long retryAfterSeconds(String address, long nowMillis) {
        ArrayDeque<Long> q = attempts.get(address);
        if (q == null || q.isEmpty()) {
            return 0;
        }
        return Math.max(1, (q.peekFirst() + WINDOW_MILLIS - nowMillis + 999) / 1000);
    }
}
