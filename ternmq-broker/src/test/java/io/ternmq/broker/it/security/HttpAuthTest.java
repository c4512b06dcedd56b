package io.ternmq.broker.it.security;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.ternmq.broker.config.ConfigException;
import io.ternmq.broker.config.TlsSettings.ClientCertificates;
import io.ternmq.broker.security.Authorizer;
import io.ternmq.broker.security.ClientIdentity;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.SecureBroker;
import io.ternmq.broker.testing.TestPki;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.ReasonCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static io.ternmq.broker.it.security.TlsClients.close;
import static io.ternmq.broker.it.security.TlsClients.options;
import static io.ternmq.broker.it.security.TlsClients.paho;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** plugin http against a real HTTP server started here. */
class HttpAuthTest {
    private HttpServer http;
    private ExecutorService httpThreads;
    /** Bodies of the requests received, in order. */
    private final BlockingQueue<String> requests = new LinkedBlockingQueue<>();
    /** Decides the answer: status and body. */
    private volatile Answer answer = body -> new Reply(200, "{\"result\":\"allow\"}");
    private final CountDownLatch release = new CountDownLatch(1);

    private record Reply(int status, String body) {
    }

    private interface Answer {
        Reply to(String requestBody) throws InterruptedException;
    }

    @BeforeEach
    void startHttp() throws IOException {
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        httpThreads = Executors.newCachedThreadPool();
        http.setExecutor(httpThreads);
        http.createContext("/", this::handle);
        http.start();
    }

    @AfterEach
    void stopHttp() {
        release.countDown();
        http.stop(0);
        httpThreads.shutdownNow();
    }

    private void handle(HttpExchange ex) throws IOException {
        String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        requests.add(ex.getRequestURI().getPath() + " " + ex.getRequestHeaders().getFirst("Authorization") + " "
                + body);
        Reply r;
        try {
            r = answer.to(body);
        } catch (InterruptedException e) {
            r = new Reply(500, "");
        }
        byte[] out = r.body().getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(r.status(), out.length == 0 ? -1 : out.length);
        if (out.length > 0) {
            ex.getResponseBody().write(out);
        }
        ex.close();
    }

    private String url(String path) {
        return "http://127.0.0.1:" + http.getAddress().getPort() + path;
    }

    private SecureBroker broker(String... options) {
        List<String> lines = new ArrayList<>(List.of("auth_failure_delay 0", "listener 0 127.0.0.1", "plugin http",
                "plugin_opt_http_url " + url("/auth")));
        lines.addAll(List.of(options));
        return SecureBroker.fromConfig(lines.toArray(String[]::new));
    }

    private static int connack(int port, String client, String user, String password) {
        try (RawClient c = new RawClient(port)) {
            c.send(new Connect(MqttVersion.MQTT_3_1_1, client, true, 30, user,
                    password == null ? null : password.getBytes(StandardCharsets.UTF_8), null, MqttProperties.EMPTY));
            return c.read(Connack.class).reasonCode();
        }
    }

    @Test
    @DisplayName("the service sees action, user name, client id and password, and decides by status or body")
    void decides() throws Exception {
        answer = body -> body.contains("\"username\":\"alice\"") && body.contains("\"password\":\"open sesame\"")
                ? new Reply(200, "") : body.contains("\"username\":\"bob\"") ? new Reply(200, "{\"result\":\"deny\"}")
                : new Reply(403, "");
        try (SecureBroker b = broker("plugin_opt_http_authorization Bearer t0ken", "plugin_opt_http_cache_seconds 0")) {
            assertThat(connack(b.port(), "c1", "alice", "open sesame")).isZero();
            String first = requests.poll(5, TimeUnit.SECONDS);
            assertThat(first).startsWith("/auth Bearer t0ken {\"action\":\"connect\",\"clientid\":\"c1\","
                    + "\"username\":\"alice\",\"password\":\"open sesame\",\"remote_address\":\"127.0.0.1:")
                    .endsWith("\"listener\":\"127.0.0.1:0\"}");
            assertThat(connack(b.port(), "c2", "alice", "wrong")).isEqualTo(ReasonCode.V3_BAD_USER_NAME_OR_PASSWORD);
            assertThat(connack(b.port(), "c3", "bob", "x")).isEqualTo(ReasonCode.V3_BAD_USER_NAME_OR_PASSWORD);
            assertThat(connack(b.port(), "c4", null, null)).as("anonymous: allow_anonymous decides")
                    .isEqualTo(ReasonCode.V3_NOT_AUTHORIZED);
        }
    }

    @Test
    @DisplayName("behind a PROXY protocol header (enable_proxy_protocol 1), remote_address is the client's the header names")
    void remoteAddressBehindProxy() throws Exception {
        try (SecureBroker b = broker("enable_proxy_protocol 1", "plugin_opt_http_cache_seconds 0");
             RawClient c = new RawClient(b.port())) {
            c.send("PROXY TCP4 203.0.113.77 127.0.0.1 51234 1883\r\n".getBytes(StandardCharsets.US_ASCII));
            c.send(new Connect(MqttVersion.MQTT_3_1_1, "proxied", true, 30, "alice",
                    "pw".getBytes(StandardCharsets.UTF_8), null, MqttProperties.EMPTY));
            assertThat(c.read(Connack.class).reasonCode()).isZero();
            assertThat(requests.poll(5, TimeUnit.SECONDS)).contains("\"remote_address\":\"203.0.113.77:51234\"");
        }
    }

    @Test
    @DisplayName("answers are cached for plugin_opt_http_cache_seconds; an error is not")
    void caching() throws Exception {
        try (SecureBroker b = broker()) {
            assertThat(connack(b.port(), "c1", "alice", "pw")).isZero();
            assertThat(connack(b.port(), "c1", "alice", "pw")).isZero();
            assertThat(requests).hasSize(1);
            assertThat(connack(b.port(), "c1", "alice", "other")).isZero();
            assertThat(requests).as("another password is another question").hasSize(2);
            answer = body -> new Reply(500, "");
            assertThat(connack(b.port(), "c9", "carol", "pw")).isEqualTo(ReasonCode.V3_SERVER_UNAVAILABLE);
            answer = body -> new Reply(200, "");
            assertThat(connack(b.port(), "c9", "carol", "pw")).isZero();
        }
    }

    @Test
    @DisplayName("a service that does not answer in time, or cannot be reached, denies (0x03) unless on_error allow")
    void unreachable() throws Exception {
        answer = body -> {
            release.await();
            return new Reply(200, "");
        };
        try (SecureBroker b = broker("plugin_opt_http_timeout_ms 300")) {
            assertThat(connack(b.port(), "c1", "alice", "pw")).isEqualTo(ReasonCode.V3_SERVER_UNAVAILABLE);
        }
        try (SecureBroker b = broker("plugin_opt_http_timeout_ms 300", "plugin_opt_http_on_error allow")) {
            assertThat(connack(b.port(), "c1", "alice", "pw")).isZero();
        }
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        try (SecureBroker b = SecureBroker.fromConfig("auth_failure_delay 0", "listener 0 127.0.0.1", "plugin http",
                "plugin_opt_http_url http://127.0.0.1:" + closedPort + "/auth")) {
            assertThat(connack(b.port(), "c1", "alice", "pw")).isEqualTo(ReasonCode.V3_SERVER_UNAVAILABLE);
        }
    }

    @Test
    @DisplayName("slow answers never block the event loops: other clients connect while many wait")
    void neverBlocks() throws Exception {
        answer = body -> {
            if (body.contains("\"username\":\"slow\"")) {
                release.await();
            }
            return new Reply(200, "");
        };
        try (SecureBroker b = broker("plugin_opt_http_timeout_ms 60000", "plugin_opt_http_cache_seconds 0")) {
            List<RawClient> waiting = new ArrayList<>();
            try {
                int loops = Runtime.getRuntime().availableProcessors() * 2;
                for (int i = 0; i < loops * 2; i++) {
                    RawClient c = new RawClient(b.port());
                    c.send(new Connect(MqttVersion.MQTT_3_1_1, "slow-" + i, true, 30, "slow",
                            "pw".getBytes(StandardCharsets.UTF_8), null, MqttProperties.EMPTY));
                    waiting.add(c);
                }
                assertThat(connack(b.port(), "fast", "fast", "pw")).isZero();
                release.countDown();
                for (RawClient c : waiting) {
                    assertThat(c.read(Connack.class).reasonCode()).isZero();
                }
            } finally {
                waiting.forEach(RawClient::close);
            }
        }
    }

    @Test
    @DisplayName("http_acl_url decides publish and subscribe")
    void authorization() throws Exception {
        answer = body -> body.contains("\"action\":\"connect\"") || body.contains("\"topic\":\"allowed/x\"")
                ? new Reply(200, "") : new Reply(403, "");
        try (SecureBroker b = broker("plugin_opt_http_acl_url " + url("/acl"))) {
            Authorizer authorizer = b.broker().security().listener(0).authorizer();
            ClientIdentity id = ClientIdentity.of("c1", "alice", null, "127.0.0.1:5", "127.0.0.1:0");
            assertThat(authorizer.mayPublish(id, "allowed/x").toCompletableFuture().get(5, TimeUnit.SECONDS)).isTrue();
            assertThat(authorizer.mayPublish(id, "other").toCompletableFuture().get(5, TimeUnit.SECONDS)).isFalse();
            assertThat(authorizer.maySubscribe(id, "allowed/x").toCompletableFuture().get(5, TimeUnit.SECONDS))
                    .isTrue();
            assertThat(requests.poll(5, TimeUnit.SECONDS)).startsWith("/acl null {\"action\":\"publish\","
                    + "\"clientid\":\"c1\",\"username\":\"alice\",\"topic\":\"allowed/x\"");
        }
    }

    @Test
    @DisplayName("the client certificate goes to the service with the credentials")
    void certificateData(@TempDir Path dir) throws Exception {
        TestPki pki = TestPki.create(dir);
        TestPki.Issued server = pki.server("server");
        TestPki.Issued device = pki.client("device-7");
        try (SecureBroker b = SecureBroker.start(c -> c.authFailureDelayMillis(0).listener("127.0.0.1", 0, l -> l
                .certificate(server.certFile(), server.keyFile()).caFile(pki.ca.certFile())
                .requireCertificate(ClientCertificates.REQUIRED).plugin("http")
                .pluginOption("http_url", url("/auth"))))) {
            close(paho("ssl", b.port(), "dev", options(pki.socketFactory(device), "device-7", "pw")));
            String request = requests.poll(5, TimeUnit.SECONDS);
            assertThat(request).contains("\"certificate\":{\"cn\":\"device-7\",\"subject\":\"CN=device-7,"
                    + "O=TernMQ Tests\",\"san\":[\"device-7@example.com\"],\"serial\":\"")
                    .contains("\"pem\":\"-----BEGIN CERTIFICATE-----\\n");
        }
    }

    @Test
    @DisplayName("bad options stop the start")
    void badOptions() {
        assertThatThrownBy(() -> SecureBroker.fromConfig("listener 0 127.0.0.1", "plugin http"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("plugin_opt_http_url is required");
        assertThatThrownBy(() -> SecureBroker.fromConfig("listener 0 127.0.0.1", "plugin http",
                "plugin_opt_http_url ftp://x")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("not an http(s) URL");
        assertThatThrownBy(() -> SecureBroker.fromConfig("listener 0 127.0.0.1", "plugin nosuch"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("plugin 'nosuch' is not on the class path");
    }
}
