package io.ternmq.broker.it.security;

import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;

/** The client side of SCRAM-SHA-256 (RFC 5802), written from the RFC, to drive the broker's. */
final class ScramClient {
    private final String user;
    private final String password;
    private final String clientNonce;
    private String serverFirst;
    private byte[] serverKey;
    private String authMessage;

    ScramClient(String user, String password, String clientNonce) {
        this.user = user;
        this.password = password;
        this.clientNonce = clientNonce;
    }

    String clientFirst() {
        return "n,," + bare();
    }

    private String bare() {
        return "n=" + user.replace("=", "=3D").replace(",", "=2C") + ",r=" + clientNonce;
    }

    String clientFinal(String serverFirstMessage) throws Exception {
        this.serverFirst = serverFirstMessage;
        String nonce = null;
        byte[] salt = null;
        int iterations = 0;
        for (String attr : serverFirstMessage.split(",")) {
            switch (attr.charAt(0)) {
                case 'r' -> nonce = attr.substring(2);
                case 's' -> salt = Base64.getDecoder().decode(attr.substring(2));
                case 'i' -> iterations = Integer.parseInt(attr.substring(2));
                default -> { }
            }
        }
        if (nonce == null || !nonce.startsWith(clientNonce)) {
            throw new IllegalStateException("server nonce does not extend ours: " + serverFirstMessage);
        }
        byte[] salted = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                .generateSecret(new PBEKeySpec(password.toCharArray(), salt, iterations, 256)).getEncoded();
        byte[] clientKey = hmac(salted, "Client Key");
        byte[] storedKey = MessageDigest.getInstance("SHA-256").digest(clientKey);
        serverKey = hmac(salted, "Server Key");
        String withoutProof = "c=biws,r=" + nonce;
        authMessage = bare() + "," + serverFirst + "," + withoutProof;
        byte[] signature = hmac(storedKey, authMessage);
        byte[] proof = new byte[clientKey.length];
        for (int i = 0; i < proof.length; i++) {
            proof[i] = (byte) (clientKey[i] ^ signature[i]);
        }
        return withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof);
    }

    /** Whether the server's final message proves it knows the credentials too. */
    boolean verifyServerFinal(String serverFinal) throws Exception {
        return serverFinal.equals("v=" + Base64.getEncoder().encodeToString(hmac(serverKey, authMessage)));
    }

    private static byte[] hmac(byte[] key, String data) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    }
}
