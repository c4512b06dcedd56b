package io.ternmq.broker.it.cluster;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Broker processes that start without a cluster: off by default, and refused on a bad cluster configuration. */
class ClusterStartupTest {

    @Test
    @DisplayName("with the cluster off, a broker process loads no Hazelcast class, its admin API's node and client "
            + "listings included")
    void clusterOffLoadsNoHazelcast(@TempDir Path dir) throws Exception {
        int[] ports = ClusterHarness.freePorts(2);
        int port = ports[0];
        Path passwd = dir.resolve("admin.passwd");
        io.ternmq.broker.security.PasswordFile pf = io.ternmq.broker.security.PasswordFile.empty();
        pf.put(new io.ternmq.broker.security.PasswordFile.Entry("ops",
                io.ternmq.broker.security.PasswordHash.hash("secret".toCharArray(), 1000), null));
        pf.save(passwd);
        Path config = dir.resolve("single.conf");
        Files.writeString(config, "listener " + port + " 127.0.0.1\nallow_anonymous true\ndata_dir " + dir.resolve("data")
                + "\nstorage.type memory\nlistener " + ports[1] + " 127.0.0.1\nprotocol http_api\npassword_file " + passwd
                + "\n");
        Path log = dir.resolve("single.log");
        Path classes = dir.resolve("classes.log");
        Process p = ClusterHarness.startProcess(config, log, "-Xlog:class+load=info:file=" + classes);
        try {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                    return true;
                } catch (IOException e) {
                    return false;
                }
            });
            // a client session exercises subscribe and publish, the paths the cluster hooks into
            try (var c = io.ternmq.broker.testing.Paho5Client.connect("tcp://127.0.0.1:" + port, "single",
                    io.ternmq.broker.testing.Paho5Client.options(true))) {
                c.subscribe("t", 1);
                c.publish("t", "x", 1, false);
                assertThat(c.poll(5_000)).isNotNull();
                // the listings that ask every node in a cluster: this node only, one entry
                java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
                for (String path : List.of("nodes", "clients", "clients/single", "clients/single/subscriptions",
                        "status", "stats", "clients/nobody")) {
                    java.net.http.HttpResponse<String> r = http.send(java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create("http://127.0.0.1:" + ports[1] + "/api/v1/" + path))
                            .header("Authorization", io.ternmq.broker.testing.AdminHttp.basic("ops", "secret"))
                            .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                    assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(path.equals("clients/nobody")
                            ? 404 : 200);
                    if (path.equals("nodes")) {
                        assertThat(r.body()).contains("\"clustered\":false").contains("\"self\":true")
                                .contains("127.0.0.1:" + port);
                    }
                }
            }
        } finally {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
            p.destroyForcibly();
        }
        String loaded = Files.readString(classes, StandardCharsets.UTF_8);
        assertThat(loaded).as("the class loading log " + classes).contains("io.ternmq.broker.Broker ");
        assertThat(loaded.lines().filter(l -> l.contains("com.hazelcast")).findFirst())
                .as("a Hazelcast class loaded with the cluster off; broker log " + log).isEmpty();
    }

    @Test
    @DisplayName("a bad cluster configuration: the process exits 2 with one line naming file, line and key")
    void badClusterConfigExitsTwo(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("bad.conf");
        Files.writeString(config, "listener 1883 127.0.0.1\ncluster.enabled true\ncluster.bind 127.0.0.1:7001\n"
                + "cluster.members 127.0.0.1:7001,127.0.0.1:7002\ncluster.secret 0123456789abcdef\n"
                + "cluster.min_members 3\n");
        Path log = dir.resolve("bad.log");
        Process p = ClusterHarness.startProcess(config, log);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String out = Files.readString(log, StandardCharsets.UTF_8).strip();
        assertThat(p.exitValue()).as(out).isEqualTo(2);
        assertThat(out).isEqualTo("ternmq: " + config + ":6: cluster.min_members: 3 is more than the 2 members of "
                + "cluster.members and cluster.bind");
    }
}
