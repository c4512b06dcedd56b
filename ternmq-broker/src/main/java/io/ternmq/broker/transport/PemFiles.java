package io.ternmq.broker.transport;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CRL;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the PEM files Mosquitto users have: certificate chains, CRLs, and unencrypted private keys in PKCS#8
 * ({@code BEGIN PRIVATE KEY}), PKCS#1 ({@code BEGIN RSA PRIVATE KEY}) or SEC1 ({@code BEGIN EC PRIVATE KEY}) form.
 */
final class PemFiles {
    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]*?)\\s*-----END \\1-----");
    private static final byte[] RSA_OID = {0x06, 0x09, 0x2A, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xF7, 0x0D, 0x01,
            0x01, 0x01};
    private static final byte[] EC_OID = {0x06, 0x07, 0x2A, (byte) 0x86, 0x48, (byte) 0xCE, 0x3D, 0x02, 0x01};

    private PemFiles() {
    }

    private record Block(String type, byte[] der) {
    }

    private static List<Block> blocks(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        List<Block> blocks = new ArrayList<>();
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            try {
                blocks.add(new Block(m.group(1), Base64.getMimeDecoder().decode(m.group(2))));
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ": bad Base64 in a " + m.group(1) + " block");
            }
        }
        return blocks;
    }

    /** Every certificate in the file, in order (a server certificate first, then its chain). */
    static X509Certificate[] certificates(Path file) throws IOException, GeneralSecurityException {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        List<X509Certificate> certs = new ArrayList<>();
        for (Block b : blocks(file)) {
            if (b.type().equals("CERTIFICATE") || b.type().equals("TRUSTED CERTIFICATE")) {
                certs.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(b.der())));
            }
        }
        if (certs.isEmpty()) {
            throw new IOException(file + ": no PEM certificate (-----BEGIN CERTIFICATE-----) in it");
        }
        return certs.toArray(X509Certificate[]::new);
    }

    /** Every CRL in the file, PEM ({@code BEGIN X509 CRL}) or DER. */
    static Collection<? extends CRL> crls(Path file) throws IOException, GeneralSecurityException {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        List<Block> blocks = blocks(file);
        if (blocks.isEmpty()) {
            return cf.generateCRLs(new ByteArrayInputStream(Files.readAllBytes(file)));
        }
        List<CRL> crls = new ArrayList<>();
        for (Block b : blocks) {
            if (b.type().equals("X509 CRL")) {
                crls.add(cf.generateCRL(new ByteArrayInputStream(b.der())));
            }
        }
        if (crls.isEmpty()) {
            throw new IOException(file + ": no CRL (-----BEGIN X509 CRL-----) in it");
        }
        return crls;
    }

    /** The first private key in the file. */
    static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
        for (Block b : blocks(file)) {
            switch (b.type()) {
                case "PRIVATE KEY" -> {
                    return pkcs8(b.der(), file);
                }
                case "RSA PRIVATE KEY" -> {
                    return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(
                            sequence(integerZero(), sequence(RSA_OID, new byte[] {0x05, 0x00}), octets(b.der()))));
                }
                case "EC PRIVATE KEY" -> {
                    byte[] curve = sec1Curve(b.der(), file);
                    return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(
                            sequence(integerZero(), sequence(EC_OID, curve), octets(b.der()))));
                }
                case "ENCRYPTED PRIVATE KEY" -> throw new IOException(file + ": encrypted private keys are not "
                        + "supported; decrypt it (openssl pkcs8 -topk8 -nocrypt) or use a PKCS#12 keystore");
                default -> {
                    // EC PARAMETERS and other blocks are skipped
                }
            }
        }
        throw new IOException(file + ": no PEM private key (-----BEGIN PRIVATE KEY-----) in it");
    }

    private static PrivateKey pkcs8(byte[] der, Path file) throws IOException {
        for (String algorithm : new String[] {"RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS", "DSA"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // try the next
            }
        }
        throw new IOException(file + ": unsupported private key algorithm");
    }

    /** Whether the private key belongs to the certificate's public key (sign and verify a test message). */
    static boolean matches(PrivateKey key, PublicKey publicKey) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            case "Ed448" -> "Ed448";
            default -> null;
        };
        if (algorithm == null) {
            return true; // cannot tell; the handshake will
        }
        try {
            byte[] probe = "ternmq key check".getBytes(StandardCharsets.US_ASCII);
            Signature s = Signature.getInstance(algorithm);
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(algorithm);
            v.initVerify(publicKey);
            v.update(probe);
            return v.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    // ------------------------------------------------------------------ just enough DER

    /** The namedCurve OID (tag included) from SEC1's ECPrivateKey [0] parameters. */
    private static byte[] sec1Curve(byte[] der, Path file) throws IOException {
        int[] pos = {0};
        expect(der, pos, 0x30, file);
        readLength(der, pos);
        while (pos[0] < der.length) {
            int tag = der[pos[0]++] & 0xFF;
            int len = readLength(der, pos);
            if (tag == 0xA0) {
                int start = pos[0];
                if ((der[start] & 0xFF) != 0x06) {
                    break;
                }
                byte[] oid = new byte[len];
                System.arraycopy(der, start, oid, 0, len);
                return oid;
            }
            pos[0] += len;
        }
        throw new IOException(file + ": EC private key without a named curve");
    }

    private static void expect(byte[] der, int[] pos, int tag, Path file) throws IOException {
        if (der.length == 0 || (der[pos[0]++] & 0xFF) != tag) {
            throw new IOException(file + ": malformed key");
        }
    }

    private static int readLength(byte[] der, int[] pos) {
        int b = der[pos[0]++] & 0xFF;
        if (b < 0x80) {
            return b;
        }
        int n = b & 0x7F;
        int len = 0;
        for (int i = 0; i < n; i++) {
            len = (len << 8) | (der[pos[0]++] & 0xFF);
        }
        return len;
    }

    private static byte[] integerZero() {
        return new byte[] {0x02, 0x01, 0x00};
    }

    private static byte[] octets(byte[] content) {
        return tlv(0x04, content);
    }

    private static byte[] sequence(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return tlv(0x30, out.toByteArray());
    }

    private static byte[] tlv(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int len = content.length;
        if (len < 0x80) {
            out.write(len);
        } else if (len < 0x100) {
            out.write(0x81);
            out.write(len);
        } else if (len < 0x10000) {
            out.write(0x82);
            out.write(len >> 8);
            out.write(len);
        } else {
            out.write(0x83);
            out.write(len >> 16);
            out.write(len >> 8);
            out.write(len);
        }
        out.writeBytes(content);
        return out.toByteArray();
    }
}
