package io.ternmq.broker.it.proxy;

import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.config.TlsSettings;
import io.ternmq.broker.session.SessionInfo;
import io.ternmq.broker.testing.AddressRecorder;
import io.ternmq.broker.testing.ExternalServer;
import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawWebSocket;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.broker.testing.TestPki;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Pingreq;
import io.ternmq.codec.Pingresp;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code enable_proxy_protocol 1|2}: Debian's haproxy in front of a TCP listener with {@code send-proxy} and
 * {@code send-proxy-v2}, and hand-made headers for what haproxy never sends (LOCAL, the SSL TLV, corrupt or missing
 * headers). The client's address is checked through what authentication is told. Clients connect from 127.0.0.2 so
 * that it differs from the proxy's 127.0.0.1.
 */
class ProxyProtocolTest {
    private static final String HAPROXY = "/usr/sbin/haproxy";
    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    @TempDir
    Path dir;

    private final AddressRecorder addresses = new AddressRecorder();
    private TestBroker broker;

    private TestBroker start(Consumer<BrokerConfig.Builder> listeners) {
        broker = TestBroker.start(b -> {
            b.clearListeners();
            listeners.accept(b);
        }, addresses);
        return broker;
    }

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    static Socket from(String localIp, int port) {
        try {
            Socket s = new Socket();
            s.bind(new InetSocketAddress(localIp, 0));
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Connect connect(String clientId) {
        return new Connect(MqttVersion.MQTT_3_1_1, clientId, true, 60, null, null, null, MqttProperties.EMPTY);
    }

    private static byte[] v1(String line) {
        return (line + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** A v2 header: PROXY (or LOCAL) over TCP/IPv4 from src:srcPort, with these TLV bytes after the addresses. */
    static byte[] v2(boolean local, byte[] src, int srcPort, byte[] tlvs) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(V2_SIGNATURE);
        b.write(local ? 0x20 : 0x21);
        b.write(local ? 0x00 : 0x11);
        int length = local ? tlvs.length : 12 + tlvs.length;
        b.write(length >> 8);
        b.write(length);
        if (!local) {
            b.writeBytes(src);
            b.writeBytes(new byte[] {127, 0, 0, 1});
            b.write(srcPort >> 8);
            b.write(srcPort);
            b.write(1883 >> 8);
            b.write(1883 & 0xFF);
        }
        b.writeBytes(tlvs);
        return b.toByteArray();
    }

    /** haproxy's PP2_TYPE_SSL TLV: the client connected over TLS (PP2_CLIENT_SSL) and its certificate verified. */
    static final byte[] SSL_TLV = {0x20, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00};

    private static void connects(RawClient c, String clientId) {
        c.send(connect(clientId));
        assertThat(c.read(Connack.class).reasonCode()).isZero();
    }

    private ExternalServer haproxy(String serverOption, int frontendPort, int brokerPort) throws IOException {
        return haproxy("", serverOption, frontendPort, brokerPort);
    }

    /** haproxy with {@code bindOptions} on its frontend (TLS termination) and {@code serverOption} to the broker. */
    private ExternalServer haproxy(String bindOptions, String serverOption, int frontendPort, int brokerPort)
            throws IOException {
        ExternalServer.assumeInstalled(HAPROXY, "haproxy");
        Path cfg = dir.resolve("haproxy.cfg");
        Files.writeString(cfg, String.join("\n",
                "global",
                "    maxconn 100",
                "defaults",
                "    mode tcp",
                "    timeout connect 5s",
                "    timeout client 30s",
                "    timeout server 30s",
                "frontend mqtt",
                "    bind 127.0.0.1:" + frontendPort + bindOptions,
                "    default_backend broker",
                "backend broker",
                "    server ternmq 127.0.0.1:" + brokerPort + " " + serverOption,
                ""));
        return ExternalServer.start(dir, "haproxy", frontendPort, List.of(HAPROXY, "-db", "-f", cfg.toString()));
    }

    private void throughHaproxy(int version, String serverOption) throws Exception {
        start(b -> b.listener("127.0.0.1", 0, l -> l.proxyProtocol(version)));
        try (ExternalServer proxy = ExternalServer.startOnFreePort(
                front -> haproxy(serverOption, front, broker.port()));
             RawClient c = new RawClient(from("127.0.0.2", proxy.port()))) {
            int front = proxy.port();
            connects(c, "behind-haproxy");
            assertThat(addresses.addressOf("behind-haproxy"))
                    .isEqualTo("127.0.0.2:" + c.socket().getLocalPort());
            try (PahoClient sub = PahoClient.connect("tcp://127.0.0.1:" + front, "sub", new MqttConnectOptions());
                 PahoClient pub = PahoClient.connect("tcp://127.0.0.1:" + front, "pub", new MqttConnectOptions())) {
                sub.subscribe("t/#", 1);
                pub.publish("t/1", "through haproxy", 1, false);
                assertThat(sub.next().payload()).isEqualTo("through haproxy");
            }
            assertThat(proxy.output()).doesNotContain("ALERT");
        }
    }

    @Test
    @DisplayName("haproxy send-proxy (v1) in front of enable_proxy_protocol 1: authentication sees the client's address, MQTT flows")
    void haproxyV1() throws Exception {
        throughHaproxy(1, "send-proxy");
    }

    @Test
    @DisplayName("haproxy send-proxy-v2 in front of enable_proxy_protocol 2: authentication sees the client's address, MQTT flows")
    void haproxyV2() throws Exception {
        throughHaproxy(2, "send-proxy-v2");
    }

    @Test
    @DisplayName("hand-made v1 and v2 headers name the client; v2 LOCAL keeps the socket's address")
    void headersNameTheClient() {
        start(b -> b.listener("127.0.0.1", 0, l -> l.proxyProtocol(1))
                .listener("127.0.0.1", 0, l -> l.proxyProtocol(2)));
        int v1Port = broker.broker().addresses().get(0).getPort();
        int v2Port = broker.broker().addresses().get(1).getPort();
        try (RawClient c = new RawClient(v1Port)) {
            c.send(v1("PROXY TCP6 2001:db8::7 ::1 40000 1883"));
            connects(c, "v1");
        }
        assertThat(addresses.addressOf("v1")).isEqualTo("[2001:db8:0:0:0:0:0:7]:40000");
        try (RawClient c = new RawClient(v2Port)) {
            c.send(v2(false, new byte[] {(byte) 198, 51, 100, 7}, 40001, new byte[0]));
            connects(c, "v2");
        }
        assertThat(addresses.addressOf("v2")).isEqualTo("198.51.100.7:40001");
        try (RawClient c = new RawClient(from("127.0.0.2", v2Port))) {
            c.send(v2(true, null, 0, new byte[0]));
            connects(c, "local");
            assertThat(addresses.addressOf("local")).isEqualTo("127.0.0.2:" + c.socket().getLocalPort());
        }
    }

    @Test
    @DisplayName("no header, the other version's header or a corrupt one: closed at once; a header never finished: closed at connect_timeout")
    void badHeaders() {
        start(b -> b.connectTimeoutSeconds(2).listener("127.0.0.1", 0, l -> l.proxyProtocol(1))
                .listener("127.0.0.1", 0, l -> l.proxyProtocol(2)));
        int v1Port = broker.broker().addresses().get(0).getPort();
        int v2Port = broker.broker().addresses().get(1).getPort();
        try (RawClient c = new RawClient(v1Port)) {
            c.send(connect("no-header"));
            c.assertClosedByServer(Duration.ofMillis(1500));
        }
        try (RawClient c = new RawClient(v2Port)) {
            c.send(v1("PROXY TCP4 198.51.100.7 127.0.0.1 40000 1883"));
            c.assertClosedByServer(Duration.ofMillis(1500));
        }
        try (RawClient c = new RawClient(v1Port)) {
            c.send(v1("PROXY TCP4 not-an-address 127.0.0.1 40000 1883"));
            c.assertClosedByServer(Duration.ofMillis(1500));
        }
        try (RawClient c = new RawClient(v1Port)) {
            c.send("PROXY TCP4 198.51".getBytes(StandardCharsets.US_ASCII));
            c.assertClosedByServer(Duration.ofSeconds(4));
        }
        try (RawClient c = new RawClient(v2Port)) {
            c.send(v2(false, new byte[] {10, 0, 0, 1}, 1, new byte[0]));
            connects(c, "still-fine");
        }
    }

    @Test
    @DisplayName("proxy_protocol_v2_require_tls: a header without haproxy's SSL TLV is closed, one with it connects")
    void requireTls() {
        start(b -> b.listener("127.0.0.1", 0, l -> l.proxyProtocol(2).proxyProtocolRequiresTls(true)));
        try (RawClient c = new RawClient(broker.port())) {
            c.send(v2(false, new byte[] {(byte) 198, 51, 100, 8}, 40002, new byte[0]));
            c.send(connect("plain"));
            c.assertClosedByServer(Duration.ofSeconds(2));
        }
        try (RawClient c = new RawClient(broker.port())) {
            c.send(v2(false, new byte[] {(byte) 198, 51, 100, 9}, 40003, SSL_TLV));
            connects(c, "tls-at-proxy");
        }
        assertThat(addresses.addressOf("tls-at-proxy")).isEqualTo("198.51.100.9:40003");
    }

    /** haproxy terminating TLS with the test PKI's server certificate, asking clients for theirs ({@code verify}). */
    private ExternalServer tlsTerminatingHaproxy(TestPki pki, String verify, String serverOption, int front)
            throws IOException {
        TestPki.Issued server = pki.server("localhost");
        Path pem = dir.resolve("haproxy-server.pem");
        Files.writeString(pem, Files.readString(server.certFile()) + Files.readString(server.keyFile()));
        return haproxy(" ssl crt " + pem + " ca-file " + pki.ca.certFile() + " verify " + verify,
                serverOption, front, broker.port());
    }

    private static RawClient tlsClient(TestPki pki, TestPki.Issued clientCertificate, int port) throws IOException {
        Socket plain = new Socket("127.0.0.1", port);
        return new RawClient(pki.socketFactory(clientCertificate).createSocket(plain, "localhost", port, true));
    }

    private String usernameOf(String clientId) throws Exception {
        SessionInfo s = broker.broker().service().session(clientId).toCompletableFuture().get(10, TimeUnit.SECONDS);
        return s.connection().username();
    }

    @Test
    @DisplayName("haproxy send-proxy-v2-ssl-cn terminating TLS: with require_certificate and use_identity_as_username the CN it verified is the user name (Mosquitto 2.1)")
    void haproxyClientCertificateCn() throws Exception {
        TestPki pki = TestPki.create(dir);
        start(b -> b.listener("127.0.0.1", 0, l -> l.proxyProtocol(2).proxyProtocolRequiresTls(true)
                .requireCertificate(TlsSettings.ClientCertificates.REQUIRED)
                .usernameFromCertificate(TlsSettings.CertificateIdentity.CN).allowAnonymous(false)));
        try (ExternalServer proxy = ExternalServer.startOnFreePort(
                port -> tlsTerminatingHaproxy(pki, "optional", "send-proxy-v2-ssl-cn", port))) {
            int front = proxy.port();
            try (RawClient c = tlsClient(pki, pki.client("alice"), front)) {
                connects(c, "with-certificate");
                assertThat(usernameOf("with-certificate")).isEqualTo("alice");
            }
            try (RawClient c = tlsClient(pki, null, front)) {
                c.send(connect("without-certificate"));
                c.assertClosedByServer(Duration.ofSeconds(5));
            }
            assertThat(proxy.output()).doesNotContain("ALERT");
        }
    }

    @Test
    @DisplayName("haproxy: proxy_protocol_v2_require_tls refuses send-proxy-v2 (no SSL TLV) and takes send-proxy-v2-ssl from a TLS frontend; its CN is not used without use_identity_as_username")
    void haproxyRequireTls() throws Exception {
        TestPki pki = TestPki.create(dir);
        start(b -> b.listener("127.0.0.1", 0, l -> l.proxyProtocol(2).proxyProtocolRequiresTls(true)));
        try (ExternalServer proxy = ExternalServer.startOnFreePort(
                front -> haproxy("send-proxy-v2", front, broker.port()));
             RawClient c = new RawClient(from("127.0.0.2", proxy.port()))) {
            c.send(connect("plain-through-haproxy"));
            c.assertClosedByServer(Duration.ofSeconds(5));
        }
        // send-proxy-v2-ssl from a plain frontend: the SSL TLV is there, its flags say no TLS (Mosquitto takes it)
        try (ExternalServer proxy = ExternalServer.startOnFreePort(
                front -> haproxy("send-proxy-v2-ssl", front, broker.port()));
             RawClient c = new RawClient(from("127.0.0.2", proxy.port()))) {
            c.send(connect("plain-with-ssl-tlv"));
            c.assertClosedByServer(Duration.ofSeconds(5));
        }
        try (ExternalServer proxy = ExternalServer.startOnFreePort(
                port -> tlsTerminatingHaproxy(pki, "none", "send-proxy-v2-ssl", port));
             RawClient c = tlsClient(pki, null, proxy.port())) {
            connects(c, "tls-through-haproxy");
            assertThat(addresses.addressOf("tls-through-haproxy")).startsWith("127.0.0.1:");
            assertThat(usernameOf("tls-through-haproxy")).isNull();
        }
    }

    @Test
    @DisplayName("connection_rate_per_address counts the address the header names, not the proxy's")
    void rateLimitPerClientAddress() {
        start(b -> b.listener("127.0.0.1", 0, l -> l.proxyProtocol(1).connectionRatePerAddress(1)));
        try (RawClient first = new RawClient(broker.port());
             RawClient second = new RawClient(broker.port());
             RawClient other = new RawClient(broker.port())) {
            first.send(v1("PROXY TCP4 198.51.100.1 127.0.0.1 40000 1883"));
            connects(first, "first");
            second.send(v1("PROXY TCP4 198.51.100.1 127.0.0.1 40001 1883"));
            second.send(connect("second"));
            second.assertClosedByServer(Duration.ofSeconds(2));
            other.send(v1("PROXY TCP4 198.51.100.2 127.0.0.1 40002 1883"));
            connects(other, "other");
        }
        assertThat(broker.broker().metrics().connectionsRateLimited.sum()).isEqualTo(1);
    }

    @Test
    @DisplayName("auth_failure_delay counts the address the header names: a second client behind the same proxy is not held back by the first's failures")
    void authFailureDelayPerClientAddress() {
        broker = TestBroker.start(b -> b.clearListeners().authFailureDelayMillis(300).authFailureDelayMaxMillis(4000)
                        .listener("127.0.0.1", 0, l -> l.proxyProtocol(1)),
                request -> java.util.concurrent.CompletableFuture.completedFuture(request.clientId().startsWith("bad")
                        ? io.ternmq.broker.security.AuthResult.BAD_USER_NAME_OR_PASSWORD
                        : io.ternmq.broker.security.AuthResult.ACCEPTED));
        long[] millis = new long[3];
        String[] sources = {"198.51.100.30", "198.51.100.30", "198.51.100.31"};
        for (int i = 0; i < 3; i++) {
            try (RawClient c = new RawClient(broker.port())) {
                c.send(v1("PROXY TCP4 " + sources[i] + " 127.0.0.1 4000" + i + " 1883"));
                long t0 = System.nanoTime();
                c.send(connect("bad" + i));
                assertThat(c.read(Connack.class).reasonCode()).isNotZero();
                millis[i] = (System.nanoTime() - t0) / 1_000_000;
            }
        }
        assertThat(millis[0]).as("first failure from .30").isBetween(250L, 550L);
        assertThat(millis[1]).as("second failure from .30: doubled").isGreaterThanOrEqualTo(550L);
        assertThat(millis[2]).as("first failure from .31, same proxy").isBetween(250L, 550L);
    }

    @Test
    @DisplayName("the PROXY header comes before TLS: a TLS listener behind a TCP pass-through proxy sees the header's address")
    void proxyBeforeTls(@TempDir Path pkiDir) throws Exception {
        io.ternmq.broker.testing.TestPki pki = io.ternmq.broker.testing.TestPki.create(pkiDir);
        io.ternmq.broker.testing.TestPki.Issued server = pki.server("server");
        start(b -> b.listener("127.0.0.1", 0, l -> l.proxyProtocol(2).certificate(server.certFile(),
                server.keyFile())));
        Socket plain = new Socket("127.0.0.1", broker.port());
        plain.getOutputStream().write(v2(false, new byte[] {(byte) 198, 51, 100, 40}, 40040, new byte[0]));
        Socket tls = pki.socketFactory(null).createSocket(plain, "127.0.0.1", broker.port(), true);
        try (RawClient c = new RawClient(tls)) {
            connects(c, "tls-behind-proxy");
        }
        assertThat(addresses.addressOf("tls-behind-proxy")).isEqualTo("198.51.100.40:40040");
    }

    @Test
    @DisplayName("PROXY header in front of a WebSocket listener: the header's address, then the upgrade and MQTT")
    void proxyBeforeWebSocket() {
        start(b -> b.listener("127.0.0.1", 0, l -> l.proxyProtocol(1).webSocket(true)));
        try (RawWebSocket ws = new RawWebSocket(broker.port())) {
            ws.send(v1("PROXY TCP4 198.51.100.20 127.0.0.1 40020 1883"));
            assertThat(ws.upgrade("/mqtt").status()).isEqualTo(101);
            ws.sendPackets(connect("ws-behind-proxy"));
            assertThat(ws.readPacket(Connack.class).reasonCode()).isZero();
            ws.sendPackets(Pingreq.INSTANCE);
            assertThat(ws.readPacket()).isInstanceOf(Pingresp.class);
        }
        assertThat(addresses.addressOf("ws-behind-proxy")).isEqualTo("198.51.100.20:40020");
    }
}
