package io.ternmq.broker.it.ops;

import io.ternmq.broker.config.AdminListenerConfig;
import io.ternmq.broker.security.PasswordFile;
import io.ternmq.broker.security.PasswordHash;
import io.ternmq.broker.testing.AdminHttp;
import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.PahoClient;
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
 * The admin REST API ({@code /api/v1}) against a real broker: java.net.http for the API, Paho v3/v5 clients for what
 * the broker does (a kick's reason code, a will, an admin publish, a retained delete, an added subscription).
 */
class AdminApiTest {
    @TempDir
    Path dir;
    private TestBroker broker;
    private AdminHttp admin;
    private final List<AutoCloseable> clients = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        Path passwd = dir.resolve("passwd");
        PasswordFile pf = PasswordFile.empty();
        pf.put(new PasswordFile.Entry("ops", PasswordHash.hash("secret".toCharArray(), 1000), null));
        pf.save(passwd);
        broker = TestBroker.start(b -> b.adminListener(new AdminListenerConfig("127.0.0.1", 0, passwd, false)));
        admin = new AdminHttp(broker);
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

    private Paho5Client v5(String id, MqttConnectionOptions o) {
        Paho5Client c = Paho5Client.connect(broker, id, o);
        clients.add(c);
        return c;
    }

    private Paho5Client v5(String id) {
        return v5(id, Paho5Client.options(true));
    }

    private static long number(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":(\\d+)").matcher(json);
        assertThat(m.find()).as(key + " in " + json).isTrue();
        return Long.parseLong(m.group(1));
    }

    @Test
    @DisplayName("GET status: version, uptime and the counts of connections, sessions, subscriptions, retained")
    void status() {
        v5("a").subscribe("s/#", 1);
        v5("b").publish("kept", "x", 1, true);
        HttpResponse<String> r = get("/api/v1/status");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.body()).contains("\"version\":\"").contains("\"uptimeSeconds\":");
        assertThat(number(r.body(), "connections")).isEqualTo(2);
        assertThat(number(r.body(), "sessions")).isEqualTo(2);
        assertThat(number(r.body(), "subscriptions")).isEqualTo(1);
        assertThat(number(r.body(), "retained")).isEqualTo(1);
    }

    @Test
    @DisplayName("GET stats: the counters move with what clients do")
    void stats() {
        long before = number(get("/api/v1/stats").body(), "publishesReceived");
        Paho5Client c = v5("counter");
        for (int i = 0; i < 3; i++) {
            c.publish("t", "x", 1, false);
        }
        HttpResponse<String> r = get("/api/v1/stats");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(number(r.body(), "publishesReceived")).isEqualTo(before + 3);
        assertThat(r.body()).contains("\"dropped\":{");
    }

    @Test
    @DisplayName("GET clients: filters like, connected, ip; pages of `limit` follow `next` through every client")
    void clientsListAndPaging() {
        for (int i = 0; i < 5; i++) {
            v5("page-" + i);
        }
        MqttConnectionOptions keep = Paho5Client.options(false);
        keep.setSessionExpiryInterval(600L);
        v5("gone", keep).disconnect();
        HttpResponse<String> all = get("/api/v1/clients");
        assertThat(all.statusCode()).isEqualTo(200);
        assertThat(all.body()).contains("\"clientId\":\"gone\",\"connected\":false")
                .contains("\"next\":null");
        HttpResponse<String> online = get("/api/v1/clients?connected=true&like=page-&ip=127.0.0.1");
        assertThat(Pattern.compile("\"clientId\":").matcher(online.body()).results().count()).isEqualTo(5);
        assertThat(get("/api/v1/clients?connected=false").body()).contains("\"gone\"").doesNotContain("page-");
        assertThat(get("/api/v1/clients?ip=10.9.9.9").body()).startsWith("{\"clients\":[]");

        List<String> seen = new ArrayList<>();
        String cursor = "";
        do {
            HttpResponse<String> page = get("/api/v1/clients?like=page-&limit=2&cursor=" + cursor);
            assertThat(page.statusCode()).isEqualTo(200);
            Matcher ids = Pattern.compile("\"clientId\":\"([^\"]+)\"").matcher(page.body());
            List<String> got = ids.results().map(m -> m.group(1)).toList();
            assertThat(got.size()).isBetween(1, 2);
            seen.addAll(got);
            Matcher next = Pattern.compile("\"next\":\"([^\"]+)\"").matcher(page.body());
            cursor = next.find() ? next.group(1) : null;
        } while (cursor != null);
        assertThat(seen).containsExactly("page-0", "page-1", "page-2", "page-3", "page-4");
    }

    @Test
    @DisplayName("GET clients/{id}: a percent-encoded UTF-8 id with '/'; address, protocol, expiry, subscriptions")
    void clientDetail() {
        String id = "dev/küche 1";
        MqttConnectionOptions o = Paho5Client.options(true);
        o.setSessionExpiryInterval(120L);
        v5(id, o).subscribe("a/b", 1);
        HttpResponse<String> r = get("/api/v1/clients/" + AdminHttp.segment(id));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains("\"clientId\":\"dev/küche 1\"", "\"connected\":true",
                "\"address\":\"127.0.0.1:", "\"protocol\":\"5.0\"", "\"expiryInterval\":120",
                "\"subscriptions\":1", "\"inflight\":0", "\"queued\":0");
        try (PahoClient v3 = PahoClient.connect(broker, "old", true)) {
            assertThat(get("/api/v1/clients/old").body()).contains("\"protocol\":\"3.1.1\"");
        }
        HttpResponse<String> unknown = get("/api/v1/clients/nobody");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).isEqualTo("{\"code\":404,\"message\":\"no client 'nobody'\"}\n");
    }

    private MqttConnectionOptions withWill(String topic, String payload) {
        MqttConnectionOptions o = Paho5Client.options(true);
        o.setWill(topic, Paho5Client.message(payload, 1, false, new MqttProperties()));
        return o;
    }

    @Test
    @DisplayName("DELETE clients/{id}: MQTT 5 gets DISCONNECT 0x98 and the will is published [MQTT-3.1.2-8]")
    void kickPublishesWill() {
        Paho5Client watcher = v5("watcher").subscribe("will/#", 1);
        Paho5Client victim = v5("victim", withWill("will/victim", "gone"));
        HttpResponse<String> r = call("DELETE", "/api/v1/clients/victim", null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(5)).until(() -> victim.disconnected() != null);
        assertThat(victim.disconnected().getReturnCode()).isEqualTo(0x98);
        assertThat(watcher.next().payload()).isEqualTo("gone");
        // the session did not outlive its connection (expiry 0): gone
        await().atMost(Duration.ofSeconds(5))
                .until(() -> get("/api/v1/clients/victim").statusCode() == 404);
        assertThat(call("DELETE", "/api/v1/clients/victim", null).statusCode()).isEqualTo(404);
    }

    @Test
    @DisplayName("DELETE clients/{id}?will=false: no will; session=discard ends a lasting session, keep keeps it")
    void kickWithoutWillAndSessionChoice() {
        Paho5Client watcher = v5("watcher").subscribe("will/#", 1);
        MqttConnectionOptions o = withWill("will/quiet", "should-not-appear");
        o.setSessionExpiryInterval(600L);
        Paho5Client quiet = v5("quiet", o);
        assertThat(call("DELETE", "/api/v1/clients/quiet?will=false", null).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(5)).until(() -> quiet.disconnected() != null);
        assertThat(quiet.disconnected().getReturnCode()).isEqualTo(0x98);
        // the session stays (session=keep is the default), offline
        await().atMost(Duration.ofSeconds(5))
                .until(() -> get("/api/v1/clients/quiet").body().contains("\"connected\":false"));
        // a marker published after the kick is the first thing the watcher gets: no will came before it
        v5("marker").publish("will/marker", "after", 1, false);
        assertThat(watcher.next().payload()).isEqualTo("after");

        MqttConnectionOptions lasting = Paho5Client.options(true);
        lasting.setSessionExpiryInterval(600L);
        Paho5Client gone = v5("discarded", lasting);
        HttpResponse<String> r = call("DELETE", "/api/v1/clients/discarded?session=discard", null);
        assertThat(r.body()).contains("\"sessionDiscarded\":true");
        await().atMost(Duration.ofSeconds(5)).until(() -> gone.disconnected() != null);
        await().atMost(Duration.ofSeconds(5))
                .until(() -> get("/api/v1/clients/discarded").statusCode() == 404);
        // an offline session can be discarded too
        assertThat(call("DELETE", "/api/v1/clients/quiet?session=discard", null).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(5)).until(() -> get("/api/v1/clients/quiet").statusCode() == 404);
    }

    @Test
    @DisplayName("clients/{id}/subscriptions: POST adds one the client then receives on, GET lists, DELETE removes")
    void clientSubscriptions() {
        Paho5Client c = v5("sub-me");
        String path = "/api/v1/clients/sub-me/subscriptions";
        HttpResponse<String> added = call("POST", path, "{\"filter\":\"admin/+\",\"qos\":1}");
        assertThat(added.statusCode()).as(added.body()).isEqualTo(201);
        assertThat(get(path).body()).contains("\"filter\":\"admin/+\",\"qos\":1");
        v5("pub").publish("admin/x", "hello", 1, false);
        assertThat(c.next().payload()).isEqualTo("hello");
        assertThat(call("DELETE", path + "?filter=" + AdminHttp.segment("admin/+"), null).statusCode())
                .isEqualTo(200);
        assertThat(get(path).body()).contains("\"subscriptions\":[]");
        assertThat(call("DELETE", path + "?filter=admin/%2B", null).statusCode()).isEqualTo(404);
        assertThat(call("POST", path, "{\"filter\":\"a/#/b\"}").statusCode()).isEqualTo(400);
        assertThat(call("POST", path, "{\"filter\":\"a\",\"qos\":3}").statusCode()).isEqualTo(400);
        assertThat(call("POST", "/api/v1/clients/nobody/subscriptions", "{\"filter\":\"a\"}").statusCode())
                .isEqualTo(404);
        assertThat(call("GET", "/api/v1/clients/nobody/subscriptions", null).statusCode()).isEqualTo(404);
    }

    @Test
    @DisplayName("POST publish: a subscriber gets text or base64 payloads with QoS and MQTT 5 properties")
    void publish() {
        Paho5Client sub = v5("listener").subscribe("ops/#", 1);
        HttpResponse<String> r = call("POST", "/api/v1/publish", "{\"topic\":\"ops/a\",\"payload\":\"héllo\","
                + "\"qos\":1,\"properties\":{\"contentType\":\"text/plain\",\"messageExpiryInterval\":60,"
                + "\"userProperties\":{\"who\":\"admin\"}}}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains("\"matched\":1");
        Paho5Client.Received got = sub.next();
        assertThat(got.topic()).isEqualTo("ops/a");
        assertThat(got.payload()).isEqualTo("héllo");
        assertThat(got.message().getQos()).isEqualTo(1);
        assertThat(got.properties().getContentType()).isEqualTo("text/plain");
        assertThat(got.properties().getUserProperties()).anyMatch(u -> u.getKey().equals("who")
                && u.getValue().equals("admin"));
        call("POST", "/api/v1/publish", "{\"topic\":\"ops/bin\",\"payloadBase64\":\"AAEC/w==\"}");
        assertThat(sub.next().message().getPayload()).containsExactly(0, 1, 2, 0xff);
    }

    @Test
    @DisplayName("retained: published with retain, listed, shown; DELETE clears it and subscribers see the clear")
    void retained() {
        Paho5Client sub = v5("listener").subscribe("r/#", 1);
        call("POST", "/api/v1/publish", "{\"topic\":\"r/one\",\"payload\":\"kept\",\"qos\":1,\"retain\":true}");
        assertThat(sub.next().payload()).isEqualTo("kept");
        call("POST", "/api/v1/publish", "{\"topic\":\"r/two\",\"payloadBase64\":\"/w==\",\"retain\":true}");
        sub.next();
        HttpResponse<String> list = get("/api/v1/retained?filter=r/%23");
        assertThat(list.body()).contains("\"topic\":\"r/one\",\"qos\":1,\"bytes\":4,\"payload\":\"kept\"")
                .contains("\"topic\":\"r/two\",\"qos\":0,\"bytes\":1,\"payloadBase64\":\"/w==\"")
                .contains("\"total\":2");
        assertThat(get("/api/v1/retained?filter=r/%23&limit=1").body()).contains("r/one").doesNotContain("r/two");
        assertThat(get("/api/v1/retained/" + AdminHttp.segment("r/one")).body()).contains("\"payload\":\"kept\"");
        assertThat(get("/api/v1/retained/r/one").body()).contains("\"payload\":\"kept\"");

        assertThat(call("DELETE", "/api/v1/retained/" + AdminHttp.segment("r/one"), null).statusCode())
                .isEqualTo(200);
        Paho5Client.Received clear = sub.next();
        assertThat(clear.topic()).isEqualTo("r/one");
        assertThat(clear.message().getPayload()).isEmpty();
        assertThat(get("/api/v1/retained/r/one").statusCode()).isEqualTo(404);
        Paho5Client late = v5("late").subscribe("r/#", 1);
        assertThat(late.next().topic()).isEqualTo("r/two"); // only the one left
        v5("marker").publish("r/marker", "m", 1, false);
        assertThat(late.next().topic()).isEqualTo("r/marker"); // and nothing before it
        assertThat(call("DELETE", "/api/v1/retained/r/one", null).statusCode()).isEqualTo(404);
    }

    @Test
    @DisplayName("GET subscriptions: every client's, in client then filter order, `like` on the filter, paged")
    void subscriptions() {
        v5("s1").subscribe("b/1", 0).subscribe("a/#", 1);
        v5("s2").subscribe("$share/g/jobs", 2);
        HttpResponse<String> all = get("/api/v1/subscriptions");
        assertThat(all.statusCode()).isEqualTo(200);
        assertThat(all.body()).contains("{\"subscriptions\":[{\"clientId\":\"s1\",\"filter\":\"a/#\",\"qos\":1")
                .contains("{\"clientId\":\"s2\",\"filter\":\"$share/g/jobs\",\"qos\":2")
                .contains("\"next\":null");
        assertThat(get("/api/v1/subscriptions?like=jobs").body()).contains("s2").doesNotContain("\"s1\"");
        List<String> seen = new ArrayList<>();
        String cursor = "";
        do {
            HttpResponse<String> page = get("/api/v1/subscriptions?limit=1&cursor=" + cursor);
            Matcher f = Pattern.compile("\"filter\":\"([^\"]+)\"").matcher(page.body());
            seen.addAll(f.results().map(m -> m.group(1)).toList());
            Matcher next = Pattern.compile("\"next\":\"([^\"]+)\"").matcher(page.body());
            cursor = next.find() ? next.group(1) : null;
        } while (cursor != null);
        assertThat(seen).containsExactly("a/#", "b/1", "$share/g/jobs");
        assertThat(get("/api/v1/subscriptions?limit=1001").statusCode()).isEqualTo(400);
    }

    @Test
    @DisplayName("GET listeners: each MQTT listener with its bound port, transport and open connections")
    void listeners() {
        v5("one");
        HttpResponse<String> r = get("/api/v1/listeners");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("{\"address\":\"127.0.0.1\",\"port\":" + broker.port()
                + ",\"transport\":\"tcp\"").contains("\"connections\":1");
    }
}
