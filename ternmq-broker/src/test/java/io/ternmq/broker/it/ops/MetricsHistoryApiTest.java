package io.ternmq.broker.it.ops;

import io.ternmq.broker.config.AdminListenerConfig;
import io.ternmq.broker.security.PasswordFile;
import io.ternmq.broker.security.PasswordHash;
import io.ternmq.broker.testing.AdminHttp;
import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.TestBroker;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
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
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code GET /api/v1/metrics/history} against a real broker (RocksDB, fsync) sampling every second on its admin
 * loop: a scripted workload of Paho v5 clients, then the samples must add up to exactly what the clients did.
 */
class MetricsHistoryApiTest {
    @TempDir
    Path dir;
    private TestBroker broker;
    private AdminHttp admin;
    private final List<Paho5Client> clients = new ArrayList<>();

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
    void stop() {
        for (Paho5Client c : clients) {
            c.close();
        }
        broker.close();
    }

    private String history(String window) {
        HttpResponse<String> r = admin.as("ops", "secret", "GET", "/api/v1/metrics/history"
                + (window == null ? "" : "?window=" + window), null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return r.body();
    }

    /** The values of a series ("name":[...]) in a history answer; null entries as -1. */
    private static long[] series(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\\[([^\\]]*)]").matcher(json);
        assertThat(m.find()).as(name + " in " + json).isTrue();
        if (m.group(1).isEmpty()) {
            return new long[0];
        }
        return Arrays.stream(m.group(1).split(",")).mapToLong(v -> v.equals("null") ? -1
                : (long) Math.ceil(Double.parseDouble(v))).toArray();
    }

    private static long sum(long[] values) {
        return Arrays.stream(values).sum();
    }

    private Paho5Client client(String id, MqttConnectionOptions o) {
        Paho5Client c = Paho5Client.connect(broker, id, o);
        clients.add(c);
        return c;
    }

    @Test
    @DisplayName("PUBLISH and drops per second add up to the workload; connections, heap and sync p99 are sampled")
    void samplesFollowAScriptedWorkload() {
        MqttConnectionOptions persistent = Paho5Client.options(false);
        persistent.setSessionExpiryInterval(600L);
        Paho5Client subscriber = client("history-sub", persistent).subscribe("work/#", 1);
        MqttConnectionOptions small = Paho5Client.options(true);
        small.setMaximumPacketSize(64L);
        client("history-small", small).subscribe("big/#", 0);
        Paho5Client publisher = client("history-pub", Paho5Client.options(true));
        for (int i = 0; i < 40; i++) {
            publisher.publish("work/" + i, "m" + i, 1, false);
        }
        for (int i = 0; i < 3; i++) {
            publisher.publish("big/x", "x".repeat(200), 0, false); // over the receiver's Maximum Packet Size
        }
        for (int i = 0; i < 40; i++) {
            subscriber.next();
        }
        // every sample's counts are what grew in its second: the 15 minutes hold all of it, once
        await("history counting the workload").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                .untilAsserted(() -> {
                    String h = history(null);
                    assertThat(sum(series(h, "publishIn"))).isEqualTo(43);
                    assertThat(sum(series(h, "publishOut"))).isEqualTo(40);
                    assertThat(sum(series(h, "too_large"))).isEqualTo(3);
                    assertThat(sum(series(h, "queue_full"))).isZero();
                    long[] connections = series(h, "connections");
                    assertThat(connections[connections.length - 1]).isEqualTo(3);
                    long[] clientsNow = series(h, "clients");
                    assertThat(clientsNow[clientsNow.length - 1]).isEqualTo(3);
                    // the subscriber's stored QoS 1 queue was synced (RocksDB, fsync): some second has a p99
                    assertThat(sum(series(h, "syncs"))).isPositive();
                    assertThat(Arrays.stream(series(h, "syncP99Ms")).max().orElse(-1)).isPositive();
                });
        String h = history(null);
        long[] time = series(h, "time");
        assertThat(time.length).isBetween(1, 900);
        assertThat(Arrays.stream(series(h, "heapUsed")).allMatch(v -> v > 0)).isTrue();
        assertThat(series(h, "bytesIn")).hasSize(time.length);
        for (int i = 1; i < time.length; i++) {
            assertThat(time[i]).isGreaterThan(time[i - 1]);
        }
        assertThat(h).contains("\"intervalSeconds\":1", "\"windowSeconds\":900", "\"heapMaxBytes\":",
                "\"drops\":{\"queue_full\":[");
        // bytes: the history's total is the broker's counter once the clients are quiet
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            String stats = admin.as("ops", "secret", "GET", "/api/v1/stats", null).body();
            Matcher in = Pattern.compile("\"bytesReceived\":(\\d+)").matcher(stats);
            assertThat(in.find()).isTrue();
            assertThat(sum(series(history(null), "bytesIn"))).isEqualTo(Long.parseLong(in.group(1)));
        });
    }

    @Test
    @DisplayName("window: the last N seconds of samples; 90s and 1m are accepted")
    void windowLimitsTheSamples() {
        await().atMost(Duration.ofSeconds(20)).until(() -> series(history(null), "time").length >= 3);
        assertThat(series(history("2s"), "time")).hasSize(2);
        assertThat(history("2s")).contains("\"windowSeconds\":2");
        assertThat(series(history("1m"), "time").length).isBetween(3, 60);
        assertThat(history("90s")).contains("\"windowSeconds\":90");
    }

    @Test
    @DisplayName("a bad window gets 400 naming it; the history needs credentials")
    void badWindowIs400() {
        for (String bad : new String[] {"0s", "16m", "901s", "15", "abc", "5h", "-1m", ""}) {
            HttpResponse<String> r = admin.as("ops", "secret", "GET", "/api/v1/metrics/history?window=" + bad, null);
            assertThat(r.statusCode()).as(bad).isEqualTo(400);
            assertThat(r.body()).contains("\"code\":400", "window must be from 1s to 15m", "'" + bad + "'");
        }
        assertThat(admin.send(admin.request("/api/v1/metrics/history")).statusCode()).isEqualTo(401);
        assertThat(admin.as("ops", "secret", "POST", "/api/v1/metrics/history", "{}").statusCode()).isEqualTo(405);
    }
}
