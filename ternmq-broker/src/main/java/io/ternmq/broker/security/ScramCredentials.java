package io.ternmq.broker.security;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * What the server keeps to check SCRAM-SHA-256 (RFC 5802, RFC 7677) without knowing the password: salt, iteration
 * count, StoredKey = H(HMAC(SaltedPassword, "Client Key")) and ServerKey = HMAC(SaltedPassword, "Server Key"), where
 * SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations).
 * <p>
 * Written in RFC 5803's format (also PostgreSQL's): {@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>}.
 */
public record ScramCredentials(byte[] salt, int iterations, byte[] storedKey, byte[] serverKey) {
    public static final String PREFIX = "SCRAM-SHA-256$";
    /** RFC 7677 asks for at least 4096; the client computes the same PBKDF2, so this is also its cost. */
    public static final int DEFAULT_ITERATIONS = 4096;
    public static final int MIN_ITERATIONS = 4096;

    /** Derives credentials from a password (normalized the way RFC 5802's SASLprep leaves ASCII: unchanged). */
    public static ScramCredentials derive(char[] password, int iterations) {
        return derive(password, PasswordHash.randomBytes(16), iterations);
    }

    public static ScramCredentials derive(char[] password, byte[] salt, int iterations) {
        byte[] salted = PasswordHash.pbkdf2("PBKDF2WithHmacSHA256", password, salt, iterations, 256);
        try {
            byte[] clientKey = PasswordHash.hmacSha256(salted, "Client Key".getBytes(StandardCharsets.US_ASCII));
            byte[] storedKey = PasswordHash.sha256(clientKey);
            byte[] serverKey = PasswordHash.hmacSha256(salted, "Server Key".getBytes(StandardCharsets.US_ASCII));
            return new ScramCredentials(salt, iterations, storedKey, serverKey);
        } finally {
            Arrays.fill(salted, (byte) 0);
        }
    }

    public String encode() {
        Base64.Encoder b64 = Base64.getEncoder();
        return PREFIX + iterations + ":" + b64.encodeToString(salt) + "$" + b64.encodeToString(storedKey) + ":"
                + b64.encodeToString(serverKey);
    }

    /** @throws IllegalArgumentException if not in the format {@link #encode} writes */
    public static ScramCredentials parse(String s) {
        if (!s.startsWith(PREFIX)) {
            throw new IllegalArgumentException("SCRAM credentials must start with " + PREFIX);
        }
        String[] halves = s.substring(PREFIX.length()).split("\\$", -1);
        if (halves.length != 2) {
            throw new IllegalArgumentException("malformed SCRAM credentials");
        }
        String[] first = halves[0].split(":", -1);
        String[] second = halves[1].split(":", -1);
        if (first.length != 2 || second.length != 2) {
            throw new IllegalArgumentException("malformed SCRAM credentials");
        }
        try {
            Base64.Decoder b64 = Base64.getDecoder();
            int iterations = Integer.parseInt(first[0]);
            byte[] salt = b64.decode(first[1]);
            byte[] storedKey = b64.decode(second[0]);
            byte[] serverKey = b64.decode(second[1]);
            if (iterations < 1 || salt.length == 0 || storedKey.length != 32 || serverKey.length != 32) {
                throw new IllegalArgumentException("malformed SCRAM credentials");
            }
            return new ScramCredentials(salt, iterations, storedKey, serverKey);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("malformed SCRAM credentials");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScramCredentials c && iterations == c.iterations && Arrays.equals(salt, c.salt)
                && Arrays.equals(storedKey, c.storedKey) && Arrays.equals(serverKey, c.serverKey);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(storedKey);
    }

    @Override
    public String toString() {
        return "ScramCredentials[iterations=" + iterations + "]";
    }
}
