package io.ternmq.broker.security;

import io.ternmq.broker.config.TlsSettings.CertificateIdentity;

import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.security.auth.x500.X500Principal;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;

/**
 * A client certificate the TLS handshake verified, reduced to what authentication and authorization use.
 *
 * @param commonName       the subject's CN, or null
 * @param subject          the subject, RFC 2253 ("CN=alice,O=Example")
 * @param subjectAltNames  DNS names, e-mail addresses and URIs, in certificate order
 * @param serialNumber     hexadecimal
 * @param certificate      the certificate itself; null when a proxy in front verified it and passed only its CN
 *                         (PROXY v2's PP2_SUBTYPE_SSL_CN): then subject, serial number and names are unknown too
 */
public record CertificateInfo(String commonName, String subject, List<String> subjectAltNames, String serialNumber,
                              X509Certificate certificate) {

    public static CertificateInfo of(X509Certificate cert) {
        String subject = cert.getSubjectX500Principal().getName(X500Principal.RFC2253);
        String cn = null;
        try {
            for (Rdn rdn : new LdapName(subject).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    cn = String.valueOf(rdn.getValue()); // the most specific CN: LdapName lists RDNs in reverse
                }
            }
        } catch (InvalidNameException e) {
            // leave it null
        }
        List<String> sans = new ArrayList<>();
        try {
            Collection<List<?>> alt = cert.getSubjectAlternativeNames();
            if (alt != null) {
                for (List<?> entry : alt) {
                    int type = (Integer) entry.get(0);
                    // 1 rfc822Name, 2 dNSName, 6 uniformResourceIdentifier
                    if ((type == 1 || type == 2 || type == 6) && entry.get(1) instanceof String s) {
                        sans.add(s);
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // none usable
        }
        return new CertificateInfo(cn, subject, List.copyOf(sans), cert.getSerialNumber().toString(16), cert);
    }

    /** A certificate a proxy verified and named by its CN alone. */
    public static CertificateInfo ofProxiedCommonName(String commonName) {
        return new CertificateInfo(commonName, null, List.of(), null, null);
    }

    /** The user name this certificate stands for under the given rule, or null if it has no such part. */
    public String identity(CertificateIdentity kind) {
        return switch (kind) {
            case NONE -> null;
            case CN -> commonName;
            case SAN -> subjectAltNames.isEmpty() ? null : subjectAltNames.get(0);
            case SUBJECT -> subject;
        };
    }

    /** The certificate in PEM, for back ends (HTTP) that want all of it. */
    public String pem() {
        if (certificate == null) {
            return null;
        }
        try {
            return "-----BEGIN CERTIFICATE-----\n"
                    + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(certificate.getEncoded())
                    + "\n-----END CERTIFICATE-----\n";
        } catch (CertificateEncodingException e) {
            return null;
        }
    }
}
