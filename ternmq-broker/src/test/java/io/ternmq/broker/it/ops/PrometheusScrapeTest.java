package io.ternmq.broker.it.ops;

import io.ternmq.broker.config.AdminListenerConfig;
import io.ternmq.broker.security.PasswordFile;
import io.ternmq.broker.security.PasswordHash;
import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.broker.testing.TestPki;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code GET /metrics} scraped with a real HTTP client after a scripted workload: Prometheus' own checker accepts
 * it, the names and labels are docs/operations.md's, and the values are the workload's.
 */
class PrometheusScrapeTest {
    private static final Path PROMTOOL = Path.of("/usr/bin/promtool");
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*\\})? (\\S+)$");

    @TempDir
    Path dir;

    private TestBroker start() throws IOException {
        Path passwd = dir.resolve("passwd");
        PasswordFile pf = PasswordFile.empty();
        pf.put(new PasswordFile.Entry("ops", PasswordHash.hash("secret".toCharArray(), 1000), null));
        pf.save(passwd);
        return TestBroker.start(b -> b.adminListener(new AdminListenerConfig("127.0.0.1", 0, passwd, true)));
    }

    private static String scrape(TestBroker broker) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                        "http://127.0.0.1:" + broker.broker().admin().address().getPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    /** name{labels} → value, for every sample line. */
    private static Map<String, Double> samples(String text) {
        Map<String, Double> all = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertThat(m.matches()).as(line).isTrue();
            all.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), Double.parseDouble(m.group(3)));
        }
        return all;
    }

    @Test
    @DisplayName("/metrics after a workload: every listed name, its labels, values that follow the workload")
    void namesLabelsAndValues() throws Exception {
        int clients = 4;
        int messages = 30;
        try (TestBroker broker = start()) {
            List<PahoClient> open = new ArrayList<>();
            try {
                for (int i = 0; i < clients; i++) {
                    open.add(PahoClient.connect(broker, "c" + i, true));
                }
                open.get(0).subscribe("m/#", 1);
                for (int i = 0; i < messages; i++) {
                    open.get(1).publish("m/" + i, new byte[50], 1, i == 0);
                }
                for (int i = 0; i < messages; i++) {
                    open.get(0).next();
                }
                int port = broker.port();
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                    Map<String, Double> s = samples(scrape(broker));
                    assertThat(s).containsEntry("ternmq_clients_connected", (double) clients)
                            .containsEntry("ternmq_clients_maximum", (double) clients)
                            .containsEntry("ternmq_connections{listener=\"127.0.0.1:" + port + "\",transport=\"tcp\"}",
                                    (double) clients)
                            .containsEntry("ternmq_connections_accepted_total", (double) clients)
                            .containsEntry("ternmq_connections_refused_total", 0.0)
                            .containsEntry("ternmq_sessions{state=\"online\"}", (double) clients)
                            .containsEntry("ternmq_sessions{state=\"offline\"}", 0.0)
                            .containsEntry("ternmq_messages_received_total{qos=\"1\"}", (double) messages)
                            .containsEntry("ternmq_messages_received_total{qos=\"0\"}", 0.0)
                            .containsEntry("ternmq_messages_sent_total{qos=\"1\"}", (double) messages)
                            .containsEntry("ternmq_packets_received_total{type=\"publish\"}", (double) messages)
                            .containsEntry("ternmq_packets_received_total{type=\"puback\"}", (double) messages)
                            .containsEntry("ternmq_packets_received_total{type=\"connect\"}", (double) clients)
                            .containsEntry("ternmq_packets_received_total{type=\"subscribe\"}", 1.0)
                            .containsEntry("ternmq_packets_sent_total{type=\"puback\"}", (double) messages)
                            .containsEntry("ternmq_packets_sent_total{type=\"connack\"}", (double) clients)
                            .containsEntry("ternmq_packets_sent_total{type=\"suback\"}", 1.0)
                            .containsEntry("ternmq_subscriptions", 1.0)
                            .containsEntry("ternmq_retained_messages", 1.0)
                            .containsEntry("ternmq_retained_bytes", 50.0)
                            .containsEntry("ternmq_messages_inflight", 0.0)
                            .containsEntry("ternmq_messages_queued", 0.0)
                            .containsEntry("ternmq_auth_total{result=\"success\"}", (double) clients)
                            .containsEntry("ternmq_auth_total{result=\"failure\"}", 0.0)
                            .containsEntry("ternmq_authz_denied_total{action=\"publish\"}", 0.0)
                            .containsEntry("ternmq_messages_dropped_total{reason=\"queue_full\"}", 0.0)
                            .containsEntry("ternmq_disconnects_total{reason=\"protocol_error\"}", 0.0)
                            .containsEntry("ternmq_tls_handshake_failures_total", 0.0)
                            // a single node: the cluster's counters are there, at zero
                            .containsEntry("ternmq_cluster_forwarded_messages_total{direction=\"sent\"}", 0.0)
                            .containsEntry("ternmq_cluster_forwarded_bytes_total{direction=\"received\"}", 0.0)
                            .containsEntry("ternmq_cluster_sessions_moved_total{direction=\"handed_over\"}", 0.0)
                            .containsEntry("ternmq_cluster_takeovers_refused_total", 0.0)
                            .containsEntry("ternmq_cluster_link_frames_refused_total", 0.0)
                            .containsEntry("ternmq_cluster_backups_in_sync", 1.0) // nothing to back up
                            .containsEntry("ternmq_cluster_acknowledgements_await_backups", 0.0)
                            .containsKey("ternmq_store_sync_seconds_count")
                            .containsKey("ternmq_store_sync_seconds_bucket{le=\"0.001\"}")
                            .containsKey("ternmq_netty_direct_memory_used_bytes")
                            .containsKey("jvm_memory_used_bytes{area=\"heap\",id=\"G1 Eden Space\"}")
                            .containsKey("process_uptime_seconds");
                    // a PUBLISH's bytes: more than its payloads; the CONNECTs, SUBSCRIBE and PUBACKs besides
                    assertThat(s.get("ternmq_bytes_received_total")).isGreaterThan(messages * 50.0);
                    assertThat(s.get("ternmq_bytes_sent_total")).isGreaterThan(messages * 50.0);
                    // the default store syncs each group of writes: the QoS 1 messages were synced
                    assertThat(s.get("ternmq_store_sync_seconds_count")).isPositive();
                });
                String text = scrape(broker);
                // Micrometer strips "_info" from gauges: this one is registered as an info metric
                assertThat(text).containsPattern("(?m)^ternmq_build_info\\{commit=\"[^\"]+\",version=\"0\\.1\\.0-SNAPSHOT\"\\} 1(\\.0)?$");
                // no client id as a label value (a bare "c0" may be part of the commit hash in build_info)
                assertThat(text).doesNotContain("client_id").doesNotContain("topic=").doesNotContain("\"c0\"");
            } finally {
                open.forEach(PahoClient::close);
            }
        }
    }

    @Test
    @DisplayName("a TLS listener: its certificate's expiry time, failed handshakes counted")
    void tlsListener() throws Exception {
        TestPki pki = TestPki.create(dir);
        TestPki.Issued server = pki.server("localhost");
        Path passwd = dir.resolve("passwd");
        PasswordFile.empty().save(passwd);
        try (TestBroker broker = TestBroker.start(b -> b.listener("127.0.0.1", 0,
                        l -> l.certificate(server.certFile(), server.keyFile()).allowAnonymous(true))
                .adminListener(new AdminListenerConfig("127.0.0.1", 0, passwd, true)))) {
            int tlsPort = broker.broker().addresses().get(1).getPort();
            try (java.net.Socket plain = new java.net.Socket("127.0.0.1", tlsPort)) {
                plain.getOutputStream().write("not a TLS hello at all".getBytes(StandardCharsets.US_ASCII));
                plain.setSoTimeout(5000);
                assertThat(plain.getInputStream().readAllBytes()).isNotNull(); // closed by the broker
            }
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                Map<String, Double> s = samples(scrape(broker));
                assertThat(s).containsEntry("ternmq_tls_certificate_expiry_timestamp_seconds{listener=\"127.0.0.1:"
                        + tlsPort + "\"}", (double) server.certificate().getNotAfter().toInstant().getEpochSecond())
                        .containsEntry("ternmq_tls_handshake_failures_total", 1.0)
                        .containsEntry("ternmq_connections{listener=\"127.0.0.1:" + tlsPort + "\",transport=\"tls\"}",
                                0.0);
            });
        }
    }

    @Test
    @DisplayName("promtool check metrics accepts a scrape")
    void promtoolAcceptsTheScrape() throws Exception {
        assumeThat(Files.isExecutable(PROMTOOL)).as(PROMTOOL + " is not installed: apt-get install -y prometheus "
                + "(.ci/run does)").isTrue();
        try (TestBroker broker = start(); PahoClient c = PahoClient.connect(broker, "c", true)) {
            c.subscribe("x", 1);
            c.publish("x", "y", 1, false);
            c.next();
            Path scraped = dir.resolve("scrape.txt");
            Files.writeString(scraped, scrape(broker));
            Process p = new ProcessBuilder(PROMTOOL.toString(), "check", "metrics").redirectErrorStream(true)
                    .redirectInput(scraped.toFile()).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(out).isEmpty();
            assertThat(p.exitValue()).as(out).isZero();
        }
    }
}
