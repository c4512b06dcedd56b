package io.ternmq.broker.it.ops;

import io.ternmq.broker.config.AdminListenerConfig;
import io.ternmq.broker.security.PasswordFile;
import io.ternmq.broker.security.PasswordHash;
import io.ternmq.broker.testing.AdminHttp;
import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.TestBroker;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The operations part of the admin API against a real broker with real MQTT clients: topics, kicks of offline
 * sessions, subscriptions of offline sessions, retained topics with any UTF-8 character.
 */
class AdminOperationsTest {
    @TempDir
    Path dir;
    private TestBroker broker;
    private AdminHttp admin;
    private Path passwd;
    private final List<AutoCloseable> clients = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        passwd = dir.resolve("passwd");
        PasswordFile pf = PasswordFile.empty();
        pf.put(new PasswordFile.Entry("ops", PasswordHash.hash("secret".toCharArray(), 1000), null));
        pf.put(new PasswordFile.Entry("viewer", PasswordHash.hash("look".toCharArray(), 1000), null));
        pf.save(passwd);
        broker = TestBroker.start(b -> b.adminListener(adminConfig()));
        admin = new AdminHttp(broker);
    }

    /** Plain HTTP; "viewer" may only read. */
    private AdminListenerConfig adminConfig() {
        return new AdminListenerConfig("127.0.0.1", 0, passwd, false, java.util.Set.of("viewer"));
    }

    /** Replaces the broker with one configured so (its admin listener as the customizer says). */
    private void restart(java.util.function.Consumer<io.ternmq.broker.config.BrokerConfig.Builder> customizer) {
        broker.close();
        broker = TestBroker.start(customizer);
        admin = broker.broker().admin().address() == null ? null : new AdminHttp(broker);
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : clients) {
            c.close();
        }
        broker.close();
    }

    private HttpResponse<String> call(String method, String path, String json) {
        return admin.as("ops", "secret", method, path, json);
    }

    private HttpResponse<String> get(String path) {
        return call("GET", path, null);
    }

    /** This broker's node id (its data directory's), which each row of a listing names. */
    private String nodeId() {
        Matcher m = Pattern.compile("\\{\"node\":\"([^\"]+)\"").matcher(get("/api/v1/nodes").body());
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    private Paho5Client v5(String id, MqttConnectionOptions o) {
        Paho5Client c = Paho5Client.connect(broker, id, o);
        clients.add(c);
        return c;
    }

    private Paho5Client v5(String id) {
        return v5(id, Paho5Client.options(true));
    }

    private static MqttConnectionOptions lasting(String willTopic, long willDelaySeconds) {
        MqttConnectionOptions o = Paho5Client.options(false);
        o.setSessionExpiryInterval(600L);
        if (willTopic != null) {
            o.setWill(willTopic, Paho5Client.message("will of " + willTopic, 1, false, new MqttProperties()));
            MqttProperties p = new MqttProperties();
            p.setWillDelayInterval(willDelaySeconds);
            o.setWillMessageProperties(p);
        }
        return o;
    }

    @Test
    @DisplayName("GET topics: retained topics and subscribed filters, with sizes and subscriber counts, paged")
    void topics() {
        v5("s1").subscribe("home/+/temp", 1).subscribe("home/kitchen/temp", 0);
        v5("s2").subscribe("home/kitchen/temp", 1).subscribe("$share/g/jobs", 1);
        v5("s3").subscribe("$share/g/jobs", 1).subscribe("$share/h/jobs", 1);
        v5("p").publish("home/kitchen/temp", "21.5", 1, true);
        v5("p2").publish("home/hall/temp", "19", 1, true);
        HttpResponse<String> r = get("/api/v1/topics");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        String node = nodeId();
        assertThat(r.body()).isEqualTo("{\"topics\":["
                + "{\"topic\":\"home/+/temp\",\"retained\":false,\"subscribers\":1,\"nodes\":{\"" + node + "\":1}},"
                + "{\"topic\":\"home/hall/temp\",\"retained\":true,\"retainedBytes\":2,\"subscribers\":0,"
                + "\"nodes\":{}},"
                + "{\"topic\":\"home/kitchen/temp\",\"retained\":true,\"retainedBytes\":4,\"subscribers\":2,"
                + "\"nodes\":{\"" + node + "\":2}},"
                // two shared groups of one filter: two subscribers, whatever their members
                + "{\"topic\":\"jobs\",\"retained\":false,\"subscribers\":2,\"nodes\":{\"" + node + "\":2}}],"
                + "\"next\":null,\"unanswered\":[]}\n");
        assertThat(get("/api/v1/topics?node=" + node).body()).isEqualTo(r.body());
        assertThat(get("/api/v1/topics?node=elsewhere").statusCode()).isEqualTo(404);
        assertThat(get("/api/v1/topics?like=kitchen").body()).contains("home/kitchen/temp")
                .doesNotContain("hall");

        List<String> seen = new ArrayList<>();
        String cursor = "";
        do {
            HttpResponse<String> page = get("/api/v1/topics?limit=3&cursor=" + cursor);
            Matcher t = Pattern.compile("\"topic\":\"([^\"]+)\"").matcher(page.body());
            seen.addAll(t.results().map(m -> m.group(1)).toList());
            Matcher next = Pattern.compile("\"next\":\"([^\"]+)\"").matcher(page.body());
            cursor = next.find() ? next.group(1) : null;
        } while (cursor != null);
        assertThat(seen).containsExactly("home/+/temp", "home/hall/temp", "home/kitchen/temp", "jobs");

        assertThat(get("/api/v1/topics?limit=1001").body())
                .isEqualTo("{\"code\":400,\"message\":\"limit must be from 1 to 1000, not 1001\"}\n");
        assertThat(get("/api/v1/topics?limit=0").statusCode()).isEqualTo(400);
        assertThat(get("/api/v1/topics?cursor=***").statusCode()).isEqualTo(400);
        assertThat(call("POST", "/api/v1/topics", "{}").statusCode()).isEqualTo(405);
    }

    /** The node a kick's answer names: this broker, by the id in its data directory. */
    private String node() {
        return "\"node\":\"" + io.ternmq.broker.cluster.ClusterNode.nodeId(broker.dataDir()) + "\",";
    }

    @Test
    @DisplayName("DELETE clients/{id} of an offline session: kicked false; session=keep keeps it; will=false drops "
            + "the will waiting for its delay [MQTT-3.1.2-8]")
    void kickOfflineSession() {
        Paho5Client watcher = v5("watcher").subscribe("will/#", 1);
        // disconnecting with 0x04 leaves the will to its delay (MQTT 5.0 3.1.3.2.2)
        v5("sleepy", lasting("will/sleepy", 4)).disconnect(0x04, new MqttProperties());
        await().atMost(Duration.ofSeconds(5))
                .until(() -> get("/api/v1/clients/sleepy").body().contains("\"connected\":false"));

        HttpResponse<String> r = call("DELETE", "/api/v1/clients/sleepy?will=false&session=keep", null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("{\"clientId\":\"sleepy\"," + node() + "\"kicked\":false,"
                + "\"sessionDiscarded\":false,"
                + "\"willDiscarded\":true}\n");
        assertThat(get("/api/v1/clients/sleepy").statusCode()).isEqualTo(200);

        // a second session with the same will delay, left alone, disconnects after the kick: its will comes after
        // the one dropped would have; nothing comes before it
        v5("control", lasting("will/control", 4)).disconnect(0x04, new MqttProperties());
        Paho5Client.Received first = watcher.poll(15_000);
        assertThat(first).isNotNull();
        assertThat(first.topic()).isEqualTo("will/control");

        // kicking it again: still offline, nothing to do, and it says so
        assertThat(call("DELETE", "/api/v1/clients/sleepy", null).body()).isEqualTo("{\"clientId\":\"sleepy\","
                + node() + "\"kicked\":false,\"sessionDiscarded\":false,\"willDiscarded\":false}\n");
        assertThat(call("DELETE", "/api/v1/clients/sleepy?session=discard", null).body()).contains(
                "\"kicked\":false,\"sessionDiscarded\":true");
        await().atMost(Duration.ofSeconds(5)).until(() -> get("/api/v1/clients/sleepy").statusCode() == 404);
        assertThat(call("DELETE", "/api/v1/clients/sleepy?session=maybe", null).body())
                .isEqualTo("{\"code\":400,\"message\":\"session must be keep or discard, not 'maybe'\"}\n");
        assertThat(call("DELETE", "/api/v1/clients/control?will=no", null).statusCode()).isEqualTo(400);
    }

    @Test
    @DisplayName("DELETE clients/{id} of a connected client: kicked true, and what happened to session and will")
    void kickConnectedSaysWhatItDid() {
        Paho5Client c = v5("online", lasting("will/online", 0));
        HttpResponse<String> r = call("DELETE", "/api/v1/clients/online?will=false", null);
        assertThat(r.body()).isEqualTo("{\"clientId\":\"online\"," + node() + "\"kicked\":true,\"sessionDiscarded\":false,"
                + "\"willDiscarded\":true}\n");
        await().atMost(Duration.ofSeconds(5)).until(() -> c.disconnected() != null);
        assertThat(c.disconnected().getReturnCode()).isEqualTo(0x98);
    }

    @Test
    @DisplayName("clients/{id}/subscriptions of an offline session: POST adds one, the client gets its queue on return")
    void subscriptionsOfOfflineSession() {
        v5("away", lasting(null, 0)).disconnect();
        await().atMost(Duration.ofSeconds(5))
                .until(() -> get("/api/v1/clients/away").body().contains("\"connected\":false"));
        String path = "/api/v1/clients/away/subscriptions";
        HttpResponse<String> added = call("POST", path, "{\"filter\":\"orders/#\",\"qos\":1}");
        assertThat(added.statusCode()).as(added.body()).isEqualTo(201);
        assertThat(get(path).body()).contains("\"filter\":\"orders/#\",\"qos\":1");
        v5("shop").publish("orders/7", "while away", 1, false);
        await().atMost(Duration.ofSeconds(5)).until(() -> get("/api/v1/clients/away").body()
                .contains("\"queued\":1"));
        Paho5Client back = v5("away", lasting(null, 0));
        assertThat(back.next().payload()).isEqualTo("while away");
        back.disconnect();
        await().atMost(Duration.ofSeconds(5))
                .until(() -> get("/api/v1/clients/away").body().contains("\"connected\":false"));
        assertThat(call("DELETE", path + "?filter=orders/%23", null).statusCode()).isEqualTo(200);
        assertThat(get(path).body()).contains("\"subscriptions\":[]");
        assertThat(call("DELETE", path + "?filter=orders/%23", null).statusCode()).isEqualTo(404);
        assertThat(call("DELETE", path, null).body())
                .isEqualTo("{\"code\":400,\"message\":\"filter must be a valid MQTT topic filter, not missing\"}\n");
        assertThat(call("POST", path, "{\"filter\":").statusCode()).isEqualTo(400);
        assertThat(call("POST", path, "[1]").statusCode()).isEqualTo(400);
        assertThat(call("PUT", path, "{}").statusCode()).isEqualTo(405);
    }

    @Test
    @DisplayName("retained/{topic}: percent-encoded UTF-8 topics, shown and deleted; bad encodings 400")
    void retainedUtf8Topics() {
        String topic = "haus/küche/温度 1";
        Paho5Client sub = v5("sub").subscribe("haus/#", 1);
        v5("p").publish(topic, "22", 1, true);
        assertThat(sub.next().topic()).isEqualTo(topic);
        HttpResponse<String> one = get("/api/v1/retained/" + AdminHttp.segment(topic));
        assertThat(one.statusCode()).as(one.body()).isEqualTo(200);
        assertThat(one.body()).contains("\"topic\":\"haus/küche/温度 1\"", "\"payload\":\"22\"");
        assertThat(call("DELETE", "/api/v1/retained/" + AdminHttp.segment(topic), null).body())
                .contains("\"topic\":\"haus/küche/温度 1\"", "\"deleted\":true");
        assertThat(sub.next().message().getPayload()).isEmpty();
        assertThat(get("/api/v1/retained/" + AdminHttp.segment(topic)).statusCode()).isEqualTo(404);

        String bad = admin.raw("GET /api/v1/retained/a%ZZ HTTP/1.1\r\nHost: localhost\r\nAuthorization: "
                + AdminHttp.basic("ops", "secret") + "\r\nConnection: close\r\n\r\n");
        assertThat(bad).startsWith("HTTP/1.1 400").contains("bad percent-encoding in the path");
        String notUtf8 = admin.raw("GET /api/v1/retained/a%FF HTTP/1.1\r\nHost: localhost\r\nAuthorization: "
                + AdminHttp.basic("ops", "secret") + "\r\nConnection: close\r\n\r\n");
        assertThat(notUtf8).startsWith("HTTP/1.1 400").contains("not percent-encoded UTF-8");
        assertThat(get("/api/v1/retained/" + AdminHttp.segment("a/#")).statusCode()).isEqualTo(400);
    }

    // ------------------------------------------------------------------ logins, HTTPS

    private record Login(String cookie, String csrf) {
    }

    private Login login(String user, String password) {
        HttpResponse<String> r = admin.send(admin.request("/api/v1/login").header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"user\":\"" + user
                        + "\",\"password\":\"" + password + "\"}")));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        String cookie = r.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0];
        Matcher csrf = Pattern.compile("\"csrf\":\"([^\"]+)\"").matcher(r.body());
        assertThat(csrf.find()).isTrue();
        return new Login(cookie, csrf.group(1));
    }

    private HttpResponse<String> withLogin(Login l, String method, String path, boolean csrf) {
        java.net.http.HttpRequest.Builder b = admin.request(path).header("Cookie", l.cookie())
                .method(method, java.net.http.HttpRequest.BodyPublishers.noBody());
        if (csrf) {
            b.header("X-TernMQ-CSRF", l.csrf());
        }
        return admin.send(b);
    }

    @Test
    @DisplayName("POST logout: ends the login at once (its cookie no longer works); needs the CSRF token; "
            + "read-only users may log out")
    void logout() {
        Login l = login("ops", "secret");
        assertThat(withLogin(l, "GET", "/api/v1/status", false).statusCode()).isEqualTo(200);
        HttpResponse<String> forged = withLogin(l, "POST", "/api/v1/logout", false);
        assertThat(forged.statusCode()).isEqualTo(403);
        HttpResponse<String> out = withLogin(l, "POST", "/api/v1/logout", true);
        assertThat(out.statusCode()).as(out.body()).isEqualTo(200);
        assertThat(out.body()).isEqualTo("{\"loggedOut\":true}\n");
        assertThat(out.headers().firstValue("Set-Cookie")).hasValueSatisfying(c -> assertThat(c)
                .startsWith("ternmq_session=;").contains("Max-Age=0", "HttpOnly", "SameSite=Strict")
                .doesNotContain("Secure"));
        HttpResponse<String> after = withLogin(l, "GET", "/api/v1/status", false);
        assertThat(after.statusCode()).isEqualTo(401);
        assertThat(after.body()).contains("the login has expired");
        assertThat(withLogin(l, "GET", "/api/v1/logout", false).statusCode()).isEqualTo(405);

        Login viewer = login("viewer", "look");
        assertThat(withLogin(viewer, "POST", "/api/v1/reload", true).statusCode()).isEqualTo(403);
        assertThat(withLogin(viewer, "POST", "/api/v1/logout", true).body()).isEqualTo("{\"loggedOut\":true}\n");
        // with HTTP Basic there is no login to end: it says so
        assertThat(call("POST", "/api/v1/logout", null).body()).isEqualTo("{\"loggedOut\":false}\n");
    }

    @Test
    @DisplayName("bad HTTP Basic credentials are refused only after auth_failure_delay, as a failed login is")
    void basicAuthFailureDelay() {
        restart(b -> b.authFailureDelayMillis(1500).adminListener(adminConfig()));
        long t0 = System.nanoTime();
        HttpResponse<String> r = admin.as("ops", "wrong", "GET", "/api/v1/status", null);
        long millis = (System.nanoTime() - t0) / 1_000_000;
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.headers().firstValue("WWW-Authenticate")).isPresent();
        assertThat(millis).isGreaterThanOrEqualTo(1400);
        assertThat(admin.as("nobody", "x", "GET", "/api/v1/status", null).statusCode()).isEqualTo(401);
        assertThat(call("GET", "/api/v1/status", null).statusCode()).isEqualTo(200);
    }

    @Test
    @DisplayName("certfile/keyfile on the http_api listener: HTTPS only; the login cookie is Secure")
    void https() throws Exception {
        io.ternmq.broker.testing.TestPki pki = io.ternmq.broker.testing.TestPki.create(dir);
        io.ternmq.broker.testing.TestPki.Issued cert = pki.server("admin", Duration.ofDays(400));
        AdminListenerConfig https = new io.ternmq.broker.config.ListenerSettings().passwordFile(passwd)
                .certificate(cert.certFile(), cert.keyFile()).buildAdmin("127.0.0.1", 0);
        restart(b -> b.adminListener(https));
        int port = broker.broker().admin().address().getPort();
        java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder()
                .sslContext(pki.sslContext(null, "TLSv1.3")).connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> status = client.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("https://127.0.0.1:" + port + "/api/v1/status"))
                .header("Authorization", AdminHttp.basic("ops", "secret")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(status.statusCode()).isEqualTo(200);
        assertThat(status.body()).contains("\"version\":");
        HttpResponse<String> login = client.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("https://127.0.0.1:" + port + "/api/v1/login"))
                .header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"user\":\"ops\",\"password\":\"secret\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(login.statusCode()).isEqualTo(200);
        assertThat(login.headers().firstValue("Set-Cookie")).hasValueSatisfying(c -> assertThat(c)
                .contains("; Secure", "HttpOnly", "SameSite=Strict"));
        // POST reload rebuilds the admin listener's own certificate too
        HttpResponse<String> reload = client.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("https://127.0.0.1:" + port + "/api/v1/reload"))
                .header("Authorization", AdminHttp.basic("ops", "secret"))
                .POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(reload.statusCode()).as(reload.body()).isEqualTo(200);
        assertThat(reload.body()).contains("{\"what\":\"TLS certificate of listener 127.0.0.1:0\",\"file\":\""
                + cert.certFile() + "\",\"reloaded\":true}");
        // plain HTTP to it gets no HTTP answer: the listener speaks TLS only
        assertThat(admin.raw("GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
                .doesNotContain("HTTP/1.1 200");
    }

    // ------------------------------------------------------------------ reload

    @Test
    @DisplayName("POST reload: password files re-read as on SIGHUP (a new user works at once); a broken file "
            + "is kept at its last good version and named with the reason (422)")
    void reload() throws Exception {
        PasswordFile pf = PasswordFile.load(passwd);
        pf.put(new PasswordFile.Entry("late", PasswordHash.hash("pw".toCharArray(), 1000), null));
        pf.save(passwd);
        HttpResponse<String> r = call("POST", "/api/v1/reload", null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).startsWith("{\"reloaded\":true,\"files\":[").contains("{\"what\":\"password file\","
                + "\"file\":\"" + passwd + "\",\"reloaded\":true}");
        assertThat(admin.as("late", "pw", "GET", "/api/v1/status", null).statusCode()).isEqualTo(200);

        java.nio.file.Files.writeString(passwd, "no colon here\n");
        HttpResponse<String> broken = call("POST", "/api/v1/reload", null);
        assertThat(broken.statusCode()).as(broken.body()).isEqualTo(422);
        assertThat(broken.body()).startsWith("{\"reloaded\":false,").contains("\"reloaded\":false,\"error\":\"")
                .contains("expected 'username:hash'");
        // the last good version stays in use
        assertThat(admin.as("late", "pw", "GET", "/api/v1/status", null).statusCode()).isEqualTo(200);
        assertThat(call("GET", "/api/v1/reload", null).statusCode()).isEqualTo(405);
    }

    // ------------------------------------------------------------------ alarms

    @Test
    @DisplayName("GET alarms: a certificate expiring within 30 days and connections over 90 % of max_connections, "
            + "each with since, value and threshold; gone when the condition is")
    void alarms() {
        io.ternmq.broker.testing.TestPki pki = io.ternmq.broker.testing.TestPki.create(dir);
        io.ternmq.broker.testing.TestPki.Issued soon = pki.server("soon", Duration.ofDays(3));
        io.ternmq.broker.testing.TestPki.Issued later = pki.server("later", Duration.ofDays(400));
        restart(b -> b.maxConnections(2)
                .listener("127.0.0.1", 0, l -> l.certificate(soon.certFile(), soon.keyFile()))
                .listener("127.0.0.1", 0, l -> l.certificate(later.certFile(), later.keyFile()))
                .adminListener(adminConfig()));
        int soonPort = broker.broker().addresses().get(1).getPort();
        HttpResponse<String> quiet = get("/api/v1/alarms");
        assertThat(quiet.statusCode()).isEqualTo(200);
        Matcher cert = Pattern.compile("\\{\"name\":\"certificate\",\"subject\":\"listener 127.0.0.1:" + soonPort
                + "\",\"message\":\"the certificate of listener 127.0.0.1:" + soonPort + " expires at [^\"]+\","
                + "\"since\":\"[^\"]+\",\"value\":(2\\.9|3\\.0),\"threshold\":30\\.0,\"unit\":\"days\","
                + "\"node\":\"" + nodeId() + "\"}")
                .matcher(quiet.body());
        assertThat(cert.find()).as(quiet.body()).isTrue();
        assertThat(Pattern.compile("\"name\":").matcher(quiet.body()).results().count()).as(quiet.body())
                .isEqualTo(1);

        Paho5Client first = v5("one");
        v5("two");
        HttpResponse<String> full = get("/api/v1/alarms");
        Matcher conn = Pattern.compile("\\{\"name\":\"connections\",\"message\":\"2 clients connected of "
                + "max_connections 2\",\"since\":\"([^\"]+)\",\"value\":100\\.0,\"threshold\":90\\.0,"
                + "\"unit\":\"%\",\"node\":\"" + nodeId() + "\"}").matcher(full.body());
        assertThat(conn.find()).as(full.body()).isTrue();
        String since = conn.group(1);
        assertThat(get("/api/v1/alarms").body()).contains("\"since\":\"" + since + "\"");
        first.disconnect();
        await().atMost(Duration.ofSeconds(5))
                .until(() -> !get("/api/v1/alarms").body().contains("\"connections\""));
        assertThat(call("DELETE", "/api/v1/alarms", null).statusCode()).isEqualTo(405);
    }

    // ------------------------------------------------------------------ slow subscribers

    @Test
    @DisplayName("GET slow-subscribers: a subscriber that stops acknowledging (window full, queue growing) and one "
            + "that stops reading (socket unwritable, for seconds); a reading one is not listed")
    void slowSubscribers() {
        restart(b -> b.maxInflightMessages(5).adminListener(adminConfig()));
        try (io.ternmq.broker.testing.RawClient noAcks = io.ternmq.broker.testing.RawV5.connected(broker, "no-acks");
             io.ternmq.broker.testing.RawClient stuck = io.ternmq.broker.testing.RawV5.connected(broker, "stuck")) {
            io.ternmq.broker.testing.RawV5.subscribe(noAcks, "slow/acks", io.ternmq.codec.QoS.AT_LEAST_ONCE);
            io.ternmq.broker.testing.RawV5.subscribe(stuck, "slow/big", io.ternmq.codec.QoS.AT_MOST_ONCE);
            Paho5Client fine = v5("fine").subscribe("slow/#", 1);
            Paho5Client pub = v5("pub");
            for (int i = 0; i < 8; i++) {
                pub.publish("slow/acks", "m" + i, 1, false);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> get("/api/v1/slow-subscribers").body().contains(
                    "{\"clientId\":\"no-acks\",\"connected\":true,\"reasons\":[\"queued\",\"inflight_full\"],"
                            + "\"queued\":3,\"inflight\":5,\"maxInflight\":5,\"unwritableSeconds\":0,\"node\":\""
                            + nodeId() + "\"}"));

            org.eclipse.paho.mqttv5.common.MqttMessage big = new org.eclipse.paho.mqttv5.common.MqttMessage(
                    new byte[64 * 1024]);
            big.setQos(0);
            Pattern unwritable = Pattern.compile("\\{\"clientId\":\"stuck\",\"connected\":true,\"reasons\":"
                    + "\\[\"unwritable\"],\"queued\":0,\"inflight\":0,\"maxInflight\":5,"
                    + "\"unwritableSeconds\":(\\d+),\"node\":\"[^\"]+\"}");
            // the client reads nothing: what is written piles up in the socket buffers until Netty's stops taking
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                for (int i = 0; i < 20; i++) {
                    pub.publish("slow/big", big);
                }
                return unwritable.matcher(get("/api/v1/slow-subscribers").body()).find();
            });
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                pub.publish("slow/big", big); // kept full (a buffer the kernel grew must not end the state), gently
                Matcher m = unwritable.matcher(get("/api/v1/slow-subscribers").body());
                return m.find() && Integer.parseInt(m.group(1)) >= 1;
            });
            HttpResponse<String> r = get("/api/v1/slow-subscribers?limit=1");
            assertThat(r.body()).contains("\"no-acks\"").doesNotContain("\"stuck\"").contains("\"next\":\"");
            assertThat(get("/api/v1/slow-subscribers").body()).doesNotContain("\"fine\"");
            assertThat(fine.received()).isNotEmpty();
            assertThat(get("/api/v1/slow-subscribers?limit=1001").statusCode()).isEqualTo(400);
            assertThat(get("/api/v1/slow-subscribers?cursor=!!!").statusCode()).isEqualTo(400);
        }
    }

    // ------------------------------------------------------------------ $SYS

    @Test
    @DisplayName("GET systree: Mosquitto 2.1's flat JSON of $SYS topics and integers, values from a scripted workload")
    void sysTree() {
        Paho5Client a = v5("a").subscribe("x/#", 1);
        v5("b").subscribe("$share/g/y", 0);
        v5("gone", lasting(null, 0)).disconnect();
        await().atMost(Duration.ofSeconds(5))
                .until(() -> get("/api/v1/clients/gone").body().contains("\"connected\":false"));
        v5("p").publish("x/1", "hello", 1, true);
        assertThat(a.next().payload()).isEqualTo("hello");
        HttpResponse<String> r = get("/api/v1/systree");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).startsWith("{\"$SYS/broker/clients/total\":");
        java.util.Map<String, Long> tree = new java.util.LinkedHashMap<>();
        Matcher m = Pattern.compile("\"\\$SYS/broker/([^\"]+)\":(\\d+)").matcher(r.body());
        while (m.find()) {
            tree.put(m.group(1), Long.parseLong(m.group(2)));
        }
        // the keys of Mosquitto 2.1's /api/v1/systree (its test_http_api.py, heap included as with memory tracking)
        assertThat(tree.keySet()).containsExactlyInAnyOrder("clients/total", "clients/maximum",
                "clients/disconnected", "clients/connected", "clients/expired", "messages/stored",
                "store/messages/bytes", "subscriptions/count", "shared_subscriptions/count",
                "retained messages/count", "heap/current", "heap/maximum", "messages/received", "messages/sent",
                "bytes/received", "bytes/sent", "publish/bytes/received", "publish/bytes/sent", "packet/out/count",
                "packet/out/bytes", "connections/socket/count", "publish/messages/dropped",
                "publish/messages/received", "publish/messages/sent", "uptime");
        assertThat(Pattern.compile("\":").matcher(r.body()).results().count()).isEqualTo(25);
        assertThat(tree).containsEntry("clients/total", 4L).containsEntry("clients/connected", 3L)
                .containsEntry("clients/disconnected", 1L).containsEntry("clients/maximum", 3L)
                .containsEntry("subscriptions/count", 2L).containsEntry("shared_subscriptions/count", 1L)
                .containsEntry("retained messages/count", 1L).containsEntry("publish/messages/received", 1L)
                .containsEntry("publish/messages/sent", 1L).containsEntry("publish/bytes/received", 5L)
                .containsEntry("connections/socket/count", 3L).containsEntry("publish/messages/dropped", 0L);
        assertThat(tree.get("heap/current")).isPositive();
        assertThat(tree.get("heap/maximum")).isGreaterThanOrEqualTo(tree.get("heap/current") / 2);
        assertThat(tree.get("bytes/received")).isGreaterThan(tree.get("publish/bytes/received"));
        assertThat(call("POST", "/api/v1/systree", "{}").statusCode()).isEqualTo(405);
    }

    // ------------------------------------------------------------------ topic metrics

    @Test
    @DisplayName("topic-metrics: POST registers a filter, GET counts messages and payload bytes in and out from then "
            + "on (this single node's under nodes), DELETE stops; at most 64")
    void topicMetrics() {
        Paho5Client s1 = v5("s1").subscribe("m/#", 1);
        Paho5Client s2 = v5("s2").subscribe("m/a", 0);
        Paho5Client p = v5("p");
        p.publish("m/a", "before", 1, false); // before any registration: counted nowhere
        s1.next();
        s2.next();
        HttpResponse<String> added = call("POST", "/api/v1/topic-metrics", "{\"filter\":\"m/+\"}");
        assertThat(added.statusCode()).as(added.body()).isEqualTo(201);
        assertThat(added.body()).contains("\"filter\":\"m/+\"", "\"messagesIn\":0,\"bytesIn\":0,"
                + "\"messagesOut\":0,\"bytesOut\":0");
        assertThat(call("POST", "/api/v1/topic-metrics", "{\"filter\":\"m/a\"}").statusCode()).isEqualTo(201);
        assertThat(call("POST", "/api/v1/topic-metrics", "{\"filter\":\"m/+\"}").body())
                .isEqualTo("{\"code\":409,\"message\":\"'m/+' is already registered\"}\n");

        p.publish("m/a", "hello", 1, false); // in: 1 message of 5 bytes; out: to s1 and s2
        p.publish("m/b", "xy", 1, false);    // m/+ only; out: to s1
        p.publish("other", "zzz", 1, false); // neither
        assertThat(s1.next().payload()).isEqualTo("hello");
        assertThat(s1.next().payload()).isEqualTo("xy");
        assertThat(s2.next().payload()).isEqualTo("hello");
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(get("/api/v1/topic-metrics").body())
                .matches("\\{\"topicMetrics\":\\[\\{\"filter\":\"m/\\+\",\"registeredAt\":\"[^\"]+\","
                        + "\"messagesIn\":2,\"bytesIn\":7,\"messagesOut\":3,\"bytesOut\":12,"
                        + "\"nodes\":\\{\"[^\"]+\":\\{\"messagesIn\":2,\"bytesIn\":7,\"messagesOut\":3,\"bytesOut\":12}}},"
                        + "\\{\"filter\":\"m/a\",\"registeredAt\":\"[^\"]+\","
                        + "\"messagesIn\":1,\"bytesIn\":5,\"messagesOut\":2,\"bytesOut\":10,"
                        + "\"nodes\":\\{\"[^\"]+\":\\{\"messagesIn\":1,\"bytesIn\":5,\"messagesOut\":2,\"bytesOut\":10}}}],"
                        + "\"max\":64,\"unanswered\":\\[]}\n"));

        assertThat(call("DELETE", "/api/v1/topic-metrics?filter=m/a", null).statusCode()).isEqualTo(200);
        assertThat(get("/api/v1/topic-metrics").body()).doesNotContain("\"m/a\"");
        assertThat(call("DELETE", "/api/v1/topic-metrics?filter=m/a", null).body())
                .isEqualTo("{\"code\":404,\"message\":\"'m/a' is not registered\"}\n");
        assertThat(call("POST", "/api/v1/topic-metrics", "{\"filter\":\"a/#/b\"}").statusCode()).isEqualTo(400);
        assertThat(call("POST", "/api/v1/topic-metrics", "{\"filter\":7}").statusCode()).isEqualTo(400);
        assertThat(call("POST", "/api/v1/topic-metrics", "filter=a").statusCode()).isEqualTo(400);
        assertThat(call("PUT", "/api/v1/topic-metrics", "{}").statusCode()).isEqualTo(405);
        for (int i = 0; i < 63; i++) {
            assertThat(call("POST", "/api/v1/topic-metrics", "{\"filter\":\"f/" + i + "\"}").statusCode())
                    .isEqualTo(201);
        }
        assertThat(call("POST", "/api/v1/topic-metrics", "{\"filter\":\"f/63\"}").body()).isEqualTo("{\"code\":400,"
                + "\"message\":\"at most 64 topic filters can be registered; DELETE one first\"}\n");
    }

    // ------------------------------------------------------------------ traces

    /** A live view (Server-Sent Events) read line by line on a thread of its own. */
    private static final class LiveView implements AutoCloseable {
        final java.util.concurrent.BlockingQueue<String> lines = new java.util.concurrent.LinkedBlockingQueue<>();
        final HttpResponse<java.io.InputStream> response;
        volatile boolean ended;

        LiveView(AdminHttp admin, String path) {
            response = sendStream(admin, path);
            Thread reader = new Thread(() -> {
                try (java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(
                        response.body(), java.nio.charset.StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    // closed
                }
                ended = true;
            }, "live-view-reader");
            reader.setDaemon(true);
            reader.start();
        }

        private static HttpResponse<java.io.InputStream> sendStream(AdminHttp admin, String path) {
            try {
                return java.net.http.HttpClient.newHttpClient().send(admin.request(path)
                                .header("Authorization", AdminHttp.basic("ops", "secret")).build(),
                        HttpResponse.BodyHandlers.ofInputStream());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        /** The lines read so far, in order. */
        List<String> seen() {
            return List.copyOf(lines);
        }

        @Override
        public void close() throws IOException {
            response.body().close();
        }
    }

    private static String id(HttpResponse<String> started) {
        assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
        Matcher m = Pattern.compile("\"id\":\"([0-9a-f]+)\"").matcher(started.body());
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    @Test
    @DisplayName("traces by client id: CONNECT, SUBSCRIBE, PUBLISH in and out, DISCONNECT, live as Server-Sent "
            + "Events and as a download; DELETE ends the live view")
    void traceByClientId() throws Exception {
        String id = id(call("POST", "/api/v1/traces",
                "{\"clientId\":\"traced\",\"durationSeconds\":600,\"payloads\":true}"));
        try (LiveView live = new LiveView(admin, "/api/v1/traces/" + id + "/live")) {
            assertThat(live.response.statusCode()).isEqualTo(200);
            assertThat(live.response.headers().firstValue("Content-Type")).hasValue("text/event-stream; charset=utf-8");
            Paho5Client traced = v5("traced").subscribe("t/#", 1);
            traced.publish("t/1", "hello", 1, false);
            assertThat(traced.next().payload()).isEqualTo("hello");
            v5("other").publish("t/2", "from other", 1, false);
            assertThat(traced.next().payload()).isEqualTo("from other");
            traced.disconnect();
            await().atMost(Duration.ofSeconds(10)).until(() -> live.seen().contains("event: disconnect"));
            List<String> events = live.seen().stream().filter(l -> l.startsWith("event: ")).toList();
            assertThat(events).containsExactly("event: connect", "event: subscribe", "event: publish_in",
                    "event: publish_out", "event: publish_out", "event: disconnect");
            List<String> data = live.seen().stream().filter(l -> l.startsWith("data: ")).toList();
            assertThat(data.get(0)).contains("\"type\":\"connect\",\"clientId\":\"traced\"", "MQTT 5");
            assertThat(data.get(1)).contains("\"filters\":[\"t/# 1\"]");
            assertThat(data.get(2)).contains("\"type\":\"publish_in\"", "\"topic\":\"t/1\",\"qos\":1,"
                    + "\"retain\":false,\"bytes\":5", "\"payload\":\"hello\"");
            assertThat(data.get(4)).contains("\"type\":\"publish_out\"", "\"payload\":\"from other\"");
            assertThat(data.get(5)).contains("DISCONNECT from the client");
            assertThat(String.join("\n", data)).doesNotContain("\"clientId\":\"other\"");

            HttpResponse<String> download = get("/api/v1/traces/" + id);
            assertThat(download.statusCode()).isEqualTo(200);
            assertThat(download.headers().firstValue("Content-Disposition"))
                    .hasValue("attachment; filename=\"trace-" + id + ".json\"");
            assertThat(download.body()).startsWith("{\"id\":\"" + id + "\",\"clientId\":\"traced\",\"payloads\":true,")
                    .contains("\"running\":true,\"recorded\":6,\"events\":[{\"seq\":1,")
                    .contains("\"seq\":6,");
            assertThat(get("/api/v1/traces").body()).contains("\"id\":\"" + id + "\"");

            assertThat(call("DELETE", "/api/v1/traces/" + id, null).statusCode()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(5)).until(() -> live.ended);
            assertThat(live.seen()).contains("event: end");
        }
        assertThat(get("/api/v1/traces/" + id).statusCode()).isEqualTo(404);
        assertThat(call("DELETE", "/api/v1/traces/" + id, null).statusCode()).isEqualTo(404);
    }

    @Test
    @DisplayName("traces by topic filter (any client, no payloads unless asked) and by IP; a trace ends when its "
            + "time is up; bad input 400, more than 8 at once 409")
    void traceByTopicAndIp() {
        String topicTrace = id(call("POST", "/api/v1/traces", "{\"topic\":\"t/+\",\"durationSeconds\":600}"));
        String ipTrace = id(call("POST", "/api/v1/traces", "{\"ip\":\"127.0.0.1\",\"durationSeconds\":600}"));
        Paho5Client sub = v5("sub").subscribe("t/#", 1);
        Paho5Client pub = v5("pub");
        pub.publish("t/a", "secret", 1, false);
        pub.publish("u/a", "elsewhere", 1, false);
        pub.publish("t/a/deeper", "too deep", 1, false);
        assertThat(sub.next().payload()).isEqualTo("secret");
        assertThat(sub.next().payload()).isEqualTo("too deep");
        await().atMost(Duration.ofSeconds(5)).until(() -> get("/api/v1/traces/" + topicTrace).body()
                .contains("\"recorded\":3"));
        String byTopic = get("/api/v1/traces/" + topicTrace).body();
        // the SUBSCRIBE to t/# overlaps t/+; the PUBLISH in and its delivery; nothing on u/a or t/a/deeper; no
        // connects (they are about clients, not topics); no payloads (not asked for)
        assertThat(byTopic).contains("\"type\":\"subscribe\"", "\"type\":\"publish_in\",\"clientId\":\"pub\"",
                "\"type\":\"publish_out\",\"clientId\":\"sub\"").doesNotContain("u/a", "deeper", "\"connect\"",
                "\"payload\"", "secret");
        String byIp = get("/api/v1/traces/" + ipTrace).body();
        assertThat(byIp).contains("\"ip\":\"127.0.0.1\"", "\"type\":\"connect\",\"clientId\":\"sub\"",
                "\"type\":\"connect\",\"clientId\":\"pub\"", "\"topic\":\"u/a\"");

        String shortTrace = id(call("POST", "/api/v1/traces", "{\"clientId\":\"x\",\"durationSeconds\":1}"));
        try (LiveView live = new LiveView(admin, "/api/v1/traces/" + shortTrace + "/live")) {
            await().atMost(Duration.ofSeconds(10)).until(() -> live.ended);
            assertThat(live.seen()).contains("event: end");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        assertThat(get("/api/v1/traces/" + shortTrace).body()).contains("\"running\":false");

        assertThat(call("POST", "/api/v1/traces", "{}").body()).isEqualTo("{\"code\":400,\"message\":\"give what "
                + "to trace: clientId, topic (a filter) or ip\"}\n");
        assertThat(call("POST", "/api/v1/traces", "{\"clientId\":\"a\",\"ip\":\"127.0.0.1\"}").statusCode())
                .isEqualTo(400);
        assertThat(call("POST", "/api/v1/traces", "{\"clientId\":\"a\",\"durationSeconds\":1801}").body())
                .isEqualTo("{\"code\":400,\"message\":\"durationSeconds must be from 1 to 1800 (30 minutes), "
                        + "not 1801\"}\n");
        assertThat(call("POST", "/api/v1/traces", "{\"clientId\":\"a\",\"durationSeconds\":0}").statusCode())
                .isEqualTo(400);
        assertThat(call("POST", "/api/v1/traces", "{\"clientId\":\"a\",\"payloads\":\"yes\"}").statusCode())
                .isEqualTo(400);
        assertThat(call("POST", "/api/v1/traces", "{\"topic\":\"a/#/b\"}").statusCode()).isEqualTo(400);
        assertThat(call("POST", "/api/v1/traces", "{\"ip\":\"localhost\"}").body()).isEqualTo("{\"code\":400,"
                + "\"message\":\"ip must be an IPv4 or IPv6 address, not 'localhost'\"}\n");
        assertThat(call("POST", "/api/v1/traces", "{\"ip\":\"999.1.1.1\"}").statusCode()).isEqualTo(400);
        assertThat(call("POST", "/api/v1/traces", "{\"clientId\":").statusCode()).isEqualTo(400);
        assertThat(get("/api/v1/traces/0123456789abcdef").statusCode()).isEqualTo(404);
        assertThat(get("/api/v1/traces/" + topicTrace + "/nothing").statusCode()).isEqualTo(404);
        assertThat(call("DELETE", "/api/v1/traces/" + topicTrace + "/live", null).headers().firstValue("Allow"))
                .hasValue("GET");
        assertThat(call("PUT", "/api/v1/traces", "{}").statusCode()).isEqualTo(405);
        // two running and one finished: five more fill the eight; then the finished one makes room; then 409
        for (int i = 0; i < 6; i++) {
            id(call("POST", "/api/v1/traces", "{\"clientId\":\"c" + i + "\"}"));
        }
        assertThat(get("/api/v1/traces/" + shortTrace).statusCode()).isEqualTo(404);
        assertThat(call("POST", "/api/v1/traces", "{\"clientId\":\"one-too-many\"}").body())
                .isEqualTo("{\"code\":409,\"message\":\"at most 8 traces run at once; DELETE one first\"}\n");
    }
}
