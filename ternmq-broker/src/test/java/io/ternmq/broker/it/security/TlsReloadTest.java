package io.ternmq.broker.it.security;

import io.ternmq.broker.config.TlsSettings.ClientCertificates;
import io.ternmq.broker.testing.SecureBroker;
import io.ternmq.broker.testing.TestPki;
import org.eclipse.paho.client.mqttv3.IMqttMessageListener;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static io.ternmq.broker.it.security.TlsClients.close;
import static io.ternmq.broker.it.security.TlsClients.options;
import static io.ternmq.broker.it.security.TlsClients.paho;
import static io.ternmq.broker.it.security.TlsClients.serverCertificate;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Certificates, keys and CRLs change on disk; new connections get them, connected clients stay. */
class TlsReloadTest {

    private static void install(TestPki.Issued from, Path cert, Path key) throws Exception {
        // key first, then the certificate: for a moment they do not match, and the broker must ride that out
        Files.copy(from.keyFile(), key, StandardCopyOption.REPLACE_EXISTING);
        Files.copy(from.certFile(), cert, StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    @DisplayName("a new certificate and key are used for new connections without dropping connected clients")
    void reloadKeepsClients(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir);
        TestPki.Issued first = pki.server("first");
        TestPki.Issued second = pki.server("second");
        Path cert = dir.resolve("live.crt");
        Path key = dir.resolve("live.key");
        install(first, cert, key);
        try (SecureBroker b = SecureBroker.start(c -> c.listener("127.0.0.1", 0, l -> l.certificate(cert, key)
                .allowAnonymous(true)))) {
            int port = b.port();
            assertThat(serverCertificate(pki, port)).isEqualTo(first.certificate());
            BlockingQueue<String> got = new LinkedBlockingQueue<>();
            MqttClient sub = paho("ssl", port, "stays", options(pki.socketFactory(null), null, null));
            try {
                sub.subscribe("r", 1, (IMqttMessageListener) (t, m) -> got.add(new String(m.getPayload(),
                        StandardCharsets.UTF_8)));

                install(second, cert, key);
                await().atMost(Duration.ofSeconds(20))
                        .until(() -> serverCertificate(pki, port).equals(second.certificate()));
                assertThat(b.broker().metrics().tlsReloads.sum()).isPositive();

                MqttClient pub = paho("ssl", port, "new", options(pki.socketFactory(null), null, null));
                try {
                    pub.publish("r", new MqttMessage("after reload".getBytes(StandardCharsets.UTF_8)));
                } finally {
                    close(pub);
                }
                assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("after reload");
                assertThat(sub.isConnected()).as("the client connected before the reload").isTrue();

                // a broken file keeps the last good certificate
                Files.writeString(cert, "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n");
                b.broker().security().watcher().checkNow();
                assertThat(serverCertificate(pki, port)).isEqualTo(second.certificate());

                // the SIGHUP path: reload on demand
                install(first, cert, key);
                b.broker().reload();
                assertThat(serverCertificate(pki, port)).isEqualTo(first.certificate());
                assertThat(sub.isConnected()).isTrue();
            } finally {
                close(sub);
            }
        }
    }

    @Test
    @DisplayName("a CRL that revokes a certificate refuses it from the next connection on")
    void crlReload(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir);
        TestPki.Issued server = pki.server("server");
        TestPki.Issued device = pki.client("device");
        Path crl = pki.crl();
        try (SecureBroker b = SecureBroker.start(c -> c.listener("127.0.0.1", 0, l -> l
                .certificate(server.certFile(), server.keyFile()).caFile(pki.ca.certFile()).crlFile(crl)
                .requireCertificate(ClientCertificates.REQUIRED).allowAnonymous(true)))) {
            MqttClient before = paho("ssl", b.port(), "before", options(pki.socketFactory(device), null, null));
            try {
                pki.revoke(device);
                pki.crl();
                await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                        assertThatThrownBy(() -> close(paho("ssl", b.port(), "after",
                                options(pki.socketFactory(device), null, null)))).isInstanceOf(MqttException.class));
                assertThat(before.isConnected()).as("TLS sessions already open are not revisited").isTrue();
            } finally {
                close(before);
            }
        }
    }
}
