package io.ternmq.broker.security;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Slows down password guessing: after a failed authentication from a source address, the refusal is answered only
 * after a delay that starts at {@code baseMillis} and doubles with each further failure from that address, up to
 * {@code maxMillis}. An address that has not failed for {@link #forgetAfterMillis()} starts over.
 * <p>
 * The transport applies it to every CONNACK that refuses credentials (MQTT 3.x 0x04/0x05, MQTT 5 0x86/0x87): the
 * CONNACK and the close wait, reading is paused meanwhile. Thread-safe; keeps at most {@value #MAX_ADDRESSES}
 * addresses (the oldest are dropped first when full).
 */
public final class AuthFailureDelay {
    static final int MAX_ADDRESSES = 100_000;

    private final long baseMillis;
    private final long maxMillis;
    private final LongSupplier nanoClock;
    private final Map<String, Failures> byAddress = new ConcurrentHashMap<>();

    private record Failures(int count, long lastNanos) {
    }

    public AuthFailureDelay(long baseMillis, long maxMillis) {
        this(baseMillis, maxMillis, System::nanoTime);
    }

    /** With a clock of its own (tests). */
    public AuthFailureDelay(long baseMillis, long maxMillis, LongSupplier nanoClock) {
        this.baseMillis = Math.max(0, baseMillis);
        this.maxMillis = Math.max(this.baseMillis, maxMillis);
        this.nanoClock = nanoClock;
    }

    public boolean enabled() {
        return baseMillis > 0;
    }

    /** How long an address keeps its count without a new failure: ten times the longest delay, at least a minute. */
    public long forgetAfterMillis() {
        return Math.max(60_000, 10 * maxMillis);
    }

    /**
     * Records a failed authentication from the address ("host:port" or just the host; the port is ignored).
     *
     * @return how long to wait before answering, in milliseconds
     */
    public long failed(String remoteAddress) {
        if (!enabled()) {
            return 0;
        }
        String host = host(remoteAddress);
        long now = nanoClock.getAsLong();
        long forgetNanos = forgetAfterMillis() * 1_000_000L;
        if (byAddress.size() >= MAX_ADDRESSES) {
            byAddress.values().removeIf(f -> now - f.lastNanos() > forgetNanos);
            if (byAddress.size() >= MAX_ADDRESSES) {
                byAddress.clear();
            }
        }
        Failures f = byAddress.compute(host, (k, old) -> old == null || now - old.lastNanos() > forgetNanos
                ? new Failures(1, now) : new Failures(Math.min(old.count() + 1, 64), now));
        return delayFor(f.count());
    }

    /** The delay the next failure from this address would get now, without recording anything. */
    public long nextDelay(String remoteAddress) {
        if (!enabled()) {
            return 0;
        }
        Failures f = byAddress.get(host(remoteAddress));
        long now = nanoClock.getAsLong();
        if (f == null || now - f.lastNanos() > forgetAfterMillis() * 1_000_000L) {
            return delayFor(1);
        }
        return delayFor(f.count() + 1);
    }

    private long delayFor(int failures) {
        int shift = Math.min(failures - 1, 30);
        long d = baseMillis << shift;
        return d <= 0 || d > maxMillis ? maxMillis : d;
    }

    /** The host part of "host:port", "[v6]:port" or "v6:port" (as InetSocketAddress prints it), IPs normalized. */
    static String host(String remoteAddress) {
        String h = hostPart(remoteAddress);
        boolean literal = h.matches("\\d{1,3}(\\.\\d{1,3}){3}")
                || (h.indexOf(':') >= 0 && h.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == ':' || c == '.'));
        if (literal) {
            try {
                return java.net.InetAddress.getByName(h).getHostAddress(); // a literal: no name look-up
            } catch (java.net.UnknownHostException e) {
                return h;
            }
        }
        return h;
    }

    private static String hostPart(String remoteAddress) {
        if (remoteAddress == null) {
            return "?";
        }
        String a = remoteAddress.startsWith("/") ? remoteAddress.substring(1) : remoteAddress;
        if (a.startsWith("[")) {
            int close = a.indexOf(']');
            return close > 0 ? a.substring(1, close) : a;
        }
        int colon = a.lastIndexOf(':');
        if (colon > 0 && a.indexOf(':') == colon) {
            return a.substring(0, colon); // IPv4 or a name with a port
        }
        if (colon > 0 && a.substring(colon + 1).chars().allMatch(Character::isDigit) && a.chars()
                .filter(c -> c == ':').count() == 8) {
            return a.substring(0, colon); // a full IPv6 address followed by a port
        }
        return a;
    }
}
