package io.ternmq.broker.security;

import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;

/**
 * Password hashes in Mosquitto's password file format, so that files move between the two brokers unchanged:
 * <ul>
 *   <li>{@code $7$<iterations>$<salt>$<hash>}: PBKDF2-HMAC-SHA512, 12-byte salt, 64-byte hash, both Base64. TernMQ
 *       writes 210,000 iterations (OWASP's 2023 figure for PBKDF2-HMAC-SHA512); Mosquitto writes 101, which TernMQ
 *       still reads.</li>
 *   <li>{@code $6$<salt>$<hash>}: one round of SHA-512 over password and salt (Mosquitto 1.x). Read, never
 *       written.</li>
 * </ul>
 * Comparisons are constant-time ({@link MessageDigest#isEqual}).
 */
public final class PasswordHash {
    /** Iterations {@link #hash} uses unless told otherwise. */
    public static final int DEFAULT_ITERATIONS = 210_000;
    /** Fewer than this is refused when writing (still read, for Mosquitto's 101). */
    public static final int MIN_ITERATIONS = 1_000;
    private static final int SALT_BYTES = 12;
    private static final int HASH_BYTES = 64;
    private static final SecureRandom RANDOM = new SecureRandom();

    private PasswordHash() {
    }

    /** A new {@code $7$} hash of the password with a fresh random salt. */
    public static String hash(char[] password, int iterations) {
        if (iterations < MIN_ITERATIONS) {
            throw new IllegalArgumentException("iterations must be at least " + MIN_ITERATIONS);
        }
        byte[] salt = new byte[SALT_BYTES];
        RANDOM.nextBytes(salt);
        byte[] hash = pbkdf2("PBKDF2WithHmacSHA512", password, salt, iterations, HASH_BYTES * 8);
        Base64.Encoder b64 = Base64.getEncoder();
        return "$7$" + iterations + "$" + b64.encodeToString(salt) + "$" + b64.encodeToString(hash);
    }

    /** Whether this is a hash this class can check. */
    public static boolean isSupported(String encoded) {
        try {
            parse(encoded);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Whether the hash is the weak, unsalted-iteration {@code $6$} kind or a {@code $7$} with few iterations. */
    public static boolean isWeak(String encoded) {
        Parsed p = parse(encoded);
        return p.iterations < MIN_ITERATIONS;
    }

    /**
     * Checks a password against a stored hash. Costs a full PBKDF2 run for {@code $7$}: call it off the event loops.
     *
     * @throws IllegalArgumentException if the stored hash is not in a known format
     */
    public static boolean verify(byte[] password, String encoded) {
        Parsed p = parse(encoded);
        byte[] actual;
        if (p.iterations == 0) {
            MessageDigest sha512 = sha512();
            sha512.update(password);
            sha512.update(p.salt);
            actual = sha512.digest();
        } else {
            char[] chars = toChars(password);
            try {
                actual = pbkdf2("PBKDF2WithHmacSHA512", chars, p.salt, p.iterations, p.hash.length * 8);
            } finally {
                Arrays.fill(chars, '\0');
            }
        }
        return MessageDigest.isEqual(actual, p.hash);
    }

    private record Parsed(int iterations, byte[] salt, byte[] hash) {
    }

    private static Parsed parse(String encoded) {
        String[] parts = encoded.split("\\$", -1);
        Base64.Decoder b64 = Base64.getDecoder();
        try {
            if (parts.length == 5 && parts[0].isEmpty() && parts[1].equals("7")) {
                int iterations = Integer.parseInt(parts[2]);
                byte[] salt = b64.decode(parts[3]);
                byte[] hash = b64.decode(parts[4]);
                if (iterations < 1 || salt.length == 0 || hash.length < 16) {
                    throw new IllegalArgumentException("bad $7$ hash");
                }
                return new Parsed(iterations, salt, hash);
            }
            if (parts.length == 4 && parts[0].isEmpty() && parts[1].equals("6")) {
                byte[] salt = b64.decode(parts[2]);
                byte[] hash = b64.decode(parts[3]);
                if (salt.length == 0 || hash.length != HASH_BYTES) {
                    throw new IllegalArgumentException("bad $6$ hash");
                }
                return new Parsed(0, salt, hash);
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad iteration count");
        }
        throw new IllegalArgumentException("not a $7$ (PBKDF2-SHA512) or $6$ (SHA-512) hash");
    }

    static byte[] pbkdf2(String algorithm, char[] password, byte[] salt, int iterations, int bits) {
        PBEKeySpec spec = new PBEKeySpec(password, salt, iterations, bits);
        try {
            return SecretKeyFactory.getInstance(algorithm).generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(algorithm + " is not available", e);
        } finally {
            spec.clearPassword();
        }
    }

    /** The UTF-8 bytes of an MQTT password as the chars PBEKeySpec wants (it encodes them back as UTF-8). */
    static char[] toChars(byte[] utf8) {
        CharBuffer cb = StandardCharsets.UTF_8.decode(ByteBuffer.wrap(utf8));
        char[] chars = new char[cb.remaining()];
        cb.get(chars);
        if (cb.hasArray()) {
            Arrays.fill(cb.array(), '\0');
        }
        return chars;
    }

    static byte[] hmacSha256(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    private static MessageDigest sha512() {
        try {
            return MessageDigest.getInstance("SHA-512");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-512 is not available", e);
        }
    }

    static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }
}
