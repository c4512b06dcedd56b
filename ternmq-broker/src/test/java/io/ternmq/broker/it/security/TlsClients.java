package io.ternmq.broker.it.security;

import io.ternmq.broker.testing.TestPki;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

import javax.net.SocketFactory;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Clients for the security tests: Paho over TLS, mosquitto_pub, raw TLS sockets. */
final class TlsClients {
    private TlsClients() {
    }

    static MqttConnectOptions options(SocketFactory socketFactory, String user, String password) {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(true);
        o.setConnectionTimeout(10);
        o.setAutomaticReconnect(false);
        // Paho's default retries a refused 3.1.1 CONNECT as 3.1: two failures, and twice the auth failure delay
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        if (socketFactory != null) {
            o.setSocketFactory(socketFactory);
        }
        if (user != null) {
            o.setUserName(user);
        }
        if (password != null) {
            o.setPassword(password.toCharArray());
        }
        return o;
    }

    /** A connected Paho v3 client; the caller closes it. */
    static MqttClient paho(String scheme, int port, String clientId, MqttConnectOptions options) throws MqttException {
        MqttClient c = new MqttClient(scheme + "://127.0.0.1:" + port, clientId, new MemoryPersistence());
        try {
            c.connect(options);
        } catch (MqttException e) {
            c.close(true);
            throw e;
        }
        return c;
    }

    static void close(MqttClient c) {
        try {
            if (c.isConnected()) {
                c.disconnect(1000);
            }
            c.close(true);
        } catch (MqttException e) {
            // closing anyway
        }
    }

    /** The result of one mosquitto_pub run. */
    record Run(int exitCode, String output) {
    }

    /** Runs mosquitto_pub against localhost:port with the given extra arguments; waits at most 30 s. */
    static Run mosquittoPub(int port, String... args) {
        List<String> cmd = new ArrayList<>(List.of("mosquitto_pub", "-h", "localhost", "-p", String.valueOf(port)));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("mosquitto_pub did not finish: " + cmd);
            }
            return new Run(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static String[] tlsArgs(TestPki pki, TestPki.Issued client) {
        List<String> a = new ArrayList<>(List.of("--cafile", pki.ca.certFile().toString()));
        if (client != null) {
            a.addAll(List.of("--cert", client.certFile().toString(), "--key", client.keyFile().toString()));
        }
        return a.toArray(String[]::new);
    }

    static String[] concat(String[] a, String... b) {
        String[] all = new String[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    /** The certificate the server presents to a new TLS connection now. */
    static X509Certificate serverCertificate(TestPki pki, int port) {
        try (SSLSocket s = (SSLSocket) pki.socketFactory(null).createSocket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            s.startHandshake();
            return (X509Certificate) s.getSession().getPeerCertificates()[0];
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
