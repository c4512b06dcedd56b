package io.ternmq.broker.testing;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Test certificates, made at test time with BouncyCastle: a CA, a server certificate for 127.0.0.1/localhost, client
 * certificates (valid, expired, from an untrusted CA, revoked) and a CRL, written as PEM (and PKCS#12) files.
 * EC P-256 keys: quick to make, and every client here speaks them.
 */
public final class TestPki {
    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    /** A certificate and its key, as objects and as PEM files. */
    public record Issued(X509Certificate certificate, KeyPair keys, Path certFile, Path keyFile,
                         List<X509Certificate> chain) {
    }

    private final Path dir;
    public final Issued ca;
    public final Issued otherCa;
    private final List<BigInteger> revoked = new ArrayList<>();

    private TestPki(Path dir) {
        this.dir = dir;
        this.ca = selfSigned("TernMQ Test CA", "ca");
        this.otherCa = selfSigned("Untrusted Test CA", "other-ca");
    }

    public static TestPki create(Path dir) {
        return new TestPki(dir);
    }

    public Path dir() {
        return dir;
    }

    /** A server certificate for 127.0.0.1 and localhost, issued by the CA. */
    public Issued server(String name) {
        return issue(ca, "CN=" + name, name, false, Instant.now().minus(Duration.ofDays(1)),
                Instant.now().plus(Duration.ofDays(30)), new GeneralName[] {
                        new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                        new GeneralName(GeneralName.dNSName, "localhost")});
    }

    /** A server certificate for 127.0.0.1 and localhost that expires {@code validFor} from now (alarms). */
    public Issued server(String name, Duration validFor) {
        return issue(ca, "CN=" + name, name, false, Instant.now().minus(Duration.ofDays(1)),
                Instant.now().plus(validFor), new GeneralName[] {
                        new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                        new GeneralName(GeneralName.dNSName, "localhost")});
    }

    /** A client certificate with this CN (and an e-mail SAN {@code <cn>@example.com}), issued by the CA. */
    public Issued client(String cn) {
        return issue(ca, "O=TernMQ Tests,CN=" + cn, cn, true, Instant.now().minus(Duration.ofDays(1)),
                Instant.now().plus(Duration.ofDays(30)),
                new GeneralName[] {new GeneralName(GeneralName.rfc822Name, cn + "@example.com")});
    }

    /** A client certificate that expired yesterday. */
    public Issued expiredClient(String cn) {
        return issue(ca, "CN=" + cn, cn, true, Instant.now().minus(Duration.ofDays(10)),
                Instant.now().minus(Duration.ofDays(1)), new GeneralName[0]);
    }

    /** A client certificate issued by a CA the broker does not trust. */
    public Issued untrustedClient(String cn) {
        return issue(otherCa, "CN=" + cn, cn, true, Instant.now().minus(Duration.ofDays(1)),
                Instant.now().plus(Duration.ofDays(30)), new GeneralName[0]);
    }

    /** Adds the certificate to the revoked list of {@link #crl()}. */
    public void revoke(Issued cert) {
        revoked.add(cert.certificate().getSerialNumber());
    }

    /** Writes the CA's CRL with every revoked certificate; returns its PEM file. */
    public Path crl() {
        try {
            Date now = new Date();
            X509v2CRLBuilder b = new X509v2CRLBuilder(X500Name.getInstance(ca.certificate()
                    .getSubjectX500Principal().getEncoded()), new Date(now.getTime() - 3_600_000L));
            b.setNextUpdate(new Date(now.getTime() + 7 * 86_400_000L));
            for (BigInteger serial : revoked) {
                b.addCRLEntry(serial, new Date(now.getTime() - 60_000L), CRLReason.keyCompromise);
            }
            b.addExtension(Extension.authorityKeyIdentifier, false,
                    new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(ca.certificate()));
            X509CRLHolder holder = b.build(signer(ca.keys()));
            X509CRL crl = new JcaX509CRLConverter().getCRL(holder);
            Path file = dir.resolve("crl.pem");
            Files.writeString(file, pem(crl));
            return file;
        } catch (GeneralSecurityException | IOException | org.bouncycastle.operator.OperatorCreationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes the certificate and key as a PKCS#12 key store. */
    public Path pkcs12(Issued issued, String password) {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("key", issued.keys().getPrivate(), password.toCharArray(),
                    issued.chain().toArray(X509Certificate[]::new));
            Path file = dir.resolve(issued.certFile().getFileName().toString().replace(".crt", ".p12"));
            try (OutputStream out = Files.newOutputStream(file)) {
                ks.store(out, password.toCharArray());
            }
            return file;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A client socket factory trusting the test CA, presenting the certificate if one is given. */
    public SSLSocketFactory socketFactory(Issued clientCertificate) {
        return sslContext(clientCertificate, "TLSv1.3").getSocketFactory();
    }

    /** Trusts the test CA (for clients that take a TrustManagerFactory, as the HiveMQ client does). */
    public TrustManagerFactory trustManagerFactory() {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("ca", ca.certificate());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            return tmf;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public SSLContext sslContext(Issued clientCertificate, String protocol) {
        try {
            TrustManagerFactory tmf = trustManagerFactory();
            KeyManagerFactory kmf = null;
            if (clientCertificate != null) {
                KeyStore ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                ks.setKeyEntry("client", clientCertificate.keys().getPrivate(), new char[0],
                        clientCertificate.chain().toArray(X509Certificate[]::new));
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(ks, new char[0]);
            }
            SSLContext ctx = SSLContext.getInstance(protocol);
            ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), new SecureRandom());
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes the key in the traditional OpenSSL form (SEC1 "EC PRIVATE KEY" with its curve), as older tools do. */
    public Path traditionalKey(Issued issued) {
        try {
            java.security.interfaces.ECPrivateKey k = (java.security.interfaces.ECPrivateKey) issued.keys().getPrivate();
            org.bouncycastle.asn1.sec.ECPrivateKey sec1 = new org.bouncycastle.asn1.sec.ECPrivateKey(256, k.getS(),
                    org.bouncycastle.asn1.sec.SECObjectIdentifiers.secp256r1);
            StringWriter w = new StringWriter();
            try (org.bouncycastle.util.io.pem.PemWriter pw = new org.bouncycastle.util.io.pem.PemWriter(w)) {
                pw.writeObject(new org.bouncycastle.util.io.pem.PemObject("EC PRIVATE KEY", sec1.getEncoded()));
            }
            Path file = dir.resolve(issued.keyFile().getFileName() + ".sec1");
            Files.writeString(file, w.toString());
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------ making certificates

    private Issued selfSigned(String cn, String fileName) {
        try {
            KeyPair keys = newKeys();
            X500Name name = new X500Name("CN=" + cn);
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(),
                    Date.from(Instant.now().minus(Duration.ofDays(1))), Date.from(Instant.now().plus(Duration.ofDays(365))),
                    name, keys.getPublic());
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(b.build(signer(keys)));
            return write(fileName, cert, keys, List.of(cert));
        } catch (GeneralSecurityException | IOException | org.bouncycastle.operator.OperatorCreationException e) {
            throw new IllegalStateException(e);
        }
    }

    private Issued issue(Issued issuer, String subject, String fileName, boolean client, Instant notBefore,
                         Instant notAfter, GeneralName[] sans) {
        try {
            KeyPair keys = newKeys();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
                    X500Name.getInstance(issuer.certificate().getSubjectX500Principal().getEncoded()), serial(),
                    Date.from(notBefore), Date.from(notAfter), new X500Name(subject), keys.getPublic());
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            b.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(client ? KeyPurposeId.id_kp_clientAuth : KeyPurposeId.id_kp_serverAuth));
            b.addExtension(Extension.authorityKeyIdentifier, false,
                    ext.createAuthorityKeyIdentifier(issuer.certificate()));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
            if (sans.length > 0) {
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
            }
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(b.build(signer(issuer.keys())));
            return write(fileName, cert, keys, List.of(cert, issuer.certificate()));
        } catch (GeneralSecurityException | IOException | org.bouncycastle.operator.OperatorCreationException e) {
            throw new IllegalStateException(e);
        }
    }

    private Issued write(String name, X509Certificate cert, KeyPair keys, List<X509Certificate> chain)
            throws IOException {
        Path certFile = dir.resolve(name + ".crt");
        Path keyFile = dir.resolve(name + ".key");
        // the leaf alone: clients send the chain themselves, brokers take certfile as the chain to send
        Files.writeString(certFile, pem(cert));
        StringWriter w = new StringWriter();
        try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
            pw.writeObject(new JcaPKCS8Generator(keys.getPrivate(), null));
        }
        Files.writeString(keyFile, w.toString());
        return new Issued(cert, keys, certFile, keyFile, chain);
    }

    private static String pem(Object o) throws IOException {
        StringWriter w = new StringWriter();
        try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
            pw.writeObject(o);
        }
        return w.toString();
    }

    private static KeyPair newKeys() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static BigInteger serial() {
        return BigInteger.valueOf(SERIAL.incrementAndGet());
    }

    private static ContentSigner signer(KeyPair keys) throws org.bouncycastle.operator.OperatorCreationException {
        return new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate());
    }
}
