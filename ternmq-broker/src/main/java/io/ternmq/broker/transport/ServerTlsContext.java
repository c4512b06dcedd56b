package io.ternmq.broker.transport;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.CipherSuiteConverter;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.ternmq.broker.config.ConfigException;
import io.ternmq.broker.config.ListenerConfig;
import io.ternmq.broker.config.TlsSettings;
import io.ternmq.broker.security.FileWatcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.CertPathTrustManagerParameters;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CRL;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertStore;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXRevocationChecker;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.Enumeration;
import java.util.List;
import java.util.Objects;

/**
 * The TLS side of one listener: an {@link SslContext} built from its settings, replaced when the certificate, key,
 * CA or CRL files change (or on SIGHUP). Connections keep the context they started with; new ones get the new one,
 * so a reload never drops a client. A reload that fails (a key written before its certificate, a typo) keeps the
 * previous context and is retried at the next change.
 */
public final class ServerTlsContext implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ServerTlsContext.class);

    /** TLS 1.3 suites offered unless ciphers_tls1.3 says otherwise. */
    static final List<String> DEFAULT_TLS13 = List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256");
    /** TLS 1.2 suites offered unless ciphers says otherwise: forward secrecy and AEAD only. */
    static final List<String> DEFAULT_TLS12 = List.of(
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    private final ListenerConfig listener;
    private final TlsSettings tls;
    private final int handshakeTimeoutMillis;
    private final FileWatcher.Registration registration;
    private final io.ternmq.broker.metrics.BrokerMetrics metrics;
    private volatile SslContext context;
    private volatile X509Certificate serverCertificate;
    private volatile String providerName;

    /** @throws ConfigException if the files are missing or unusable */
    public ServerTlsContext(ListenerConfig listener, int handshakeTimeoutMillis, FileWatcher watcher,
                     io.ternmq.broker.metrics.BrokerMetrics metrics) {
        this.listener = listener;
        this.metrics = metrics;
        this.tls = Objects.requireNonNull(listener.tls());
        this.handshakeTimeoutMillis = handshakeTimeoutMillis;
        try {
            build();
        } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
            throw new ConfigException("listener " + listener + ": TLS: " + e.getMessage());
        }
        List<Path> files = new ArrayList<>();
        for (Path p : new Path[] {tls.certFile(), tls.keyFile(), tls.keystore(), tls.caFile(), tls.crlFile()}) {
            if (p != null) {
                files.add(p);
            }
        }
        this.registration = watcher == null ? null : watcher.watch(files, this::reload);
    }

    /** A handler for a new connection, with the current context. */
    public SslHandler newHandler(ByteBufAllocator alloc) {
        SslHandler h = context.newHandler(alloc);
        h.setHandshakeTimeoutMillis(handshakeTimeoutMillis);
        return h;
    }

    /** Rebuilds the context from the files. @return whether it worked (else the previous one stays) */
    boolean reload() {
        return reloadNow().reloaded();
    }

    /** Rebuilds the context from the files now, saying what happened (else the previous one stays). */
    public io.ternmq.broker.security.ReloadOutcome reloadNow() {
        String what = "TLS certificate of listener " + listener;
        String file = String.valueOf(tls.certFile() != null ? tls.certFile() : tls.keystore());
        try {
            build();
            if (metrics != null) {
                metrics.tlsReloads.increment();
            }
            LOG.info("Listener {}: reloaded TLS certificate (subject {}, valid until {})", listener,
                    serverCertificate.getSubjectX500Principal().getName(), serverCertificate.getNotAfter().toInstant());
            return new io.ternmq.broker.security.ReloadOutcome(what, file, null);
        } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
            LOG.error("Listener {}: cannot reload TLS files, keeping the previous certificate: {}", listener,
                    e.getMessage());
            return new io.ternmq.broker.security.ReloadOutcome(what, file, String.valueOf(e.getMessage()));
        }
    }

    public X509Certificate serverCertificate() {
        return serverCertificate;
    }

    /** For the start-up log: "TLS (TLSv1.3, TLSv1.2, JDK; client certificate required, CRL)". */
    String describe() {
        StringBuilder b = new StringBuilder("TLS (").append(String.join(", ", tls.protocols())).append(", ")
                .append(providerName);
        switch (tls.clientCertificates()) {
            case REQUIRED -> b.append("; client certificate required");
            case OPTIONAL -> b.append("; client certificate optional");
            default -> b.append("; no client certificates");
        }
        if (tls.crlFile() != null) {
            b.append(", CRL ").append(tls.crlFile());
        }
        return b.append(")").toString();
    }

    private void build() throws IOException, GeneralSecurityException {
        SslContextBuilder b;
        X509Certificate leaf;
        if (tls.keystore() != null) {
            char[] password = tls.keystorePassword() == null ? new char[0] : tls.keystorePassword().toCharArray();
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(tls.keystore())) {
                ks.load(in, password);
            }
            leaf = firstKeyCertificate(ks);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, password);
            b = SslContextBuilder.forServer(kmf);
        } else {
            X509Certificate[] chain = PemFiles.certificates(tls.certFile());
            PrivateKey key = PemFiles.privateKey(tls.keyFile());
            if (!PemFiles.matches(key, chain[0].getPublicKey())) {
                throw new IllegalArgumentException("keyfile " + tls.keyFile() + " does not belong to the "
                        + "certificate in certfile " + tls.certFile());
            }
            leaf = chain[0];
            b = SslContextBuilder.forServer(key, chain);
        }
        SslProvider provider = SslProvider.JDK;
        if (tls.provider() == TlsSettings.Provider.OPENSSL) {
            if (OpenSsl.isAvailable()) {
                provider = SslProvider.OPENSSL;
            } else {
                LOG.warn("Listener {}: tls_provider openssl, but BoringSSL/OpenSSL cannot be loaded ({}); using the "
                        + "JDK's TLS", listener, String.valueOf(OpenSsl.unavailabilityCause()));
            }
        }
        b.sslProvider(provider).protocols(tls.protocols())
                .ciphers(cipherSuites(supportedSuites(provider)), SupportedCipherSuiteFilter.INSTANCE);
        if (tls.caFile() != null) {
            b.trustManager(trustManager());
        }
        b.clientAuth(switch (tls.clientCertificates()) {
            case REQUIRED -> ClientAuth.REQUIRE;
            case OPTIONAL -> ClientAuth.OPTIONAL;
            case NONE -> ClientAuth.NONE;
        });
        SslContext built = b.build();
        if (built.cipherSuites().isEmpty()) {
            throw new IllegalArgumentException("none of the configured cipher suites is supported");
        }
        this.context = built;
        this.serverCertificate = leaf;
        this.providerName = provider == SslProvider.JDK ? "JDK" : "BoringSSL " + OpenSsl.versionString();
    }

    private static X509Certificate firstKeyCertificate(KeyStore ks) throws GeneralSecurityException {
        Enumeration<String> aliases = ks.aliases();
        while (aliases.hasMoreElements()) {
            String a = aliases.nextElement();
            if (ks.isKeyEntry(a) && ks.getCertificate(a) instanceof X509Certificate c) {
                return c;
            }
        }
        throw new IllegalArgumentException("the keystore holds no private key with a certificate");
    }

    /**
     * The configured suites, OpenSSL names translated, with safe defaults for the part not configured.
     *
     * @throws IllegalArgumentException naming a configured suite the provider does not support
     */
    List<String> cipherSuites(java.util.Set<String> supported) {
        List<String> suites = new ArrayList<>();
        suites.addAll(tls.ciphersTls13().isEmpty() ? DEFAULT_TLS13 : javaNames(tls.ciphersTls13(), supported));
        if (tls.minVersion() != TlsSettings.Version.TLS_1_3) {
            suites.addAll(tls.ciphers().isEmpty() ? DEFAULT_TLS12 : javaNames(tls.ciphers(), supported));
        }
        return suites;
    }

    private static List<String> javaNames(List<String> names, java.util.Set<String> supported) {
        List<String> out = new ArrayList<>();
        for (String n : names) {
            String java = n.startsWith("TLS_") || n.startsWith("SSL_") ? n : CipherSuiteConverter.toJava(n, "TLS");
            if (java == null || !supported.contains(java)) {
                throw new IllegalArgumentException("unsupported cipher suite '" + n + "'");
            }
            out.add(java);
        }
        return out;
    }

    private static java.util.Set<String> supportedSuites(SslProvider provider) throws GeneralSecurityException {
        if (provider == SslProvider.JDK) {
            return java.util.Set.of(javax.net.ssl.SSLContext.getDefault().getSupportedSSLParameters()
                    .getCipherSuites());
        }
        return OpenSsl.availableJavaCipherSuites();
    }

    /** PKIX against cafile; with crlfile, the client certificate is checked against the CRLs (required). */
    private TrustManagerFactory trustManager() throws IOException, GeneralSecurityException {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        int i = 0;
        for (X509Certificate ca : PemFiles.certificates(tls.caFile())) {
            trust.setCertificateEntry("ca-" + (i++), ca);
        }
        PKIXBuilderParameters params = new PKIXBuilderParameters(trust, new X509CertSelector());
        if (tls.crlFile() != null) {
            Collection<? extends CRL> crls = PemFiles.crls(tls.crlFile());
            params.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(crls)));
            PKIXRevocationChecker checker =
                    (PKIXRevocationChecker) CertPathBuilder.getInstance("PKIX").getRevocationChecker();
            // like OpenSSL's X509_V_FLAG_CRL_CHECK (Mosquitto's crlfile): the client certificate's issuer must have
            // a CRL in the file; no network look-ups
            checker.setOptions(EnumSet.of(PKIXRevocationChecker.Option.PREFER_CRLS,
                    PKIXRevocationChecker.Option.NO_FALLBACK, PKIXRevocationChecker.Option.ONLY_END_ENTITY));
            params.addCertPathChecker(checker);
            params.setRevocationEnabled(true);
        } else {
            params.setRevocationEnabled(false);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(new CertPathTrustManagerParameters(params));
        return tmf;
    }

    @Override
    public void close() {
        if (registration != null) {
            registration.close();
        }
    }
}
