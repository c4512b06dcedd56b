package io.ternmq.broker.security;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The verified client certificates of one listener's open connections, keyed by the remote address the connection's
 * {@code AuthRequest} and {@code ClientIdentity} carry ("address:port", unique among a listener's open connections).
 * The transport adds an entry when a TLS handshake completes and removes it when the connection closes;
 * authenticators look their client up here.
 */
public final class PeerCertificates {
    private final Map<String, CertificateInfo> byRemoteAddress = new ConcurrentHashMap<>();

    public void put(String remoteAddress, CertificateInfo certificate) {
        byRemoteAddress.put(remoteAddress, certificate);
    }

    public void remove(String remoteAddress) {
        byRemoteAddress.remove(remoteAddress);
    }

    /** @return the verified certificate of the connection from this address, or null if it presented none */
    public CertificateInfo get(String remoteAddress) {
        return remoteAddress == null ? null : byRemoteAddress.get(remoteAddress);
    }

    public int size() {
        return byRemoteAddress.size();
    }
}
