package io.ternmq.broker.config;

import io.ternmq.broker.config.TlsSettings.CertificateIdentity;
import io.ternmq.broker.config.TlsSettings.ClientCertificates;
import io.ternmq.broker.config.TlsSettings.Provider;
import io.ternmq.broker.config.TlsSettings.Version;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The per-listener settings while they are being collected: the defaults given before the first {@code listener}
 * line, then a copy of them for each listener, changed by the keys that follow its line. {@link #build} checks that
 * they fit together.
 */
public final class ListenerSettings {
    Boolean allowAnonymous;
    Path passwordFile;
    Path aclFile;
    final List<String> plugins = new ArrayList<>();
    final Map<String, String> pluginOptions = new LinkedHashMap<>();
    int maxConnections = -1;
    /** Off by default: everything behind one NAT, load balancer or host shares an address (Mosquitto has no limit). */
    int connectionRatePerAddress;

    Path certFile;
    Path keyFile;
    Path keystore;
    String keystorePassword;
    Path caFile;
    Path crlFile;
    ClientCertificates requireCertificate;
    CertificateIdentity usernameFromCertificate = CertificateIdentity.NONE;
    /** Set by certificate_identity: which identity use_identity_as_username takes. */
    CertificateIdentity identityKind = CertificateIdentity.CN;
    Version minVersion = Version.TLS_1_2;
    List<String> ciphers = List.of();
    List<String> ciphersTls13 = List.of();
    Provider provider = Provider.JDK;

    /** protocol websockets. */
    boolean webSocket;
    /** protocol http_api: the admin listener, not an MQTT one. */
    boolean httpApi;
    boolean metricsAnonymous;
    java.util.Set<String> readonlyUsers = java.util.Set.of();
    String webSocketPath = WebSocketSettings.DEFAULT_PATH;
    List<Cidr> trustedProxies = List.of();
    int proxyProtocol;
    boolean proxyProtocolRequiresTls;

    public ListenerSettings() {
    }

    ListenerSettings copy() {
        ListenerSettings c = new ListenerSettings();
        c.allowAnonymous = allowAnonymous;
        c.passwordFile = passwordFile;
        c.aclFile = aclFile;
        c.plugins.addAll(plugins);
        c.pluginOptions.putAll(pluginOptions);
        c.maxConnections = maxConnections;
        c.connectionRatePerAddress = connectionRatePerAddress;
        c.certFile = certFile;
        c.keyFile = keyFile;
        c.keystore = keystore;
        c.keystorePassword = keystorePassword;
        c.caFile = caFile;
        c.crlFile = crlFile;
        c.requireCertificate = requireCertificate;
        c.usernameFromCertificate = usernameFromCertificate;
        c.identityKind = identityKind;
        c.minVersion = minVersion;
        c.ciphers = ciphers;
        c.ciphersTls13 = ciphersTls13;
        c.provider = provider;
        c.webSocket = webSocket;
        c.httpApi = httpApi;
        c.metricsAnonymous = metricsAnonymous;
        c.readonlyUsers = readonlyUsers;
        c.webSocketPath = webSocketPath;
        c.trustedProxies = trustedProxies;
        c.proxyProtocol = proxyProtocol;
        c.proxyProtocolRequiresTls = proxyProtocolRequiresTls;
        return c;
    }

    public ListenerSettings allowAnonymous(boolean allow) {
        this.allowAnonymous = allow;
        return this;
    }

    public ListenerSettings passwordFile(Path file) {
        this.passwordFile = file;
        return this;
    }

    public ListenerSettings aclFile(Path file) {
        this.aclFile = file;
        return this;
    }

    public ListenerSettings plugin(String name) {
        this.plugins.add(name);
        return this;
    }

    public ListenerSettings pluginOption(String name, String value) {
        this.pluginOptions.put(name, value);
        return this;
    }

    public ListenerSettings maxConnections(int max) {
        this.maxConnections = max;
        return this;
    }

    public ListenerSettings connectionRatePerAddress(int perSecond) {
        this.connectionRatePerAddress = perSecond;
        return this;
    }

    /** PEM certificate chain and PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC, unencrypted). */
    public ListenerSettings certificate(Path certFile, Path keyFile) {
        this.certFile = certFile;
        this.keyFile = keyFile;
        return this;
    }

    public ListenerSettings certFile(Path file) {
        this.certFile = file;
        return this;
    }

    public ListenerSettings keyFile(Path file) {
        this.keyFile = file;
        return this;
    }

    /** A PKCS#12 key store holding the server's key and certificate chain. */
    public ListenerSettings keystore(Path file, String password) {
        this.keystore = file;
        this.keystorePassword = password;
        return this;
    }

    public ListenerSettings keystorePassword(String password) {
        this.keystorePassword = password;
        return this;
    }

    public ListenerSettings caFile(Path file) {
        this.caFile = file;
        return this;
    }

    public ListenerSettings crlFile(Path file) {
        this.crlFile = file;
        return this;
    }

    public ListenerSettings requireCertificate(ClientCertificates mode) {
        this.requireCertificate = mode;
        return this;
    }

    /** Which part of the client certificate becomes the user name (NONE: the CONNECT's). */
    public ListenerSettings usernameFromCertificate(CertificateIdentity identity) {
        this.usernameFromCertificate = identity;
        return this;
    }

    void useIdentityAsUsername(boolean use) {
        this.usernameFromCertificate = use ? identityKind : CertificateIdentity.NONE;
    }

    void useSubjectAsUsername(boolean use) {
        this.usernameFromCertificate = use ? CertificateIdentity.SUBJECT : CertificateIdentity.NONE;
    }

    void certificateIdentity(CertificateIdentity kind) {
        this.identityKind = kind;
        if (usernameFromCertificate == CertificateIdentity.CN || usernameFromCertificate == CertificateIdentity.SAN) {
            usernameFromCertificate = kind;
        }
    }

    /** The lowest version accepted. */
    public ListenerSettings minTlsVersion(Version version) {
        this.minVersion = version;
        return this;
    }

    /** "TLSv1.2" or "TLSv1.3" (JSSE's names, case ignored): the lowest version accepted. */
    public ListenerSettings minTlsVersion(String version) {
        for (Version v : Version.values()) {
            if (v.protocol().equalsIgnoreCase(version)) {
                return minTlsVersion(v);
            }
        }
        throw new IllegalArgumentException("'" + version + "' is not one of TLSv1.2, TLSv1.3");
    }

    public ListenerSettings ciphers(List<String> suites) {
        this.ciphers = List.copyOf(suites);
        return this;
    }

    public ListenerSettings ciphersTls13(List<String> suites) {
        this.ciphersTls13 = List.copyOf(suites);
        return this;
    }

    public ListenerSettings tlsProvider(Provider provider) {
        this.provider = provider;
        return this;
    }

    /** "jdk" or "openssl". */
    public ListenerSettings tlsProvider(String name) {
        return tlsProvider(ConfigFileParser.oneOf(name, Provider.class));
    }

    /** MQTT over WebSocket (Mosquitto's {@code protocol websockets}) instead of MQTT directly on the connection. */
    public ListenerSettings webSocket(boolean on) {
        this.webSocket = on;
        return this;
    }

    /** "mqtt", "websockets" or "http_api" (the admin listener). */
    public ListenerSettings protocol(String name) {
        String protocol = ConfigFileParser.oneOf(name, "mqtt", "websockets", "http_api");
        this.httpApi = protocol.equals("http_api");
        return webSocket(protocol.equals("websockets"));
    }

    /** Whether these settings make the admin listener ({@code protocol http_api}). */
    public boolean isHttpApi() {
        return httpApi;
    }

    /** {@code metrics_anonymous}: GET /metrics on the admin listener needs no credentials. */
    public ListenerSettings metricsAnonymous(boolean anonymous) {
        this.metricsAnonymous = anonymous;
        return this;
    }

    /** {@code admin_readonly_users}: users of the admin password file who may only read (GET). */
    public ListenerSettings readonlyUsers(java.util.Collection<String> users) {
        this.readonlyUsers = java.util.Set.copyOf(users);
        return this;
    }

    /**
     * The admin listener these settings describe.
     *
     * @throws IllegalArgumentException without a password file
     */
    public AdminListenerConfig buildAdmin(String bindAddress, int port) {
        // the TLS keys are checked as on an MQTT listener; with them the admin listener serves HTTPS only
        return new AdminListenerConfig(bindAddress, port, passwordFile, metricsAnonymous, readonlyUsers,
                build(bindAddress, port).tls());
    }

    /** The request path WebSocket upgrades are accepted on; default {@value WebSocketSettings#DEFAULT_PATH}. */
    public ListenerSettings webSocketPath(String path) {
        this.webSocketPath = path;
        return this;
    }

    /** Peers (CIDR blocks) whose X-Forwarded-For header names the client of a WebSocket connection. */
    public ListenerSettings webSocketTrustedProxies(List<String> blocks) {
        this.trustedProxies = blocks.stream().map(Cidr::parse).toList();
        return this;
    }

    /** The PROXY protocol version (1 or 2) every connection begins with; 0: none. */
    public ListenerSettings proxyProtocol(int version) {
        this.proxyProtocol = version;
        return this;
    }

    /** Whether a PROXY v2 header must say the client used TLS (to the proxy). */
    public ListenerSettings proxyProtocolRequiresTls(boolean required) {
        this.proxyProtocolRequiresTls = required;
        return this;
    }

    /**
     * The listener these settings describe.
     *
     * @throws IllegalArgumentException when settings contradict each other, e.g. a key file without a certificate
     */
    public ListenerConfig build(String bindAddress, int port) {
        TlsSettings tls = null;
        boolean pem = certFile != null || keyFile != null;
        if (pem && keystore != null) {
            throw new IllegalArgumentException("certfile/keyfile and keystore both given; use one");
        }
        if (pem && (certFile == null || keyFile == null)) {
            throw new IllegalArgumentException(certFile == null ? "keyfile needs certfile" : "certfile needs keyfile");
        }
        if (pem || keystore != null) {
            ClientCertificates clientCerts = requireCertificate == null ? ClientCertificates.NONE : requireCertificate;
            if (clientCerts != ClientCertificates.NONE && caFile == null) {
                throw new IllegalArgumentException("require_certificate needs cafile (the CAs client certificates "
                        + "are checked against)");
            }
            if (usernameFromCertificate != CertificateIdentity.NONE && clientCerts == ClientCertificates.NONE) {
                throw new IllegalArgumentException("use_identity_as_username/use_subject_as_username need "
                        + "require_certificate true or optional");
            }
            if (crlFile != null && caFile == null) {
                throw new IllegalArgumentException("crlfile needs cafile");
            }
            tls = new TlsSettings(certFile, keyFile, keystore, keystorePassword, caFile, crlFile, clientCerts,
                    usernameFromCertificate, minVersion, ciphers, ciphersTls13, provider);
        } else if (caFile != null || crlFile != null) {
            throw new IllegalArgumentException("cafile/crlfile need a TLS listener: give certfile and keyfile, "
                    + "or keystore");
        }
        ListenerConfig.ProxiedCertificates proxied = null;
        if (tls == null && (requireCertificate != null || usernameFromCertificate != CertificateIdentity.NONE)) {
            // Mosquitto 2.1: behind a proxy that terminated TLS, its PROXY v2 header says what it verified
            if (proxyProtocol != 2 || !proxyProtocolRequiresTls) {
                throw new IllegalArgumentException("require_certificate/use_identity_as_username need a TLS "
                        + "listener (certfile and keyfile, or keystore), or enable_proxy_protocol 2 with "
                        + "proxy_protocol_v2_require_tls true behind a proxy that terminates TLS");
            }
            ClientCertificates clientCerts = requireCertificate == null ? ClientCertificates.NONE : requireCertificate;
            if (usernameFromCertificate != CertificateIdentity.NONE && clientCerts == ClientCertificates.NONE) {
                throw new IllegalArgumentException("use_identity_as_username needs require_certificate true or "
                        + "optional");
            }
            if (usernameFromCertificate != CertificateIdentity.NONE
                    && usernameFromCertificate != CertificateIdentity.CN) {
                throw new IllegalArgumentException("behind a PROXY v2 proxy only the certificate's CN is known "
                        + "(PP2_SUBTYPE_SSL_CN): use_subject_as_username and certificate_identity san need a TLS "
                        + "listener");
            }
            proxied = new ListenerConfig.ProxiedCertificates(clientCerts, usernameFromCertificate);
        }
        AuthSettings auth = new AuthSettings(allowAnonymous, passwordFile, aclFile, plugins, pluginOptions);
        WebSocketSettings ws = webSocket ? new WebSocketSettings(webSocketPath, trustedProxies) : null;
        return new ListenerConfig(bindAddress, port, tls, auth, maxConnections, connectionRatePerAddress, ws,
                proxyProtocol, proxyProtocolRequiresTls, proxied);
    }
}
