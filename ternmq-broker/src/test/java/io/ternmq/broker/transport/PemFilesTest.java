package io.ternmq.broker.transport;

import io.ternmq.broker.testing.TestPki;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509CRL;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PemFilesTest {

    @Test
    @DisplayName("PKCS#8 and SEC1 (EC PRIVATE KEY) keys load and are matched against their certificates")
    void keys(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir);
        TestPki.Issued server = pki.server("server");
        PrivateKey pkcs8 = PemFiles.privateKey(server.keyFile());
        PrivateKey sec1 = PemFiles.privateKey(pki.traditionalKey(server));
        assertThat(Files.readString(pki.traditionalKey(server))).contains("BEGIN EC PRIVATE KEY");
        assertThat(PemFiles.matches(pkcs8, server.certificate().getPublicKey())).isTrue();
        assertThat(PemFiles.matches(sec1, server.certificate().getPublicKey())).isTrue();
        assertThat(PemFiles.matches(pkcs8, pki.ca.certificate().getPublicKey())).isFalse();
        assertThat(PemFiles.certificates(server.certFile())).containsExactly(server.certificate());
    }

    @Test
    @DisplayName("RSA keys in PKCS#1 (RSA PRIVATE KEY) load")
    void pkcs1(@TempDir Path dir) throws Exception {
        java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        java.security.KeyPair kp = g.generateKeyPair();
        java.io.StringWriter w = new java.io.StringWriter();
        try (org.bouncycastle.openssl.jcajce.JcaPEMWriter pw = new org.bouncycastle.openssl.jcajce.JcaPEMWriter(w)) {
            pw.writeObject(kp);
        }
        Path file = dir.resolve("rsa.key");
        Files.writeString(file, w.toString());
        assertThat(w.toString()).contains("BEGIN RSA PRIVATE KEY");
        PrivateKey key = PemFiles.privateKey(file);
        assertThat(PemFiles.matches(key, kp.getPublic())).isTrue();
    }

    @Test
    @DisplayName("files without what they should hold are refused with a message naming them")
    void errors(@TempDir Path dir) throws IOException {
        Path empty = dir.resolve("empty.pem");
        Files.writeString(empty, "nothing here\n");
        assertThatThrownBy(() -> PemFiles.certificates(empty)).hasMessageContaining("no PEM certificate");
        assertThatThrownBy(() -> PemFiles.privateKey(empty)).hasMessageContaining("no PEM private key");
        Path enc = dir.resolve("enc.pem");
        Files.writeString(enc, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
        assertThatThrownBy(() -> PemFiles.privateKey(enc)).hasMessageContaining("encrypted private keys");
    }

    @Test
    @DisplayName("CRLs load")
    void crl(@TempDir Path dir) throws IOException, GeneralSecurityException {
        TestPki pki = TestPki.create(dir);
        TestPki.Issued c = pki.client("revoked");
        pki.revoke(c);
        X509CRL crl = (X509CRL) PemFiles.crls(pki.crl()).iterator().next();
        assertThat(crl.isRevoked(c.certificate())).isTrue();
    }
}
