package io.ternmq.broker.it.ops;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.ternmq.broker.admin.AdminServer;
import io.ternmq.broker.config.AdminListenerConfig;
import io.ternmq.broker.config.ConfigException;
import io.ternmq.broker.config.ConfigFileParser;
import io.ternmq.broker.security.PasswordFile;
import io.ternmq.broker.security.PasswordHash;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.ReasonCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The admin listener ({@code protocol http_api}) over real sockets: Basic auth against its password file, the
 * health endpoints, and every kind of request it refuses. A raw socket sends what java.net.http will not (a foreign
 * Host header, oversized headers).
 */
class AdminListenerTest {
    @TempDir
    Path dir;
    private Path passwd;
    private TestBroker broker;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void passwordFile() throws IOException {
        passwd = dir.resolve("passwd");
        PasswordFile pf = PasswordFile.empty();
        pf.put(new PasswordFile.Entry("ops", PasswordHash.hash("secret".toCharArray(), 1000), null));
        pf.save(passwd);
    }

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private void start(boolean metricsAnonymous) {
        broker = TestBroker.start(b -> b.adminListener(
                new AdminListenerConfig("127.0.0.1", 0, passwd, metricsAnonymous)));
    }

    private int adminPort() {
        return broker.broker().admin().address().getPort();
    }

    private HttpResponse<String> get(String path, String user, String password) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort() + path))
                .timeout(Duration.ofSeconds(10));
        if (user != null) {
            r.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                    (user + ":" + password).getBytes(StandardCharsets.UTF_8)));
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Sends raw bytes and returns everything the server answers until it closes (or 10 s pass). */
    private String raw(String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", adminPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            int n;
            while ((n = in.read(buf)) > 0) {
                got.write(buf, 0, n);
            }
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    @DisplayName("/metrics: 401 with a Basic challenge without or with bad credentials, 200 with a user of the file")
    void metricsNeedCredentials() throws Exception {
        start(false);
        HttpResponse<String> none = get("/metrics", null, null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValue("Basic realm=\"TernMQ\", charset=\"UTF-8\"");
        assertThat(none.body()).doesNotContain("ternmq_");
        assertThat(get("/metrics", "ops", "wrong").statusCode()).isEqualTo(401);
        assertThat(get("/metrics", "nobody", "secret").statusCode()).isEqualTo(401);
        HttpResponse<String> ok = get("/metrics", "ops", "secret");
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        assertThat(ok.body()).contains("ternmq_build_info{");
        // the second check is answered from the cache of recent successes, as for MQTT clients
        assertThat(get("/metrics", "ops", "secret").statusCode()).isEqualTo(200);
    }

    @Test
    @DisplayName("metrics_anonymous true: /metrics without credentials")
    void metricsAnonymous() throws Exception {
        start(true);
        HttpResponse<String> ok = get("/metrics", null, null);
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.body()).contains("ternmq_clients_connected");
    }

    @Test
    @DisplayName("/health/live and /health/ready: no credentials, UP; ready goes DOWN when the listeners close")
    void health() throws Exception {
        start(false);
        HttpResponse<String> live = get("/health/live", null, null);
        assertThat(live.statusCode()).isEqualTo(200);
        assertThat(live.body()).isEqualTo("{\"status\":\"UP\"}\n");
        HttpResponse<String> ready = get("/health/ready", null, null);
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).isEqualTo("{\"status\":\"UP\"}\n");
        broker.broker().server().close(); // the MQTT listeners stop accepting; the admin listener stays
        HttpResponse<String> down = get("/health/ready", null, null);
        assertThat(down.statusCode()).isEqualTo(503);
        assertThat(down.body()).isEqualTo("{\"status\":\"DOWN\"}\n");
        assertThat(get("/health/live", null, null).statusCode()).isEqualTo(200);
    }

    /** The thread of the event loop that owns {@code clientId}'s session. */
    private Thread ownerThread(String clientId) throws Exception {
        CompletableFuture<Thread> owner = new CompletableFuture<>();
        broker.broker().sessions().get(clientId).submit(() -> owner.complete(Thread.currentThread()));
        return owner.get(10, TimeUnit.SECONDS);
    }

    @Test
    @DisplayName("a graceful stop: /health/ready answers 503 while clients are told 0x8B and the admin listener is still up")
    void readyDownDuringGracefulStop() throws Exception {
        broker = TestBroker.start(b -> b.ioThreads(2)
                .adminListener(new AdminListenerConfig("127.0.0.1", 0, passwd, false)));
        // The stop waits for every I/O loop to end. One loop is kept busy by the test until it has asked, so the stop
        // is held between telling clients 0x8B (step 3) and closing the admin listener (step 4) for as long as the
        // test needs, not for a time that a loaded machine might not meet.
        RawClient held = RawV5.connected(broker, "held");
        Thread heldLoop = ownerThread("held");
        List<RawClient> others = new ArrayList<>();
        RawClient told = null;
        for (int i = 0; told == null; i++) {
            assertThat(i).as("a client on the other I/O loop").isLessThan(16);
            RawClient c = RawV5.connected(broker, "told-" + i);
            others.add(c);
            if (ownerThread("told-" + i) != heldLoop) {
                told = c;
            }
        }
        CountDownLatch busy = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        broker.broker().sessions().get("held").submit(() -> {
            busy.countDown();
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertThat(busy.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(get("/health/ready", null, null).statusCode()).isEqualTo(200);
        Thread stopping = new Thread(broker.broker()::close, "test-stop");
        try {
            stopping.start();
            assertThat(RawV5.disconnectReason(told)).isEqualTo(ReasonCode.SERVER_SHUTTING_DOWN);
            HttpResponse<String> ready = get("/health/ready", null, null);
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(ready.body()).isEqualTo("{\"status\":\"DOWN\"}\n");
            assertThat(get("/health/live", null, null).statusCode()).as("the process still answers").isEqualTo(200);
            assertThat(stopping.isAlive()).isTrue();
        } finally {
            release.countDown();
            stopping.join(30_000);
            held.close();
            others.forEach(RawClient::close);
        }
        assertThat(stopping.isAlive()).isFalse();
        assertThatThrownBy(() -> get("/health/ready", null, null)).as("the admin listener closed last")
                .isInstanceOf(IOException.class);
    }

    @Test
    @DisplayName("unknown path 404, wrong method 405 with Allow, JSON errors without stack traces")
    void notFoundAndMethod() throws Exception {
        start(false);
        HttpResponse<String> missing = get("/nope", "ops", "secret");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.body()).isEqualTo("{\"code\":404,\"message\":\"no such path: /nope\"}\n");
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + adminPort() + "/metrics"))
                .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("Allow")).hasValue("GET");
        assertThat(post.body()).startsWith("{\"code\":405,").doesNotContain("Exception");
    }

    @Test
    @DisplayName("a foreign Host header gets 421 (DNS rebinding); localhost, loopback and the listener's address pass")
    void foreignHost() throws IOException {
        start(true);
        assertThat(raw("GET /health/live HTTP/1.1\r\nHost: evil.example:" + adminPort() + "\r\n"
                + "Connection: close\r\n\r\n")).startsWith("HTTP/1.1 421 ");
        assertThat(raw("GET /metrics HTTP/1.1\r\nHost: 10.1.2.3\r\nConnection: close\r\n\r\n"))
                .startsWith("HTTP/1.1 421 ");
        for (String host : List.of("localhost:" + adminPort(), "127.0.0.1", "[::1]:" + adminPort(), "LOCALHOST")) {
            assertThat(raw("GET /health/live HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"))
                    .as(host).startsWith("HTTP/1.1 200 ");
        }
        assertThat(raw("GET /health/live HTTP/1.1\r\nConnection: close\r\n\r\n")).as("no Host in HTTP/1.1")
                .startsWith("HTTP/1.1 421 ");
    }

    @Test
    @DisplayName("bound to every address: a warning in the log; the machine's name is an accepted Host")
    void exposedListenerWarns() throws IOException {
        Logger logger = (Logger) LoggerFactory.getLogger(AdminServer.class);
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        logger.addAppender(log);
        try {
            broker = TestBroker.start(b -> b.adminListener(new AdminListenerConfig("0.0.0.0", 0, passwd, true)));
            assertThat(log.list).anySatisfy(e -> {
                assertThat(e.getLevel()).isEqualTo(Level.WARN);
                assertThat(e.getFormattedMessage()).contains("reachable from other hosts");
            });
            String name = InetAddress.getLocalHost().getHostName();
            assertThat(raw("GET /health/live HTTP/1.1\r\nHost: " + name + "\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 200 ");
            assertThat(raw("GET /health/live HTTP/1.1\r\nHost: rebound.example\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 421 ");
        } finally {
            logger.detachAppender(log);
        }
    }

    @Test
    @DisplayName("headers over 8 KiB get 431 and the connection is closed")
    void headersTooLarge() throws IOException {
        start(true);
        String big = "X-Filler: " + "a".repeat(9 * 1024) + "\r\n";
        assertThat(raw("GET /health/live HTTP/1.1\r\nHost: localhost\r\n" + big + "\r\n"))
                .startsWith("HTTP/1.1 431 ");
    }

    @Test
    @DisplayName("pipelined requests are answered in order, also when the first waits for a password check and the "
            + "second could be answered at once")
    void pipelinedBehindAnAsynchronousAnswer() throws IOException {
        start(false);
        String basic = Base64.getEncoder().encodeToString("ops:secret".getBytes(StandardCharsets.UTF_8));
        for (int round = 0; round < 20; round++) {
            // the first needs the password checked on the auth pool; the second, a path nobody serves, is a 404
            // decided on the admin loop at once
            String answers = raw("GET /metrics HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic " + basic
                    + "\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            assertThat(answers).as("round %d", round).startsWith("HTTP/1.1 200 ").contains("HTTP/1.1 404 ");
            assertThat(answers.indexOf("HTTP/1.1 404 ")).as("round %d", round)
                    .isGreaterThan(answers.indexOf("ternmq_build_info"));
        }
    }

    @Test
    @DisplayName("keep-alive: several requests on one connection; an idle one is closed by the server")
    void keepAliveAndIdle() throws IOException {
        start(true);
        try (Socket s = new Socket("127.0.0.1", adminPort())) {
            s.setSoTimeout(40_000);
            String req = "GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n";
            // two pipelined requests: two answers, in order
            s.getOutputStream().write((req + req).getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            int n;
            long t0 = System.nanoTime();
            while ((n = in.read(buf)) > 0) {
                got.write(buf, 0, n);
            }
            long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
            String all = got.toString(StandardCharsets.ISO_8859_1);
            assertThat(all.split("HTTP/1.1 200 ", -1)).hasSize(3);
            assertThat(seconds).as("closed after the 30 s idle time").isBetween(25L, 40L);
        }
    }

    @Test
    @DisplayName("protocol http_api without password_file: one line naming file, line and key (ternmq exits 2)")
    void needsPasswordFile() {
        assertThatThrownBy(() -> ConfigFileParser.parse("test.conf", List.of("listener 1883",
                "listener 9883 127.0.0.1", "protocol http_api")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("test.conf:2: listener: protocol http_api needs a password_file (ternmq passwd makes "
                        + "one); the admin listener has no default user");
        assertThatThrownBy(() -> ConfigFileParser.parse("test.conf", List.of("listener 9883 127.0.0.1",
                "protocol http_api", "password_file /p", "listener 9884 127.0.0.1", "protocol http_api",
                "password_file /p")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("test.conf:4: listener: only one listener");
        assertThatThrownBy(() -> ConfigFileParser.parse("test.conf", List.of("listener 9883 127.0.0.1",
                "protocol http_api", "password_file /p", "certfile /c")))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("test.conf:1: listener: certfile needs "
                        + "keyfile");
        // certfile and keyfile make it HTTPS (AdminOperationsTest serves it)
        assertThat(ConfigFileParser.parse("test.conf", List.of("listener 9883 127.0.0.1", "protocol http_api",
                "password_file /p", "certfile /c", "keyfile /k")).build().operations().adminListener().tls()
                .certFile()).isEqualTo(Path.of("/c"));
        assertThatThrownBy(() -> ConfigFileParser.parse("test.conf", List.of("listener 1 127.0.0.1",
                "metrics_anonymous maybe")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("test.conf:2: metrics_anonymous: 'maybe' is not true or false");
        var config = ConfigFileParser.parse("test.conf", List.of("listener 1884 127.0.0.1",
                "listener 9883 127.0.0.1", "protocol http_api", "password_file /etc/ternmq/admin.passwd",
                "metrics_anonymous true")).build();
        assertThat(config.transport().listeners()).hasSize(1);
        assertThat(config.operations().adminListener())
                .isEqualTo(new AdminListenerConfig("127.0.0.1", 9883, Path.of("/etc/ternmq/admin.passwd"), true));
    }

    @Test
    @DisplayName("ternmq -c with protocol http_api and no password_file exits 2; a missing password file too")
    void exitCodes() throws Exception {
        Path conf = dir.resolve("t.conf");
        Files.writeString(conf, "data_dir " + dir.resolve("data") + "\nlistener 0 127.0.0.1\nlistener 0 127.0.0.1\n"
                + "protocol http_api\n");
        assertThat(runMain(conf)).isEqualTo(2);
        Files.writeString(conf, "data_dir " + dir.resolve("data") + "\nlistener 0 127.0.0.1\nlistener 0 127.0.0.1\n"
                + "protocol http_api\npassword_file " + dir.resolve("missing") + "\n");
        assertThat(runMain(conf)).isEqualTo(2);
    }

    /** Runs the ternmq command in a JVM of its own (it would exit this one) and returns its exit status. */
    private static int runMain(Path conf) throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), "io.ternmq.broker.Main", "-c", conf.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).as(out).isTrue();
        assertThat(out).contains("ternmq: ");
        return p.exitValue();
    }
}
