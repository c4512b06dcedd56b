package io.ternmq.broker.cluster;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;

/**
 * The data link's mutual authentication: each side sends a fresh nonce, and each proves it knows
 * {@code cluster.secret} by an HMAC-SHA256 over both nonces, both node ids, the version and the cluster name, with a
 * different role byte each way (so that one side's proof cannot be replayed as the other's). Nothing secret crosses
 * the wire; a recorded handshake is useless with new nonces.
 */
final class LinkHandshake {
    static final int NONCE_BYTES = 16;
    static final int MAC_BYTES = 32;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SecretKeySpec key;
    private final String clusterName;

    LinkHandshake(String secret, String clusterName) {
        this.key = new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
        this.clusterName = clusterName;
    }

    String clusterName() {
        return clusterName;
    }

    static byte[] nonce() {
        byte[] n = new byte[NONCE_BYTES];
        RANDOM.nextBytes(n);
        return n;
    }

    /** The accepting side's proof. */
    byte[] acceptorMac(String connector, byte[] connectorNonce, String acceptor, byte[] acceptorNonce) {
        return mac((byte) 'A', connector, connectorNonce, acceptor, acceptorNonce);
    }

    /** The connecting side's proof. */
    byte[] connectorMac(String connector, byte[] connectorNonce, String acceptor, byte[] acceptorNonce) {
        return mac((byte) 'C', connector, connectorNonce, acceptor, acceptorNonce);
    }

    static boolean matches(byte[] expected, byte[] got) {
        return MessageDigest.isEqual(expected, got);
    }

    private byte[] mac(byte role, String connector, byte[] connectorNonce, String acceptor, byte[] acceptorNonce) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(key);
            m.update(role);
            m.update(ByteBuffer.allocate(4).putInt(LinkFrame.VERSION).array());
            for (String s : new String[] {clusterName, connector, acceptor}) {
                byte[] b = s.getBytes(StandardCharsets.UTF_8);
                m.update(ByteBuffer.allocate(4).putInt(b.length).array());
                m.update(b);
            }
            m.update(connectorNonce);
            m.update(acceptorNonce);
            return m.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }
}
