package io.ternmq.broker.it.cluster;

import io.ternmq.broker.json.Json;
import io.ternmq.broker.security.PasswordFile;
import io.ternmq.broker.security.PasswordHash;
import io.ternmq.broker.testing.AdminHttp;
import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.broker.testing.TestPki;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.QoS;
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
 * The admin API across a cluster (issue 14, section 5: "every listing covers all nodes"): broker processes, each
 * with its admin listener; the API of node 0 lists the nodes, pages through the clients of all three, finds and
 * kicks a client connected to node 1, sums the counts; lists every node's topics, slow subscribers, alarms and
 * listeners; a node paused or killed does not hold a listing up past its timeout and is named in it, and a killed
 * one leaves the node list; topic metrics and traces made on one node cover every node, a node started later too.
 */
class ClusterAdminApiTest {
    private static final Pattern ADMIN_PORT = Pattern.compile("Admin listener \\(HTTP\\) on 127\\.0\\.0\\.1:(\\d+)");
    @TempDir
    Path dir;
    private ClusterHarness cluster;
    private final List<Paho5Client> clients = new ArrayList<>();
    private final List<RawClient> rawClients = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void stop() {
        for (Paho5Client c : clients) {
            c.close();
        }
        rawClients.forEach(RawClient::close);
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

    /** A raw MQTT 5 client of node {@code node}, not connected yet. */
    private RawClient raw(int node) {
        RawClient c = new RawClient(cluster.node(node).mqttPort()).version(MqttVersion.MQTT_5);
        rawClients.add(c);
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
        cluster = ClusterHarness.start(3, "listener 0 127.0.0.1", "protocol http_api", "password_file "
                + passwordFile());

        // nodes: every member, this one marked, each with its MQTT address and its links up
        Map<Integer, String> nodeOfPort = new HashMap<>();
        awaitLinks();
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

    private String passwordFile() throws Exception {
        Path passwd = dir.resolve("admin.passwd");
        PasswordFile pf = PasswordFile.empty();
        pf.put(new PasswordFile.Entry("ops", PasswordHash.hash("secret".toCharArray(), 1000), null));
        pf.save(passwd);
        return passwd.toString();
    }

    /** Waits until node 0 sees every other member's data link up and its routes received. */
    private void awaitLinks() {
        cluster.awaitCondition("node 0 to see every data link up and routes received", Duration.ofSeconds(30), () -> {
            try {
                Answer nodes = call(0, "GET", "/api/v1/nodes");
                return nodes.status() == 200 && list(nodes.body(), "nodes").stream()
                        .filter(n -> !(Boolean) n.get("self"))
                        .allMatch(n -> Boolean.TRUE.equals(n.get("linkUp"))
                                && Boolean.TRUE.equals(n.get("routesReceived")));
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
    }

    /** The id of each node of the harness, in harness order: the member whose MQTT addresses hold its port. */
    @SuppressWarnings("unchecked")
    private List<String> nodeIds(int size) throws Exception {
        List<Map<String, Object>> members = list(call(0, "GET", "/api/v1/nodes").body(), "nodes");
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            String port = ":" + cluster.node(i).mqttPort();
            ids.add(members.stream()
                    .filter(n -> ((List<String>) n.get("mqtt")).stream().anyMatch(a -> a.endsWith(port)))
                    .map(n -> (String) n.get("node")).findFirst().orElseThrow());
        }
        return ids;
    }

    /** A topic's {@code nodes} as the API lists them (in node id order), printed. */
    private static String subscribers(Object... nodeThenCount) {
        Map<String, Long> m = new java.util.TreeMap<>();
        for (int i = 0; i < nodeThenCount.length; i += 2) {
            m.put((String) nodeThenCount[i], ((Integer) nodeThenCount[i + 1]).longValue());
        }
        return m.toString();
    }

    /** Every page of a paged listing from node 0, {@code limit} rows a page: "value-of-key node" per row. */
    private List<String> walk(String path, String key, String field, int limit) throws Exception {
        List<String> rows = new ArrayList<>();
        String cursor = null;
        do {
            Answer page = call(0, "GET", path + (path.contains("?") ? "&" : "?") + "limit=" + limit
                    + (cursor == null ? "" : "&cursor=" + cursor));
            assertThat(page.status()).as(page.body().toString()).isEqualTo(200);
            assertThat(list(page.body(), "unanswered")).isEmpty();
            for (Map<String, Object> row : list(page.body(), key)) {
                rows.add(row.get(field) + " " + (row.containsKey("node") ? row.get("node") : row.get("nodes")));
            }
            cursor = (String) page.body().get("next");
        } while (cursor != null);
        return rows;
    }

    @Test
    @DisplayName("node 0's API lists topics (one row per topic: subscribers summed, each node's named; another node's "
            + "routes are not counted twice), slow subscribers (real clients not acknowledging, on both nodes), alarms "
            + "(a certificate expiring on each node) and listeners of every node (one without an admin listener too), "
            + "each row naming its node, node= filtering; with node 1 paused each answers in time with the others' "
            + "rows and names node 1 unanswered")
    void operationsListingsCoverEveryNode() throws Exception {
        TestPki.Issued soon = TestPki.create(dir).server("soon", Duration.ofDays(3));
        String admin = String.join("\n", "listener 0 127.0.0.1", "protocol http_api",
                "password_file " + passwordFile());
        cluster = ClusterHarness.start(2, 1, "max_inflight_messages 5", "sys_interval 0",
                "listener 0 127.0.0.1", "certfile " + soon.certFile(), "keyfile " + soon.keyFile(), admin);
        // node 2 has no admin listener: it answers the others all the same
        ClusterHarness.Node third = cluster.startSpare(config -> config.replace(admin, ""));
        cluster.awaitServing(third, Duration.ofSeconds(60));
        cluster.awaitCondition("node 0 to list three members", Duration.ofSeconds(30), () -> {
            try {
                return list(call(0, "GET", "/api/v1/nodes").body(), "nodes").size() == 3;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        awaitLinks();
        assertThat(third.logText()).doesNotContain("Admin listener");
        List<String> ids = nodeIds(3);
        String node0 = ids.get(0);
        String node1 = ids.get(1);
        String node2 = ids.get(2);

        // topics: subscribed on either node or both, a shared group on node 1, a retained message (on every node)
        connect(0, "on-0").subscribe("both/t", 1).subscribe("only/0", 0);
        connect(1, "on-1").subscribe("both/t", 0).subscribe("$share/g/jobs", 1);
        Paho5Client publisher = connect(0, "publisher");
        publisher.publish("kept/r", "retained", 1, true);
        assertThat(walk("/api/v1/topics", "topics", "topic", 100)).containsExactly(
                "both/t " + subscribers(node0, 1, node1, 1), "jobs " + subscribers(node1, 1), "kept/r {}",
                "only/0 " + subscribers(node0, 1));
        Answer topics = call(0, "GET", "/api/v1/topics");
        assertThat(list(topics.body(), "topics").get(0)).containsEntry("subscribers", 2L);
        assertThat(list(topics.body(), "topics").get(2)).containsEntry("retained", true)
                .containsEntry("retainedBytes", 8L).containsEntry("subscribers", 0L);
        assertThat(walk("/api/v1/topics", "topics", "topic", 1)).as("pages of one").hasSize(4);
        assertThat(walk("/api/v1/topics?node=" + node1, "topics", "topic", 2)).containsExactly(
                "both/t " + subscribers(node1, 1), "jobs " + subscribers(node1, 1), "kept/r {}");

        // slow subscribers: on each node a client that acknowledges nothing, its window (5) full, 3 queued
        RawClient slowA = raw(0);
        RawClient slowB = raw(1);
        for (RawClient c : List.of(slowA, slowB)) {
            assertThat(RawV5.connack(c, RawV5.connect(c == slowA ? "slow-a" : "slow-b")).reasonCode())
                    .isZero();
            assertThat(RawV5.subscribe(c, "slow/acks", QoS.AT_LEAST_ONCE)).containsExactly(1);
        }
        for (int i = 0; i < 8; i++) {
            publisher.publish("slow/acks", "m" + i, 1, false);
        }
        cluster.awaitCondition("both slow subscribers listed by node 0", Duration.ofSeconds(20), () -> {
            try {
                return walk("/api/v1/slow-subscribers", "slowSubscribers", "clientId", 100)
                        .equals(List.of("slow-a " + node0, "slow-b " + node1));
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        Answer slow = call(0, "GET", "/api/v1/slow-subscribers");
        assertThat(list(slow.body(), "slowSubscribers")).allSatisfy(s -> assertThat(s)
                .containsEntry("queued", 3L).containsEntry("inflight", 5L)
                .containsEntry("reasons", List.of("queued", "inflight_full")));
        assertThat(walk("/api/v1/slow-subscribers", "slowSubscribers", "clientId", 1))
                .containsExactly("slow-a " + node0, "slow-b " + node1);
        assertThat(walk("/api/v1/slow-subscribers?node=" + node1, "slowSubscribers", "clientId", 10))
                .containsExactly("slow-b " + node1);

        // listeners: each node's plain and TLS listener; alarms: each node's TLS certificate, 3 days left (node 2's
        // too, checked when asked)
        Answer listeners = call(0, "GET", "/api/v1/listeners");
        assertThat(list(listeners.body(), "unanswered")).isEmpty();
        List<Map<String, Object>> rows = list(listeners.body(), "listeners");
        List<String> byNode = new ArrayList<>();
        ids.stream().sorted().forEach(id -> byNode.addAll(List.of(id + " tcp", id + " tls")));
        assertThat(rows).extracting(l -> l.get("node") + " " + l.get("transport")).containsExactlyElementsOf(byNode);
        Map<String, Object> tcp1 = rows.stream().filter(l -> l.get("node").equals(node1)).findFirst().orElseThrow();
        assertThat(tcp1).containsEntry("port", (long) cluster.node(1).mqttPort());
        Answer alarms = call(0, "GET", "/api/v1/alarms");
        assertThat(list(alarms.body(), "unanswered")).isEmpty();
        List<String> expiring = new ArrayList<>();
        for (Map<String, Object> l : rows) {
            if (l.get("transport").equals("tls")) {
                expiring.add(l.get("node") + " certificate listener 127.0.0.1:" + l.get("port"));
            }
        }
        assertThat(list(alarms.body(), "alarms")).extracting(a -> a.get("node") + " " + a.get("name") + " "
                + a.get("subject")).containsExactlyElementsOf(expiring);
        assertThat(list(call(0, "GET", "/api/v1/alarms?node=" + node2).body(), "alarms"))
                .extracting(a -> a.get("node")).containsExactly(node2);
        assertThat(list(call(1, "GET", "/api/v1/listeners?node=" + node0).body(), "listeners"))
                .extracting(a -> a.get("node")).containsExactly(node0, node0);
        for (String path : List.of("topics", "slow-subscribers", "alarms", "listeners")) {
            assertThat(call(0, "GET", "/api/v1/" + path + "?node=no-such-node").status()).isEqualTo(404);
        }

        // node 1 paused (SIGSTOP): each listing answers after the node timeout with the others' rows, naming node 1
        signal("STOP", 1);
        try {
            for (String[] listing : new String[][] {{"topics", "topics"}, {"slow-subscribers", "slowSubscribers"},
                    {"alarms", "alarms"}, {"listeners", "listeners"}}) {
                Answer paused = call(0, "GET", "/api/v1/" + listing[0]);
                assertThat(paused.status()).isEqualTo(200);
                if (list(paused.body(), "unanswered").isEmpty()) {
                    // a loaded machine can stall the heartbeats long enough for the membership to drop node 1
                    assertThat(list(call(0, "GET", "/api/v1/nodes").body(), "nodes")).as("no longer a member")
                            .extracting(n -> n.get("node")).doesNotContain(node1);
                    continue;
                }
                assertThat(list(paused.body(), "unanswered")).extracting(m -> m.get("node")).containsExactly(node1);
                assertThat(paused.millis()).as(listing[0] + " waited no more than the node timeout and some slack")
                        .isLessThan(6000L);
                assertThat(list(paused.body(), listing[1])).as(listing[0]).isNotEmpty().allSatisfy(r ->
                        assertThat(r.containsKey("node") ? List.of(r.get("node"))
                                : new ArrayList<Object>(((Map<?, ?>) r.get("nodes")).keySet())).doesNotContain(node1));
            }
        } finally {
            signal("CONT", 1);
        }
    }

    /** A live view (Server-Sent Events) of node {@code node}'s admin API, read line by line on a thread of its own. */
    private final class LiveView implements AutoCloseable {
        final java.util.concurrent.BlockingQueue<String> lines = new java.util.concurrent.LinkedBlockingQueue<>();
        final java.util.concurrent.CompletableFuture<HttpResponse<java.util.stream.Stream<String>>> response;
        volatile boolean ended;

        LiveView(int node, String path) throws Exception {
            HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort(node) + path))
                    .header("Authorization", AdminHttp.basic("ops", "secret")).build();
            response = http.sendAsync(r, HttpResponse.BodyHandlers.ofLines());
            Thread reader = new Thread(() -> {
                try {
                    response.join().body().forEach(lines::add);
                } catch (RuntimeException e) {
                    // closed
                }
                ended = true;
            }, "live-view-reader");
            reader.setDaemon(true);
            reader.start();
        }

        /** The data of each event of that type read so far, in order. */
        List<String> data(String type) {
            List<String> seen = List.copyOf(lines);
            List<String> out = new ArrayList<>();
            for (int i = 0; i + 1 < seen.size(); i++) {
                if (seen.get(i).equals("event: " + type) && seen.get(i + 1).startsWith("data: ")) {
                    out.add(seen.get(i + 1).substring(6));
                }
            }
            return out;
        }

        @Override
        public void close() {
            response.thenAccept(r -> r.body().close());
        }
    }

    private Map<String, Object> topicMetric(int node, String filter) throws Exception {
        Answer a = call(node, "GET", "/api/v1/topic-metrics");
        assertThat(a.status()).as(a.body().toString()).isEqualTo(200);
        return list(a.body(), "topicMetrics").stream().filter(m -> m.get("filter").equals(filter)).findFirst()
                .orElse(null);
    }

    @SuppressWarnings("unchecked")
    private static long nodeFigure(Map<String, Object> metric, String node, String figure) {
        Map<String, Object> n = (Map<String, Object>) ((Map<String, Object>) metric.get("nodes")).get(node);
        return n == null ? -1 : ((Number) n.get(figure)).longValue();
    }

    @SuppressWarnings("unchecked")
    private static java.util.Set<String> metricNodes(Map<String, Object> metric) {
        return metric == null ? java.util.Set.of() : ((Map<String, Object>) metric.get("nodes")).keySet();
    }

    private List<String> traceIds(int node) throws Exception {
        return list(call(node, "GET", "/api/v1/traces").body(), "traces").stream().map(t -> (String) t.get("id"))
                .toList();
    }

    @Test
    @DisplayName("topic metrics and traces cover every node: a filter registered on node 0 counts what is published on "
            + "nodes 1 and 2 and on a node started after the registration (summed, each node's figures named), 409 on "
            + "another node, DELETE on node 1 stops it everywhere; a trace started on node 0 for a client of node 1 "
            + "shows its CONNECT and PUBLISH live and in the download on node 0, each naming node 1; the late node "
            + "picks the running trace up; DELETE on node 2 stops it everywhere and ends the live view; a paused node "
            + "holds no other node's events up and is named unanswered")
    void topicMetricsAndTracesCoverEveryNode() throws Exception {
        cluster = ClusterHarness.start(3, 1, "listener 0 127.0.0.1", "protocol http_api", "password_file "
                + passwordFile());
        awaitLinks();
        List<String> ids = nodeIds(3);

        // a topic metric registered on node 0 reaches every node
        Answer registered = call(0, "POST", "/api/v1/topic-metrics", "{\"filter\":\"m/#\"}");
        assertThat(registered.status()).as(registered.body().toString()).isEqualTo(201);
        assertThat(call(1, "POST", "/api/v1/topic-metrics", "{\"filter\":\"m/#\"}").status())
                .as("registered in the cluster already").isEqualTo(409);
        cluster.awaitCondition("every node to count m/#", Duration.ofSeconds(20), () -> {
            try {
                return metricNodes(topicMetric(0, "m/#")).containsAll(ids);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        Paho5Client subscriber = connect(0, "metric-subscriber").subscribe("m/#", 1);
        Paho5Client pub1 = connect(1, "pub-on-1");
        Paho5Client pub2 = connect(2, "pub-on-2");
        for (int i = 0; i < 3; i++) {
            pub1.publish("m/1", "abc", 1, false);
        }
        for (int i = 0; i < 2; i++) {
            pub2.publish("m/2", "abcde", 1, false);
        }
        pub1.publish("other", "not counted", 1, false);
        for (int i = 0; i < 5; i++) {
            assertThat(subscriber.poll(10_000)).as("message " + i + " delivered on node 0").isNotNull();
        }
        cluster.awaitCondition("node 0 to sum what nodes 1 and 2 received", Duration.ofSeconds(20), () -> {
            try {
                Map<String, Object> m = topicMetric(0, "m/#");
                return ((Number) m.get("messagesIn")).longValue() == 5 && ((Number) m.get("messagesOut")).longValue() == 5;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        Map<String, Object> metric = topicMetric(0, "m/#");
        assertThat(metric).containsEntry("bytesIn", 19L).containsEntry("bytesOut", 19L);
        assertThat(nodeFigure(metric, ids.get(1), "messagesIn")).isEqualTo(3);
        assertThat(nodeFigure(metric, ids.get(2), "messagesIn")).isEqualTo(2);
        assertThat(nodeFigure(metric, ids.get(0), "messagesIn")).isZero();
        assertThat(nodeFigure(metric, ids.get(0), "messagesOut")).as("written to node 0's subscriber").isEqualTo(5);
        assertThat(list(call(2, "GET", "/api/v1/topic-metrics?node=" + ids.get(1)).body(), "topicMetrics"))
                .singleElement().satisfies(m -> assertThat(m).containsEntry("messagesIn", 3L));

        // a trace started on node 0 for a client that connects to node 1
        Answer started = call(0, "POST", "/api/v1/traces", "{\"clientId\":\"traced\",\"durationSeconds\":600,"
                + "\"payloads\":true}");
        assertThat(started.status()).as(started.body().toString()).isEqualTo(201);
        String trace = (String) started.body().get("id");
        cluster.awaitCondition("every node to keep the trace", Duration.ofSeconds(20), () -> {
            try {
                return traceIds(1).contains(trace) && traceIds(2).contains(trace);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        try (LiveView live = new LiveView(0, "/api/v1/traces/" + trace + "/live")) {
            Paho5Client traced = connect(1, "traced");
            traced.publish("traced/x", "hello from node 1", 1, false);
            cluster.awaitCondition("node 0's live view to show the client's CONNECT and PUBLISH on node 1",
                    Duration.ofSeconds(20), () -> !live.data("connect").isEmpty()
                            && !live.data("publish_in").isEmpty());
            assertThat(Json.parseObject(live.data("connect").get(0))).containsEntry("node", ids.get(1))
                    .containsEntry("clientId", "traced");
            assertThat(Json.parseObject(live.data("publish_in").get(0))).containsEntry("node", ids.get(1))
                    .containsEntry("topic", "traced/x").containsEntry("payload", "hello from node 1");
            Answer download = call(0, "GET", "/api/v1/traces/" + trace);
            assertThat(download.status()).isEqualTo(200);
            assertThat(list(download.body(), "events")).extracting(e -> e.get("type") + " " + e.get("node"))
                    .containsExactly("connect " + ids.get(1), "publish_in " + ids.get(1));
            assertThat(download.body()).containsEntry("recorded", 2L);
            assertThat(list(download.body(), "unanswered")).isEmpty();
            assertThat(list(call(0, "GET", "/api/v1/traces").body(), "traces")).singleElement()
                    .satisfies(t -> assertThat(t).containsEntry("recorded", 2L));

            // a node started now picks up the topic metric and the running trace
            ClusterHarness.Node late = cluster.startSpare();
            cluster.awaitServing(late, Duration.ofSeconds(60));
            cluster.awaitCondition("node 0 to list four members", Duration.ofSeconds(30), () -> {
                try {
                    return list(call(0, "GET", "/api/v1/nodes").body(), "nodes").size() == 4;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            String lateId = nodeIds(4).get(3);
            assertThat(traceIds(3)).containsExactly(trace);
            assertThat(metricNodes(topicMetric(3, "m/#"))).contains(lateId);
            Paho5Client pub3 = connect(3, "pub-on-3");
            pub3.publish("m/3", "late", 1, false);
            pub3.publish("m/3", "later", 1, false);
            cluster.awaitCondition("node 0 to count what the late node received", Duration.ofSeconds(20), () -> {
                try {
                    Map<String, Object> m = topicMetric(0, "m/#");
                    return nodeFigure(m, lateId, "messagesIn") == 2 && ((Number) m.get("messagesIn")).longValue() == 7;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            // the traced client moves to the late node: its CONNECT there shows in node 0's live view
            traced.disconnect();
            connect(3, "traced");
            cluster.awaitCondition("node 0's live view to show the CONNECT on the late node", Duration.ofSeconds(20),
                    () -> live.data("connect").stream().anyMatch(d -> d.contains("\"node\":\"" + lateId + "\"")));

            // DELETE on node 1: no node counts m/# any more
            assertThat(call(1, "DELETE", "/api/v1/topic-metrics?filter=m%2F%23").status()).isEqualTo(200);
            cluster.awaitCondition("no node to count m/#", Duration.ofSeconds(20), () -> {
                try {
                    for (int n = 0; n < 4; n++) {
                        if (topicMetric(n, "m/#") != null
                                || !list(call(n, "GET", "/api/v1/topic-metrics?node=" + ids.get(0)).body(),
                                "topicMetrics").isEmpty()) {
                            return false;
                        }
                    }
                    return true;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            assertThat(call(2, "DELETE", "/api/v1/topic-metrics?filter=m%2F%23").status()).isEqualTo(404);

            // DELETE of the trace on node 2: it stops everywhere, and node 0's live view ends
            assertThat(call(2, "DELETE", "/api/v1/traces/" + trace).status()).isEqualTo(200);
            cluster.awaitCondition("node 0's live view to end", Duration.ofSeconds(20), () -> live.ended);
            assertThat(live.lines).contains("event: end");
            cluster.awaitCondition("no node to keep the trace", Duration.ofSeconds(20), () -> {
                try {
                    for (int n = 0; n < 4; n++) {
                        if (!traceIds(n).isEmpty()) {
                            return false;
                        }
                    }
                    return true;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            assertThat(call(0, "GET", "/api/v1/traces/" + trace).status()).isEqualTo(404);
        }

        // a paused node (SIGSTOP) holds nobody's events up: a PUBLISH on the late node reaches node 0's live view
        // before the paused node's question times out (2 s), and the view names the paused node once
        Answer topicTrace = call(0, "POST", "/api/v1/traces", "{\"topic\":\"p/#\",\"durationSeconds\":600}");
        assertThat(topicTrace.status()).isEqualTo(201);
        String second = (String) topicTrace.body().get("id");
        cluster.awaitCondition("the late node to keep the second trace", Duration.ofSeconds(20), () -> {
            try {
                return traceIds(3).contains(second) && traceIds(1).contains(second);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        Paho5Client pub3 = connect(3, "pub-on-3-again");
        try (LiveView live = new LiveView(0, "/api/v1/traces/" + second + "/live")) {
            cluster.awaitCondition("the live view open", Duration.ofSeconds(20),
                    () -> live.lines.stream().anyMatch(l -> l.startsWith(": trace")));
            signal("STOP", 1);
            try {
                pub3.publish("p/x", "while node 1 sleeps", 1, false);
                cluster.awaitCondition("the PUBLISH on the late node in node 0's live view", Duration.ofSeconds(20),
                        () -> !live.data("publish_in").isEmpty());
                cluster.awaitCondition("node 1 named unanswered (or dropped from the membership)",
                        Duration.ofSeconds(30), () -> {
                            try {
                                return !live.data("unanswered").isEmpty() || list(call(0, "GET", "/api/v1/nodes")
                                        .body(), "nodes").stream().noneMatch(n -> n.get("node").equals(ids.get(1)));
                            } catch (Exception e) {
                                throw new AssertionError(e);
                            }
                        });
                List<String> lines = List.copyOf(live.lines);
                if (lines.contains("event: unanswered")) {
                    assertThat(lines.indexOf("event: publish_in")).as("the late node's event did not wait for the "
                            + "paused node: " + lines).isLessThan(lines.indexOf("event: unanswered"));
                    assertThat(live.data("unanswered")).singleElement()
                            .satisfies(d -> assertThat(Json.parseObject(d)).containsEntry("node", ids.get(1)));
                }
            } finally {
                signal("CONT", 1);
            }
        }
    }
}
