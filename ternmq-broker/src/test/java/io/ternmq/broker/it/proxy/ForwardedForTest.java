package io.ternmq.broker.it.proxy;

import io.ternmq.broker.testing.AddressRecorder;
import io.ternmq.broker.testing.ExternalServer;
import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.RawWebSocket;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.ternmq.broker.it.proxy.ProxyProtocolTest.from;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code websocket_trusted_proxies}: Debian's nginx (its own configuration, temporary directories and port) in front
 * of a WebSocket listener that trusts 127.0.0.1/32 adds {@code X-Forwarded-For}; the client's address is what
 * authentication is told. A peer that is not trusted has its header ignored.
 */
class ForwardedForTest {
    private static final String NGINX = "/usr/sbin/nginx";

    @TempDir
    Path dir;

    private final AddressRecorder addresses = new AddressRecorder();
    private TestBroker broker;

    @BeforeEach
    void start() {
        broker = TestBroker.start(b -> b.clearListeners().listener("127.0.0.1", 0,
                l -> l.webSocket(true).webSocketTrustedProxies(List.of("127.0.0.1/32"))), addresses);
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    private static Connect connect(String clientId) {
        return new Connect(MqttVersion.MQTT_3_1_1, clientId, true, 60, null, null, null, MqttProperties.EMPTY);
    }

    private static void connects(RawWebSocket ws, String clientId, String... headers) {
        assertThat(ws.upgrade("/mqtt", headers).status()).isEqualTo(101);
        ws.sendPackets(connect(clientId));
        assertThat(ws.readPacket(Connack.class).reasonCode()).isZero();
    }

    private ExternalServer nginx(int port) throws IOException {
        return nginx(port, "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;");
    }

    /** nginx in front of the broker's WebSocket listener, naming the client with {@code forwardedHeader}. */
    private ExternalServer nginx(int port, String forwardedHeader) throws IOException {
        ExternalServer.assumeInstalled(NGINX, "nginx");
        for (String d : List.of("body", "proxy", "fastcgi", "uwsgi", "scgi", "logs")) {
            Files.createDirectories(dir.resolve(d));
        }
        Path conf = dir.resolve("nginx.conf");
        Files.writeString(conf, String.join("\n",
                "daemon off;",
                "master_process off;",
                "worker_processes 1;",
                "pid " + dir.resolve("nginx.pid") + ";",
                "error_log " + dir.resolve("logs/error.log") + " warn;",
                "events { worker_connections 64; }",
                "http {",
                "  access_log off;",
                "  client_body_temp_path " + dir.resolve("body") + ";",
                "  proxy_temp_path " + dir.resolve("proxy") + ";",
                "  fastcgi_temp_path " + dir.resolve("fastcgi") + ";",
                "  uwsgi_temp_path " + dir.resolve("uwsgi") + ";",
                "  scgi_temp_path " + dir.resolve("scgi") + ";",
                "  server {",
                "    listen 127.0.0.1:" + port + ";",
                "    location /mqtt {",
                "      proxy_pass http://127.0.0.1:" + broker.port() + ";",
                "      proxy_http_version 1.1;",
                "      proxy_set_header Upgrade $http_upgrade;",
                "      proxy_set_header Connection \"upgrade\";",
                "      proxy_set_header Host $host;",
                "      " + forwardedHeader,
                "      proxy_read_timeout 60s;",
                "    }",
                "  }",
                "}",
                ""));
        return ExternalServer.start(dir, "nginx", port, List.of(NGINX, "-p", dir.toString(), "-c", conf.toString(),
                "-e", dir.resolve("logs/error.log").toString()));
    }

    @Test
    @DisplayName("behind nginx (a trusted proxy), authentication sees the client's address from X-Forwarded-For; Paho works through it")
    void behindNginx() throws Exception {
        try (ExternalServer proxy = ExternalServer.startOnFreePort(this::nginx);
             RawWebSocket ws = new RawWebSocket(from("127.0.0.3", proxy.port()))) {
            int port = proxy.port();
            connects(ws, "behind-nginx");
            assertThat(addresses.addressOf("behind-nginx")).isEqualTo("127.0.0.3");
            try (PahoClient sub = PahoClient.connect("ws://127.0.0.1:" + port + "/mqtt", "sub",
                    new MqttConnectOptions());
                 PahoClient pub = PahoClient.connect("ws://127.0.0.1:" + port + "/mqtt", "pub",
                         new MqttConnectOptions())) {
                sub.subscribe("t/#", 1);
                pub.publish("t/1", "through nginx", 1, false);
                assertThat(sub.next().payload()).isEqualTo("through nginx");
            }
        }
    }

    @Test
    @DisplayName("X-Forwarded-For is read right to left, skipping trusted hops: the first untrusted one is the client")
    void rightToLeft() {
        try (RawWebSocket ws = new RawWebSocket(broker.port())) {
            connects(ws, "chain", "X-Forwarded-For: 203.0.113.9, 198.51.100.4, 127.0.0.1");
        }
        assertThat(addresses.addressOf("chain")).isEqualTo("198.51.100.4");
        try (RawWebSocket ws = new RawWebSocket(broker.port())) {
            connects(ws, "garbage", "X-Forwarded-For: 203.0.113.9, not-an-address");
        }
        assertThat(addresses.addressOf("garbage")).as("nothing left of a bad entry is believed")
                .startsWith("127.0.0.1:");
    }

    @Test
    @DisplayName("behind nginx sending RFC 7239 Forwarded (for=\"address:port\"): the client's address and port")
    void behindNginxForwarded() throws Exception {
        try (ExternalServer proxy = ExternalServer.startOnFreePort(port -> nginx(port,
                "proxy_set_header Forwarded 'for=\"$remote_addr:$remote_port\";proto=$scheme';"));
             RawWebSocket ws = new RawWebSocket(from("127.0.0.3", proxy.port()))) {
            connects(ws, "behind-nginx-7239");
            assertThat(addresses.addressOf("behind-nginx-7239"))
                    .isEqualTo("127.0.0.3:" + ws.socket().getLocalPort());
        }
    }

    @Test
    @DisplayName("Forwarded (RFC 7239) is read right to left like X-Forwarded-For: trusted hops skipped, quoted IPv6 with brackets and port, ports kept")
    void forwardedRightToLeft() {
        try (RawWebSocket ws = new RawWebSocket(broker.port())) {
            connects(ws, "chain", "Forwarded: for=203.0.113.9, for=\"198.51.100.4:4000\";proto=http, For=127.0.0.1");
        }
        assertThat(addresses.addressOf("chain")).isEqualTo("198.51.100.4:4000");
        try (RawWebSocket ws = new RawWebSocket(broker.port())) {
            connects(ws, "v6", "Forwarded: proto=https;for=\"[2001:db8:cafe::17]:4711\";by=127.0.0.1");
        }
        assertThat(addresses.addressOf("v6")).isEqualTo("[2001:db8:cafe:0:0:0:0:17]:4711");
        try (RawWebSocket ws = new RawWebSocket(broker.port())) {
            connects(ws, "v6-no-port", "Forwarded: for=\"[2001:db8::1]\"");
        }
        assertThat(addresses.addressOf("v6-no-port")).isEqualTo("2001:db8:0:0:0:0:0:1");
    }

    @Test
    @DisplayName("Forwarded: an obfuscated identifier or 'unknown' names nobody: the walk ends, the address stays the last hop believed")
    void forwardedObfuscated() {
        try (RawWebSocket ws = new RawWebSocket(broker.port())) {
            connects(ws, "hidden", "Forwarded: for=203.0.113.9, for=_hidden");
            assertThat(addresses.addressOf("hidden")).isEqualTo("127.0.0.1:" + ws.socket().getLocalPort());
        }
        try (RawWebSocket ws = new RawWebSocket(broker.port())) {
            connects(ws, "unknown", "Forwarded: for=203.0.113.9, for=unknown, for=127.0.0.1");
            assertThat(addresses.addressOf("unknown")).isEqualTo("127.0.0.1");
        }
        try (RawWebSocket ws = new RawWebSocket(broker.port())) {
            connects(ws, "obfuscated-port", "Forwarded: for=\"198.51.100.7:_p1\"");
        }
        assertThat(addresses.addressOf("obfuscated-port")).as("an obfuscated port is unknown: 0")
                .isEqualTo("198.51.100.7");
        try (RawWebSocket ws = new RawWebSocket(broker.port())) {
            connects(ws, "unbracketed", "Forwarded: for=\"2001:db8::1\"");
            assertThat(addresses.addressOf("unbracketed")).as("IPv6 must be bracketed (RFC 7239 6.1)")
                    .isEqualTo("127.0.0.1:" + ws.socket().getLocalPort());
        }
    }

    @Test
    @DisplayName("Forwarded wins over X-Forwarded-For when a request has both; an untrusted peer's Forwarded is ignored")
    void forwardedBeforeXForwardedFor() {
        try (RawWebSocket ws = new RawWebSocket(broker.port())) {
            connects(ws, "both", "Forwarded: for=198.51.100.5", "X-Forwarded-For: 203.0.113.5");
        }
        assertThat(addresses.addressOf("both")).isEqualTo("198.51.100.5");
        try (RawWebSocket ws = new RawWebSocket(from("127.0.0.4", broker.port()))) {
            connects(ws, "spoofer-7239", "Forwarded: for=203.0.113.9");
            assertThat(addresses.addressOf("spoofer-7239")).isEqualTo("127.0.0.4:" + ws.socket().getLocalPort());
        }
    }

    @Test
    @DisplayName("an untrusted peer's X-Forwarded-For is ignored: its own address stays")
    void untrustedPeer() {
        try (RawWebSocket ws = new RawWebSocket(from("127.0.0.4", broker.port()))) {
            connects(ws, "spoofer", "X-Forwarded-For: 203.0.113.9");
            assertThat(addresses.addressOf("spoofer")).isEqualTo("127.0.0.4:" + ws.socket().getLocalPort());
        }
    }
}
