package io.ternmq.broker.it.cluster;

import io.ternmq.broker.json.Json;
import io.ternmq.broker.security.PasswordFile;
import io.ternmq.broker.security.PasswordHash;
import io.ternmq.broker.testing.AdminHttp;
import io.ternmq.broker.testing.Paho5Client;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The admin API across a cluster (issue 14, section 5: "every listing covers all nodes"): three broker processes,
 * each with its admin listener; the API of node 0 lists the nodes, pages through the clients of all three, finds and
 * kicks a client connected to node 1, sums the counts; a node killed with SIGKILL does not hold a listing up past its
 * timeout and leaves the node list.
 */
class ClusterAdminApiTest {
    private static final Pattern ADMIN_PORT = Pattern.compile("Admin listener \\(HTTP\\) on 127\\.0\\.0\\.1:(\\d+)");
    @TempDir
    Path dir;
    private ClusterHarness cluster;
    private final List<Paho5Client> clients = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stop() {
        for (Paho5Client c : clients) {
            c.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private int adminPort(int node) {
        Matcher m = ADMIN_PORT.matcher(cluster.node(node).logText());
        assertThat(m.find()).as("node " + node + " logged its admin port; " + cluster.logs()).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private record Answer(int status, Map<String, Object> body, long millis) {
    }

    private Answer call(int node, String method, String path) throws Exception {
        return call(node, method, path, null);
    }

    private Answer call(int node, String method, String path, String json) throws Exception {
        HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort(node) + path))
                .timeout(Duration.ofSeconds(20)).header("Authorization", AdminHttp.basic("ops", "secret"))
                .header("Content-Type", "application/json")
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(json)).build();
        long t0 = System.nanoTime();
        HttpResponse<String> response = http.send(r, HttpResponse.BodyHandlers.ofString());
        return new Answer(response.statusCode(), Json.parseObject(response.body()),
                (System.nanoTime() - t0) / 1_000_000);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Map<String, Object> body, String key) {
        return (List<Map<String, Object>>) body.get(key);
    }

    private Paho5Client connect(int node, String id) {
        Paho5Client c = Paho5Client.connect(cluster.node(node).uri(), id, Paho5Client.options(true));
        clients.add(c);
        return c;
    }

    private void signal(String name, int node) throws Exception {
        assertThat(new ProcessBuilder("kill", "-" + name, Long.toString(cluster.node(node).process().pid()))
                .inheritIO().start().waitFor()).isZero();
    }

    @Test
    @DisplayName("node 0's API: nodes lists the three members; clients pages through the clients of every node in "
            + "client id order, each with its node; a client on node 1 is shown and kicked (it gets DISCONNECT 0x98); "
            + "status sums the nodes' counts; after a SIGKILL listings answer within their timeout and the node leaves "
            + "the list")
    void adminApiCoversEveryNode() throws Exception {
        Path passwd = dir.resolve("admin.passwd");
        PasswordFile pf = PasswordFile.empty();
        pf.put(new PasswordFile.Entry("ops", PasswordHash.hash("secret".toCharArray(), 1000), null));
        pf.save(passwd);
        cluster = ClusterHarness.start(3, "listener 0 127.0.0.1", "protocol http_api", "password_file " + passwd);

        // nodes: every member, this one marked, each with its MQTT address and its links up
        Map<Integer, String> nodeOfPort = new HashMap<>();
        cluster.awaitCondition("node 0 to see both data links up and routes received", Duration.ofSeconds(30), () -> {
            try {
                Answer nodes = call(0, "GET", "/api/v1/nodes");
                return nodes.status() == 200 && list(nodes.body(), "nodes").stream()
                        .filter(n -> !(Boolean) n.get("self"))
                        .allMatch(n -> Boolean.TRUE.equals(n.get("linkUp")) && Boolean.TRUE.equals(n.get("routesReceived")));
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        Answer nodes = call(0, "GET", "/api/v1/nodes");
        assertThat(nodes.body()).containsEntry("clustered", true);
        List<Map<String, Object>> members = list(nodes.body(), "nodes");
        assertThat(members).as(nodes.body().toString()).hasSize(3);
        assertThat(members).filteredOn(n -> (Boolean) n.get("self")).hasSize(1);
        for (Map<String, Object> n : members) {
            assertThat(n).as(n.toString()).doesNotContainKey("error").containsEntry("member", true)
                    .containsKeys("version", "uptimeSeconds", "connections", "sessions", "subscriptions", "admin");
            @SuppressWarnings("unchecked")
            List<String> mqtt = (List<String>) n.get("mqtt");
            assertThat(mqtt).hasSize(1);
            nodeOfPort.put(Integer.parseInt(mqtt.get(0).substring(mqtt.get(0).lastIndexOf(':') + 1)),
                    (String) n.get("node"));
        }
        List<String> ids = members.stream().map(n -> (String) n.get("node")).toList();
        assertThat(ids).as("node id order").isSorted();
        String node0 = nodeOfPort.get(cluster.node(0).mqttPort());
        String node1 = nodeOfPort.get(cluster.node(1).mqttPort());
        String node2 = nodeOfPort.get(cluster.node(2).mqttPort());
        assertThat(List.of(node0, node1, node2)).doesNotContainNull().doesNotHaveDuplicates();
        assertThat(members).filteredOn(n -> (Boolean) n.get("self")).first().extracting(n -> n.get("node"))
                .isEqualTo(node0);

        // clients on every node
        Map<String, String> expected = new java.util.TreeMap<>();
        for (int i = 0; i < 7; i++) {
            int node = i % 3;
            String id = "c" + i + "-on-" + node;
            connect(node, id);
            expected.put(id, List.of(node0, node1, node2).get(node));
        }
        Paho5Client victim = connect(1, "victim-on-1");
        expected.put("victim-on-1", node1);

        // pages of 3 from node 0 walk them all, in client id order, each with the node holding it
        Map<String, String> walked = new java.util.LinkedHashMap<>();
        String cursor = null;
        int pages = 0;
        do {
            Answer page = call(0, "GET", "/api/v1/clients?limit=3" + (cursor == null ? "" : "&cursor=" + cursor));
            assertThat(page.status()).isEqualTo(200);
            assertThat(list(page.body(), "unanswered")).isEmpty();
            for (Map<String, Object> c : list(page.body(), "clients")) {
                assertThat(walked.put((String) c.get("clientId"), (String) c.get("node"))).isNull();
                assertThat(c).containsEntry("connected", true);
            }
            cursor = (String) page.body().get("next");
            pages++;
        } while (cursor != null);
        assertThat(walked).containsExactlyEntriesOf(expected);
        assertThat(pages).isEqualTo(3);
        // one node's clients only
        Answer onNode2 = call(0, "GET", "/api/v1/clients?node=" + node2);
        assertThat(list(onNode2.body(), "clients")).extracting(c -> c.get("clientId"))
                .containsExactly("c2-on-2", "c5-on-2");

        // one client on another node: found through the session directory
        Answer one = call(0, "GET", "/api/v1/clients/victim-on-1");
        assertThat(one.status()).isEqualTo(200);
        assertThat(one.body()).containsEntry("node", node1).containsEntry("connected", true)
                .containsEntry("clientId", "victim-on-1");
        victim.subscribe("victim/#", 1);
        Answer subs = call(0, "GET", "/api/v1/clients/victim-on-1/subscriptions");
        assertThat(subs.status()).isEqualTo(200);
        assertThat(list(subs.body(), "subscriptions")).extracting(s -> s.get("filter")).containsExactly("victim/#");
        assertThat(call(0, "GET", "/api/v1/clients/nobody-anywhere").status()).isEqualTo(404);
        // a subscription added and removed from node 0, on node 1's session: it receives what it matches
        Answer added = call(0, "POST", "/api/v1/clients/victim-on-1/subscriptions", "{\"filter\":\"added/+\",\"qos\":1}");
        assertThat(added.status()).as(added.body().toString()).isEqualTo(201);
        clients.get(0).publish("added/x", "to the victim", 1, false);
        Paho5Client.Received got = victim.poll(10_000);
        assertThat(got).isNotNull();
        assertThat(got.topic()).isEqualTo("added/x");
        assertThat(call(0, "DELETE", "/api/v1/clients/victim-on-1/subscriptions?filter=added%2F%2B").status())
                .isEqualTo(200);
        assertThat(call(0, "DELETE", "/api/v1/clients/victim-on-1/subscriptions?filter=added%2F%2B").status())
                .isEqualTo(404);
        assertThat(call(0, "POST", "/api/v1/clients/nobody-anywhere/subscriptions", "{\"filter\":\"a\"}").status())
                .isEqualTo(404);

        // status: the sessions of all three nodes, and each node's
        Answer status = call(0, "GET", "/api/v1/status");
        assertThat(((Number) status.body().get("sessions")).longValue()).isEqualTo(expected.size());
        assertThat(((Number) status.body().get("subscriptions")).longValue()).as(status.body().toString())
                .isEqualTo(1);
        assertThat(list(status.body(), "nodes")).extracting(n -> n.get("node")).containsExactlyElementsOf(ids);
        Answer stats = call(0, "GET", "/api/v1/stats");
        assertThat(list(stats.body(), "nodes")).hasSize(3);

        // the kick of a client on node 1 from node 0: MQTT 5 DISCONNECT 0x98 Administrative action
        Answer kick = call(0, "DELETE", "/api/v1/clients/victim-on-1");
        assertThat(kick.status()).as(kick.body().toString()).isEqualTo(200);
        assertThat(kick.body()).containsEntry("node", node1).containsEntry("kicked", true);
        cluster.awaitCondition("the victim to be disconnected", Duration.ofSeconds(20),
                () -> victim.disconnected() != null);
        assertThat(victim.disconnected().getReturnCode()).isEqualTo(0x98);
        assertThat(call(0, "DELETE", "/api/v1/clients/victim-on-1").status()).isEqualTo(404);
        expected.remove("victim-on-1");
        assertThat(call(0, "GET", "/api/v1/clients?node=no-such-node").status()).isEqualTo(404);

        // subscriptions of every node, pages of 2 in (client id, filter) order
        clients.get(0).subscribe("s/0", 1); // c0-on-0
        clients.get(1).subscribe("s/1b", 1); // c1-on-1
        clients.get(1).subscribe("s/1a", 0);
        clients.get(2).subscribe("s/2", 1); // c2-on-2
        List<String> subscriptions = new ArrayList<>();
        cursor = null;
        do {
            Answer page = call(0, "GET", "/api/v1/subscriptions?limit=2" + (cursor == null ? "" : "&cursor=" + cursor));
            assertThat(page.status()).isEqualTo(200);
            for (Map<String, Object> sub : list(page.body(), "subscriptions")) {
                subscriptions.add(sub.get("clientId") + " " + sub.get("filter") + " " + sub.get("node"));
            }
            cursor = (String) page.body().get("next");
        } while (cursor != null);
        assertThat(subscriptions).containsExactly("c0-on-0 s/0 " + node0, "c1-on-1 s/1a " + node1,
                "c1-on-1 s/1b " + node1, "c2-on-2 s/2 " + node2);

        // node 2 paused (SIGSTOP): still a member, it cannot answer; the listing answers after the 2 s node timeout
        // with the others' clients, naming it
        signal("STOP", 2);
        Answer paused = call(0, "GET", "/api/v1/clients");
        assertThat(paused.status()).isEqualTo(200);
        assertThat(list(paused.body(), "clients")).extracting(c -> c.get("node")).doesNotContain(node2)
                .contains(node0, node1);
        if (list(paused.body(), "unanswered").isEmpty()) {
            // a loaded machine can stall the heartbeats long enough for the membership to drop the paused node first
            assertThat(list(call(0, "GET", "/api/v1/nodes").body(), "nodes")).as("no longer a member")
                    .extracting(n -> n.get("node")).doesNotContain(node2);
        } else {
            assertThat(list(paused.body(), "unanswered")).extracting(m -> m.get("node")).containsExactly(node2);
            assertThat(paused.millis()).as("waited for the paused node no more than its timeout and some slack: "
                    + paused.body()).isLessThan(6000L);
        }

        // then SIGKILL: listings answer within their timeout (2 s) meanwhile, naming it while it is still a member
        cluster.node(2).process().destroyForcibly().waitFor();
        Answer during = call(0, "GET", "/api/v1/clients");
        assertThat(during.status()).isEqualTo(200);
        assertThat(during.millis()).as("answered within the 2 s node timeout, and some slack").isLessThan(6000);
        List<Map<String, Object>> missing = list(during.body(), "unanswered");
        assertThat(missing).allSatisfy(m -> assertThat(m).containsEntry("node", node2));
        assertThat(list(during.body(), "clients")).extracting(c -> c.get("clientId"))
                .contains("c0-on-0", "c1-on-1", "c3-on-0", "c4-on-1", "c6-on-0");
        Answer nodesDuring = call(0, "GET", "/api/v1/nodes");
        assertThat(nodesDuring.status()).isEqualTo(200);
        assertThat(nodesDuring.millis()).isLessThan(6000);
        cluster.awaitCondition("node 2 to leave node 0's node list", Duration.ofSeconds(60), () -> {
            try {
                return list(call(0, "GET", "/api/v1/nodes").body(), "nodes").stream()
                        .map(n -> n.get("node")).toList().equals(ids.stream().filter(i -> !i.equals(node2)).toList());
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        Answer after = call(0, "GET", "/api/v1/clients");
        assertThat(list(after.body(), "unanswered")).isEmpty();
        assertThat(list(after.body(), "clients")).extracting(c -> c.get("clientId"))
                .containsExactly("c0-on-0", "c1-on-1", "c3-on-0", "c4-on-1", "c6-on-0");
    }
}
