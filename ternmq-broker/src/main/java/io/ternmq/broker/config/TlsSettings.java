package io.ternmq.broker.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * TLS on a listener. The server's certificate comes either from PEM files ({@code certfile} + {@code keyfile}) or from
 * a PKCS#12 key store ({@code keystore}); client certificates are checked against {@code cafile} (and {@code crlfile}).
 *
 * @param minVersion   lowest protocol accepted
 * @param ciphers      TLS 1.2 cipher suites (IANA or OpenSSL names); empty: Netty's secure defaults
 * @param ciphersTls13 TLS 1.3 cipher suites; empty: the provider's defaults
 * @param provider     whose TLS implementation is used
 */
public record TlsSettings(Path certFile, Path keyFile, Path keystore, String keystorePassword, Path caFile,
                          Path crlFile, ClientCertificates clientCertificates, CertificateIdentity usernameFromCertificate,
                          Version minVersion, List<String> ciphers, List<String> ciphersTls13, Provider provider) {

    /** A TLS protocol version ({@code tls_version}); nothing below TLS 1.2 is ever offered. */
    public enum Version {
        TLS_1_2("TLSv1.2"),
        TLS_1_3("TLSv1.3");

        private final String protocol;

        Version(String protocol) {
            this.protocol = protocol;
        }

        /** The JSSE protocol name, e.g. "TLSv1.3". */
        public String protocol() {
            return protocol;
        }
    }

    /** {@code tls_provider}: whose TLS implementation a listener uses. */
    public enum Provider {
        /** The JDK's. */
        JDK,
        /** BoringSSL through netty-tcnative; the JDK's where it cannot load. */
        OPENSSL
    }

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
        return minVersion == Version.TLS_1_3 ? List.of("TLSv1.3") : List.of("TLSv1.3", "TLSv1.2");
    }
}
