package io.ternmq.broker.security;

import io.ternmq.codec.ReasonCode;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) as MQTT 5 enhanced authentication, method name {@code SCRAM-SHA-256}, checked
 * against the SCRAM credentials of a password file ({@code ternmq passwd --scram}).
 * <pre>
 * CONNECT  Authentication Data: client-first   n,,n=user,r=cnonce
 * AUTH 0x18 from the server:    server-first   r=cnonce+snonce,s=salt,i=iterations
 * AUTH 0x18 from the client:    client-final   c=biws,r=cnonce+snonce,p=proof
 * CONNACK 0x00 Authentication Data: server-final  v=signature
 * </pre>
 * A wrong proof, an unknown user or a user without SCRAM credentials fails with 0x86 (bad user name or password) at
 * the last step: unknown users get a made-up salt, so the exchange does not reveal which users exist. Messages that
 * break the format fail with 0x87 (not authorized). Channel binding is not supported ({@code p=} fails). When the
 * CONNECT carries a user name, it must be the SCRAM user's.
 */
public final class ScramSha256Authenticator implements EnhancedAuthenticator {
    public static final String METHOD = "SCRAM-SHA-256";

    private final Function<String, ScramCredentials> credentials;
    private final Supplier<String> nonces;
    private final byte[] fakeSaltKey = PasswordHash.randomBytes(32);

    /** @param credentials the SCRAM credentials of a user, or null */
    public ScramSha256Authenticator(Function<String, ScramCredentials> credentials) {
        this(credentials, () -> Base64.getEncoder().withoutPadding().encodeToString(PasswordHash.randomBytes(18)));
    }

    /** With a chosen server nonce source (tests use RFC 7677's example). */
    public ScramSha256Authenticator(Function<String, ScramCredentials> credentials, Supplier<String> nonces) {
        this.credentials = credentials;
        this.nonces = nonces;
    }

    @Override
    public String method() {
        return METHOD;
    }

    @Override
    public AuthExchange start(AuthRequest request) {
        return new Exchange(request.username());
    }

    private final class Exchange implements AuthExchange {
        private final String connectUsername;
        private int step;
        private String gs2Header;
        private String clientFirstBare;
        private String serverFirst;
        private String nonce;
        private ScramCredentials creds;
        private boolean known;

        Exchange(String connectUsername) {
            this.connectUsername = connectUsername;
        }

        @Override
        public CompletionStage<AuthStep> respond(byte[] clientData) {
            AuthStep result;
            try {
                result = switch (step++) {
                    case 0 -> clientFirst(clientData);
                    case 1 -> clientFinal(clientData);
                    default -> AuthStep.failure(ReasonCode.NOT_AUTHORIZED);
                };
            } catch (IllegalArgumentException e) {
                result = AuthStep.failure(ReasonCode.NOT_AUTHORIZED);
            }
            return CompletableFuture.completedFuture(result);
        }

        private AuthStep clientFirst(byte[] data) {
            String msg = utf8(data);
            // gs2-header: gs2-cbind-flag "," [authzid] ","
            int first = msg.indexOf(',');
            int second = first < 0 ? -1 : msg.indexOf(',', first + 1);
            if (first < 0 || second < 0) {
                throw new IllegalArgumentException("no gs2 header");
            }
            String cbind = msg.substring(0, first);
            if (!cbind.equals("n") && !cbind.equals("y")) {
                return AuthStep.failure(ReasonCode.NOT_AUTHORIZED); // channel binding ("p=...") unsupported
            }
            gs2Header = msg.substring(0, second + 1);
            clientFirstBare = msg.substring(second + 1);
            String[] attrs = clientFirstBare.split(",", -1);
            if (attrs.length < 2 || !attrs[0].startsWith("n=") || !attrs[1].startsWith("r=")) {
                // includes a mandatory extension ("m=" first), which no server understands
                throw new IllegalArgumentException("client-first needs n= and r=");
            }
            String user = saslName(attrs[0].substring(2));
            String authzid = msg.substring(first + 1, second);
            if (!authzid.isEmpty() && !authzid.equals("a=" + attrs[0].substring(2))) {
                return AuthStep.failure(ReasonCode.NOT_AUTHORIZED);
            }
            String clientNonce = attrs[1].substring(2);
            if (clientNonce.isEmpty() || user.isEmpty()) {
                throw new IllegalArgumentException("empty user or nonce");
            }
            if (connectUsername != null && !connectUsername.equals(user)) {
                return AuthStep.failure(ReasonCode.BAD_USER_NAME_OR_PASSWORD);
            }
            creds = credentials.apply(user);
            known = creds != null;
            if (!known) {
                byte[] fakeSalt = new byte[16];
                System.arraycopy(PasswordHash.hmacSha256(fakeSaltKey, user.getBytes(StandardCharsets.UTF_8)), 0,
                        fakeSalt, 0, 16);
                creds = new ScramCredentials(fakeSalt, ScramCredentials.DEFAULT_ITERATIONS,
                        PasswordHash.randomBytes(32), PasswordHash.randomBytes(32));
            }
            nonce = clientNonce + nonces.get();
            serverFirst = "r=" + nonce + ",s=" + Base64.getEncoder().encodeToString(creds.salt()) + ",i="
                    + creds.iterations();
            return AuthStep.challenge(serverFirst.getBytes(StandardCharsets.UTF_8));
        }

        private AuthStep clientFinal(byte[] data) {
            String msg = utf8(data);
            int p = msg.lastIndexOf(",p=");
            if (p < 0) {
                throw new IllegalArgumentException("no proof");
            }
            String withoutProof = msg.substring(0, p);
            String[] attrs = withoutProof.split(",", -1);
            if (attrs.length < 2 || !attrs[0].startsWith("c=") || !attrs[1].startsWith("r=")) {
                throw new IllegalArgumentException("client-final needs c= and r=");
            }
            String expectedBinding = Base64.getEncoder().encodeToString(gs2Header.getBytes(StandardCharsets.UTF_8));
            if (!attrs[0].substring(2).equals(expectedBinding) || !attrs[1].substring(2).equals(nonce)) {
                return AuthStep.failure(ReasonCode.NOT_AUTHORIZED);
            }
            byte[] proof = Base64.getDecoder().decode(msg.substring(p + 3));
            byte[] authMessage = (clientFirstBare + "," + serverFirst + "," + withoutProof)
                    .getBytes(StandardCharsets.UTF_8);
            byte[] clientSignature = PasswordHash.hmacSha256(creds.storedKey(), authMessage);
            if (proof.length != clientSignature.length) {
                return AuthStep.failure(ReasonCode.BAD_USER_NAME_OR_PASSWORD);
            }
            byte[] clientKey = new byte[proof.length];
            for (int i = 0; i < proof.length; i++) {
                clientKey[i] = (byte) (proof[i] ^ clientSignature[i]);
            }
            boolean ok = MessageDigest.isEqual(PasswordHash.sha256(clientKey), creds.storedKey()) && known;
            if (!ok) {
                return AuthStep.failure(ReasonCode.BAD_USER_NAME_OR_PASSWORD);
            }
            byte[] serverSignature = PasswordHash.hmacSha256(creds.serverKey(), authMessage);
            return AuthStep.success(("v=" + Base64.getEncoder().encodeToString(serverSignature))
                    .getBytes(StandardCharsets.UTF_8));
        }
    }

    private static String utf8(byte[] data) {
        if (data == null) {
            throw new IllegalArgumentException("no data");
        }
        return new String(data, StandardCharsets.UTF_8);
    }

    /** Decodes RFC 5802's saslname: "=2C" is ',', "=3D" is '='; any other '=' is an error. */
    static String saslName(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '=') {
                if (s.startsWith("=2C", i)) {
                    b.append(',');
                } else if (s.startsWith("=3D", i)) {
                    b.append('=');
                } else {
                    throw new IllegalArgumentException("bad saslname escape");
                }
                i += 2;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
