package io.ternmq.broker.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * TLS on a listener. The server's certificate comes either from PEM files ({@code certfile} + {@code keyfile}) or from
 * a PKCS#12 key store ({@code keystore}); client certificates are checked against {@code cafile} (and {@code crlfile}).
 *
 * @param minVersion   lowest protocol accepted: "TLSv1.2" or "TLSv1.3"
 * @param ciphers      TLS 1.2 cipher suites (IANA or OpenSSL names); empty: Netty's secure defaults
 * @param ciphersTls13 TLS 1.3 cipher suites; empty: the provider's defaults
 * @param provider     "jdk" or "openssl" (BoringSSL through netty-tcnative, JDK when it cannot load)
 */
public record TlsSettings(Path certFile, Path keyFile, Path keystore, String keystorePassword, Path caFile,
                          Path crlFile, ClientCertificates clientCertificates, CertificateIdentity usernameFromCertificate,
                          String minVersion, List<String> ciphers, List<String> ciphersTls13, String provider) {

    /** Whether clients must, may or may not present a certificate ({@code require_certificate}). */
    public enum ClientCertificates {
        /** Not asked for. */
        NONE,
        /** Asked for; a client without one is accepted, one with a bad one is refused. */
        OPTIONAL,
        /** A client without a valid certificate is refused during the handshake. */
        REQUIRED
    }

    /** Which part of a client certificate becomes the user name, if any. */
    public enum CertificateIdentity {
        /** The CONNECT's user name and password are used. */
        NONE,
        /** The subject's Common Name ({@code use_identity_as_username}). */
        CN,
        /** The first DNS, e-mail or URI subject alternative name ({@code certificate_identity san}). */
        SAN,
        /** The whole subject, RFC 2253 ({@code use_subject_as_username}). */
        SUBJECT;

        public static CertificateIdentity of(String s) {
            return valueOf(s.toUpperCase(Locale.ROOT));
        }
    }

    public TlsSettings {
        ciphers = List.copyOf(ciphers);
        ciphersTls13 = List.copyOf(ciphersTls13);
    }

    /** The protocols enabled: TLS 1.3 and, unless the minimum is 1.3, TLS 1.2. Never anything older. */
    public List<String> protocols() {
        return minVersion.equals("TLSv1.3") ? List.of("TLSv1.3") : List.of("TLSv1.3", "TLSv1.2");
    }
}
