package io.ternmq.broker.it.security;

import io.ternmq.broker.Broker;
import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.config.ConfigException;
import io.ternmq.broker.config.TlsSettings.CertificateIdentity;
import io.ternmq.broker.config.TlsSettings.ClientCertificates;
import io.ternmq.broker.security.AuthRequest;
import io.ternmq.broker.security.AuthResult;
import io.ternmq.broker.security.Authenticator;
import io.ternmq.broker.testing.SecureBroker;
import io.ternmq.broker.testing.TestPki;
import io.netty.handler.ssl.OpenSsl;
import org.eclipse.paho.client.mqttv3.IMqttMessageListener;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static io.ternmq.broker.it.security.TlsClients.close;
import static io.ternmq.broker.it.security.TlsClients.concat;
import static io.ternmq.broker.it.security.TlsClients.mosquittoPub;
import static io.ternmq.broker.it.security.TlsClients.options;
import static io.ternmq.broker.it.security.TlsClients.paho;
import static io.ternmq.broker.it.security.TlsClients.tlsArgs;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * TLS listeners with real clients: Paho (JDK TLS) and mosquitto_pub (OpenSSL). Server authentication, mutual TLS
 * (required and optional) with valid, expired, untrusted and revoked certificates, certificate identities as user
 * names, protocol versions, PKCS#12 and the BoringSSL provider.
 */
class TlsTest {
    @TempDir
    static Path dir;
    static TestPki pki;
    static TestPki.Issued server;
    static TestPki.Issued alice;
    static TestPki.Issued expired;
    static TestPki.Issued untrusted;
    static TestPki.Issued revoked;
    static Path crl;

    @BeforeAll
    static void certificates() {
        pki = TestPki.create(dir);
        server = pki.server("server");
        alice = pki.client("alice");
        expired = pki.expiredClient("expired");
        untrusted = pki.untrustedClient("mallory");
        revoked = pki.client("revoked");
        pki.revoke(revoked);
        crl = pki.crl();
    }

    private static SecureBroker tlsBroker(ClientCertificates clientCerts, boolean withCrl) {
        return SecureBroker.start(b -> b.listener("127.0.0.1", 0, l -> {
            l.certificate(server.certFile(), server.keyFile()).allowAnonymous(true);
            if (clientCerts != ClientCertificates.NONE) {
                l.caFile(pki.ca.certFile()).requireCertificate(clientCerts);
            }
            if (withCrl) {
                l.crlFile(crl);
            }
        }));
    }

    /** Publishes over one connection and receives over another. */
    private static void roundTrip(int port, TestPki.Issued subCert, TestPki.Issued pubCert) throws Exception {
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        MqttClient sub = paho("ssl", port, "sub", options(pki.socketFactory(subCert), null, null));
        MqttClient pub = paho("ssl", port, "pub", options(pki.socketFactory(pubCert), null, null));
        try {
            sub.subscribe("t/#", 1, (IMqttMessageListener) (t, m) -> got.add(t + "=" + new String(m.getPayload(),
                    StandardCharsets.UTF_8)));
            pub.publish("t/1", new MqttMessage("over tls".getBytes(StandardCharsets.UTF_8)));
            assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("t/1=over tls");
        } finally {
            close(sub);
            close(pub);
        }
    }

    @Test
    @DisplayName("server TLS: a large payload fanned out on one event loop (one shared copy) arrives whole at every subscriber")
    void sharedPayloadOverTls() throws Exception {
        try (SecureBroker b = SecureBroker.start(c -> c.ioThreads(1).listener("127.0.0.1", 0,
                l -> l.certificate(server.certFile(), server.keyFile()).allowAnonymous(true)))) {
            List<MqttClient> subs = new ArrayList<>();
            List<BlockingQueue<byte[]>> got = new ArrayList<>();
            MqttClient pub = paho("ssl", b.port(), "big-pub", options(pki.socketFactory(null), null, null));
            try {
                for (int i = 0; i < 4; i++) {
                    BlockingQueue<byte[]> q = new LinkedBlockingQueue<>();
                    MqttClient sub = paho("ssl", b.port(), "big-sub" + i, options(pki.socketFactory(null), null, null));
                    subs.add(sub);
                    got.add(q);
                    sub.subscribe("big/#", 1, (IMqttMessageListener) (t, m) -> q.add(m.getPayload()));
                }
                List<byte[]> sent = new ArrayList<>();
                for (int n = 0; n < 3; n++) {
                    byte[] payload = new byte[4096 + n];
                    new java.util.Random(n).nextBytes(payload);
                    sent.add(payload);
                    pub.publish("big/" + n, payload, 1, false);
                }
                for (BlockingQueue<byte[]> q : got) {
                    for (byte[] expected : sent) {
                        assertThat(q.poll(10, TimeUnit.SECONDS)).isEqualTo(expected);
                    }
                }
            } finally {
                close(pub);
                subs.forEach(TlsClients::close);
            }
        }
    }

    @Test
    @DisplayName("server TLS: Paho publishes and subscribes; mosquitto_pub --cafile delivers; plain MQTT is refused")
    void serverTls() throws Exception {
        try (SecureBroker b = tlsBroker(ClientCertificates.NONE, false)) {
            roundTrip(b.port(), null, null);
            BlockingQueue<String> got = new LinkedBlockingQueue<>();
            MqttClient sub = paho("ssl", b.port(), "sub2", options(pki.socketFactory(null), null, null));
            try {
                sub.subscribe("m/#", 1, (IMqttMessageListener) (t, m) -> got.add(new String(m.getPayload(),
                        StandardCharsets.UTF_8)));
                TlsClients.Run run = mosquittoPub(b.port(), concat(tlsArgs(pki, null), "-t", "m/x", "-m", "hi",
                        "-q", "1"));
                assertThat(run.exitCode()).as(run.output()).isZero();
                assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("hi");
            } finally {
                close(sub);
            }
            assertThatThrownBy(() -> paho("tcp", b.port(), "plain", options(null, null, null)))
                    .isInstanceOf(MqttException.class);
            assertThat(b.broker().metrics().tlsHandshakeFailures.sum()).isPositive();
        }
    }

    @Test
    @DisplayName("mutual TLS required: a CA-signed certificate connects; none, expired and untrusted ones are refused")
    void mutualTlsRequired() throws Exception {
        try (SecureBroker b = tlsBroker(ClientCertificates.REQUIRED, false)) {
            roundTrip(b.port(), alice, alice);
            for (TestPki.Issued bad : new TestPki.Issued[] {null, expired, untrusted}) {
                assertThatThrownBy(() -> close(paho("ssl", b.port(), "bad", options(pki.socketFactory(bad), null,
                        null)))).as(bad == null ? "no certificate" : bad.certificate().getSubjectX500Principal()
                        .getName()).isInstanceOf(MqttException.class);
            }
            assertThat(mosquittoPub(b.port(), concat(tlsArgs(pki, alice), "-t", "x", "-m", "y")).exitCode())
                    .isZero();
            assertThat(mosquittoPub(b.port(), concat(tlsArgs(pki, null), "-t", "x", "-m", "y")).exitCode())
                    .as("mosquitto_pub without --cert").isNotZero();
            assertThat(mosquittoPub(b.port(), concat(tlsArgs(pki, expired), "-t", "x", "-m", "y")).exitCode())
                    .as("mosquitto_pub with an expired certificate").isNotZero();
            assertThat(mosquittoPub(b.port(), concat(tlsArgs(pki, untrusted), "-t", "x", "-m", "y")).exitCode())
                    .as("mosquitto_pub with an untrusted certificate").isNotZero();
        }
    }

    @Test
    @DisplayName("crlfile: a revoked certificate is refused, others still connect")
    void revokedCertificate() throws Exception {
        try (SecureBroker b = tlsBroker(ClientCertificates.REQUIRED, true)) {
            roundTrip(b.port(), alice, alice);
            assertThatThrownBy(() -> close(paho("ssl", b.port(), "r", options(pki.socketFactory(revoked), null,
                    null)))).isInstanceOf(MqttException.class);
            assertThat(mosquittoPub(b.port(), concat(tlsArgs(pki, revoked), "-t", "x", "-m", "y")).exitCode())
                    .isNotZero();
            assertThat(mosquittoPub(b.port(), concat(tlsArgs(pki, alice), "-t", "x", "-m", "y")).exitCode())
                    .isZero();
        }
    }

    @Test
    @DisplayName("require_certificate optional: no certificate is fine, a bad one is still refused")
    void optionalClientCertificate() throws Exception {
        try (SecureBroker b = tlsBroker(ClientCertificates.OPTIONAL, false)) {
            roundTrip(b.port(), null, alice);
            // the JDK client leaves out a certificate the server's CA list does not name; OpenSSL sends it anyway
            assertThat(mosquittoPub(b.port(), concat(tlsArgs(pki, untrusted), "-t", "x", "-m", "y")).exitCode())
                    .isNotZero();
            assertThat(mosquittoPub(b.port(), concat(tlsArgs(pki, expired), "-t", "x", "-m", "y")).exitCode())
                    .isNotZero();
            assertThat(mosquittoPub(b.port(), concat(tlsArgs(pki, null), "-t", "x", "-m", "y")).exitCode())
                    .isZero();
        }
    }

    /** Records what the authenticator is asked. */
    private static final class Recorder implements Authenticator {
        final BlockingQueue<AuthRequest> requests = new LinkedBlockingQueue<>();

        @Override
        public java.util.concurrent.CompletionStage<AuthResult> authenticate(AuthRequest request) {
            requests.add(request);
            return CompletableFuture.completedFuture(AuthResult.ACCEPTED);
        }
    }

    @Test
    @DisplayName("use_identity_as_username: the certificate's CN replaces the CONNECT's user name; the password is dropped")
    void identityAsUsername() throws Exception {
        Recorder recorder = new Recorder();
        BrokerConfig config = BrokerConfig.builder().dataDir(Files.createTempDirectory(dir, "d")).storageType("memory")
                .listener("127.0.0.1", 0, l -> l.certificate(server.certFile(), server.keyFile())
                        .caFile(pki.ca.certFile()).requireCertificate(ClientCertificates.REQUIRED)
                        .usernameFromCertificate(CertificateIdentity.CN))
                .listener("127.0.0.1", 0, l -> l.certificate(server.certFile(), server.keyFile())
                        .caFile(pki.ca.certFile()).requireCertificate(ClientCertificates.REQUIRED)
                        .usernameFromCertificate(CertificateIdentity.SAN))
                .listener("127.0.0.1", 0, l -> l.certificate(server.certFile(), server.keyFile())
                        .caFile(pki.ca.certFile()).requireCertificate(ClientCertificates.REQUIRED)
                        .usernameFromCertificate(CertificateIdentity.SUBJECT))
                .build();
        try (Broker broker = Broker.start(config, recorder, List.of())) {
            String[] expected = {"alice", "alice@example.com", "CN=alice,O=TernMQ Tests"};
            for (int i = 0; i < 3; i++) {
                close(paho("ssl", broker.addresses().get(i).getPort(), "dev",
                        options(pki.socketFactory(alice), "admin", "guess")));
                AuthRequest r = recorder.requests.poll(5, TimeUnit.SECONDS);
                assertThat(r).isNotNull();
                assertThat(r.username()).isEqualTo(expected[i]);
                assertThat(r.password()).isNull();
            }
        }
    }

    @Test
    @DisplayName("use_identity_as_username with the configured security: the certificate authenticates, anonymous is refused")
    void identityAuthenticates() throws Exception {
        try (SecureBroker b = SecureBroker.start(c -> c.listener("127.0.0.1", 0, l -> l
                .certificate(server.certFile(), server.keyFile()).caFile(pki.ca.certFile())
                .requireCertificate(ClientCertificates.OPTIONAL).usernameFromCertificate(CertificateIdentity.CN)))) {
            close(paho("ssl", b.port(), "dev", options(pki.socketFactory(alice), null, null)));
            assertThatThrownBy(() -> paho("ssl", b.port(), "anon", options(pki.socketFactory(null), null, null)))
                    .isInstanceOf(MqttException.class).hasMessageContaining("authori");
            assertThatThrownBy(() -> paho("ssl", b.port(), "anon", options(pki.socketFactory(null), "alice", "x")))
                    .as("claiming the certificate's name without the certificate").isInstanceOf(MqttException.class);
        }
    }

    @Test
    @DisplayName("tls_version tlsv1.3 refuses TLS 1.2 clients; the default accepts both")
    void tlsVersions() throws Exception {
        try (SecureBroker b = SecureBroker.start(c -> c.listener("127.0.0.1", 0, l -> l
                .certificate(server.certFile(), server.keyFile()).minTlsVersion("TLSv1.3").allowAnonymous(true)))) {
            close(paho("ssl", b.port(), "v13", options(pki.sslContext(null, "TLSv1.3").getSocketFactory(), null,
                    null)));
            javax.net.ssl.SSLSocketFactory tls12 = tls12Only();
            assertThatThrownBy(() -> paho("ssl", b.port(), "v12", options(tls12, null, null)))
                    .isInstanceOf(MqttException.class);
        }
        try (SecureBroker b = tlsBroker(ClientCertificates.NONE, false)) {
            close(paho("ssl", b.port(), "v12", options(tls12Only(), null, null)));
        }
    }

    /** A socket factory whose sockets offer TLS 1.2 only. */
    private static javax.net.ssl.SSLSocketFactory tls12Only() {
        javax.net.ssl.SSLSocketFactory base = pki.sslContext(null, "TLSv1.2").getSocketFactory();
        return new javax.net.ssl.SSLSocketFactory() {
            private java.net.Socket only12(java.net.Socket s) {
                ((javax.net.ssl.SSLSocket) s).setEnabledProtocols(new String[] {"TLSv1.2"});
                return s;
            }

            @Override
            public String[] getDefaultCipherSuites() {
                return base.getDefaultCipherSuites();
            }

            @Override
            public String[] getSupportedCipherSuites() {
                return base.getSupportedCipherSuites();
            }

            @Override
            public java.net.Socket createSocket(java.net.Socket s, String h, int p, boolean a)
                    throws java.io.IOException {
                return only12(base.createSocket(s, h, p, a));
            }

            @Override
            public java.net.Socket createSocket() throws java.io.IOException {
                return only12(base.createSocket());
            }

            @Override
            public java.net.Socket createSocket(String h, int p) throws java.io.IOException {
                return only12(base.createSocket(h, p));
            }

            @Override
            public java.net.Socket createSocket(String h, int p, java.net.InetAddress la, int lp)
                    throws java.io.IOException {
                return only12(base.createSocket(h, p, la, lp));
            }

            @Override
            public java.net.Socket createSocket(java.net.InetAddress h, int p) throws java.io.IOException {
                return only12(base.createSocket(h, p));
            }

            @Override
            public java.net.Socket createSocket(java.net.InetAddress h, int p, java.net.InetAddress la, int lp)
                    throws java.io.IOException {
                return only12(base.createSocket(h, p, la, lp));
            }
        };
    }

    @Test
    @DisplayName("ciphers with OpenSSL names: TLS 1.2 clients get the configured suite")
    void configuredCiphers() throws Exception {
        try (SecureBroker b = SecureBroker.start(c -> c.listener("127.0.0.1", 0, l -> l
                .certificate(server.certFile(), server.keyFile()).allowAnonymous(true)
                .ciphers(List.of("ECDHE-ECDSA-AES256-GCM-SHA384"))))) {
            try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) tls12Only().createSocket("127.0.0.1",
                    b.port())) {
                s.startHandshake();
                assertThat(s.getSession().getProtocol()).isEqualTo("TLSv1.2");
                assertThat(s.getSession().getCipherSuite()).isEqualTo("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384");
            }
        }
    }

    @Test
    @DisplayName("over TLS (JDK and BoringSSL), a client still sending reads its DISCONNECT, then close_notify and EOF")
    void lingeringCloseOverTls() throws Exception {
        List<String> providers = new ArrayList<>(List.of("jdk"));
        if (OpenSsl.isAvailable()) {
            providers.add("openssl");
        }
        for (String provider : providers) {
            try (SecureBroker b = SecureBroker.start(c -> c.listener("127.0.0.1", 0, l -> l
                    .certificate(server.certFile(), server.keyFile()).tlsProvider(provider).allowAnonymous(true)))) {
                for (int round = 0; round < 20; round++) {
                    javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) pki.socketFactory(null)
                            .createSocket("127.0.0.1", b.port());
                    io.ternmq.broker.testing.RawClient c = new io.ternmq.broker.testing.RawClient(socket)
                            .version(io.ternmq.codec.MqttVersion.MQTT_5);
                    io.ternmq.codec.Connect connect = io.ternmq.broker.testing.RawV5.connect("tls-" + round);
                    assertThat(io.ternmq.broker.testing.RawV5.connack(c, connect).reasonCode()).isZero();
                    java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
                    byte[] again = io.ternmq.broker.testing.RawClient.encode(connect,
                            io.ternmq.codec.MqttVersion.MQTT_5);
                    Thread writer = new Thread(() -> {
                        try {
                            socket.getOutputStream().write(again);
                            byte[] pings = new byte[4096];
                            for (int i = 0; i < pings.length; i += 2) {
                                pings[i] = (byte) 0xC0;
                            }
                            while (!done.get()) {
                                socket.getOutputStream().write(pings);
                            }
                        } catch (java.io.IOException expected) {
                            // closed by the broker
                        }
                    });
                    writer.setDaemon(true);
                    writer.start();
                    try {
                        io.ternmq.codec.Disconnect d = c.read(io.ternmq.codec.Disconnect.class);
                        assertThat(d.reasonCode()).as(provider + " round " + round)
                                .isEqualTo(io.ternmq.codec.ReasonCode.PROTOCOL_ERROR);
                        socket.setSoTimeout(5000);
                        assertThat(socket.getInputStream().read()).as("close_notify: end of stream").isEqualTo(-1);
                    } finally {
                        done.set(true);
                        c.close();
                        writer.join(5000);
                    }
                }
                assertThat(b.broker().metrics().lingeringCloses.sum()).isEqualTo(20);
            }
        }
    }

    @Test
    @DisplayName("a PKCS#12 keystore serves like PEM files")
    void pkcs12() throws Exception {
        Path p12 = pki.pkcs12(server, "changeit");
        try (SecureBroker b = SecureBroker.start(c -> c.listener("127.0.0.1", 0, l -> l.keystore(p12, "changeit")
                .allowAnonymous(true)))) {
            roundTrip(b.port(), null, null);
        }
    }

    @Test
    @DisplayName("tls_provider openssl: BoringSSL serves mutual TLS with CRLs")
    void boringSsl() throws Exception {
        assumeThat(OpenSsl.isAvailable()).as("netty-tcnative loads here").isTrue();
        try (SecureBroker b = SecureBroker.start(c -> c.listener("127.0.0.1", 0, l -> l
                .certificate(server.certFile(), server.keyFile()).caFile(pki.ca.certFile()).crlFile(crl)
                .requireCertificate(ClientCertificates.REQUIRED).tlsProvider("openssl").allowAnonymous(true)))) {
            roundTrip(b.port(), alice, alice);
            assertThatThrownBy(() -> close(paho("ssl", b.port(), "r", options(pki.socketFactory(revoked), null,
                    null)))).isInstanceOf(MqttException.class);
            assertThat(mosquittoPub(b.port(), concat(tlsArgs(pki, alice), "-t", "x", "-m", "y")).exitCode())
                    .isZero();
        }
    }

    @Test
    @DisplayName("a plain and a TLS listener side by side")
    void plainAndTls() throws Exception {
        try (SecureBroker b = SecureBroker.start(c -> c
                .listener("127.0.0.1", 0, l -> l.allowAnonymous(true))
                .listener("127.0.0.1", 0, l -> l.certificate(server.certFile(), server.keyFile())
                        .allowAnonymous(true)))) {
            BlockingQueue<String> got = new LinkedBlockingQueue<>();
            MqttClient sub = paho("ssl", b.port(1), "sub", options(pki.socketFactory(null), null, null));
            MqttClient pub = paho("tcp", b.port(0), "pub", options(null, null, null));
            try {
                sub.subscribe("x", 1, (IMqttMessageListener) (t, m) -> got.add(new String(m.getPayload(),
                        StandardCharsets.UTF_8)));
                pub.publish("x", new MqttMessage("across".getBytes(StandardCharsets.UTF_8)));
                assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("across");
            } finally {
                close(sub);
                close(pub);
            }
        }
    }

    @Test
    @DisplayName("unusable TLS files stop the start with a message naming the listener and the file")
    void badFiles() {
        TestPki.Issued other = pki.client("other");
        assertThatThrownBy(() -> SecureBroker.start(c -> c.listener("127.0.0.1", 0, l -> l
                .certificate(dir.resolve("missing.crt"), server.keyFile()))))
                .isInstanceOf(ConfigException.class).hasMessageContaining("TLS").hasMessageContaining("missing.crt");
        assertThatThrownBy(() -> SecureBroker.start(c -> c.listener("127.0.0.1", 0, l -> l
                .certificate(server.certFile(), other.keyFile()))))
                .isInstanceOf(ConfigException.class).hasMessageContaining("does not belong");
        assertThatThrownBy(() -> SecureBroker.start(c -> c.listener("127.0.0.1", 0, l -> l
                .certificate(server.certFile(), server.keyFile()).ciphers(List.of("NO-SUCH-CIPHER")))))
                .isInstanceOf(ConfigException.class).hasMessageContaining("NO-SUCH-CIPHER");
    }
}
