package io.ternmq.broker.it.cluster;

import org.awaitility.core.ConditionTimeoutException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;

/**
 * Broker processes forming a cluster on 127.0.0.1: each its own JVM ({@code -Xmx256m}), data directory, config file,
 * MQTT port and membership port (distinct, random). {@link #start} waits until every node logs that it sees all
 * members and has its data links up. Failure messages name the logs ({@link #logs()}), which stay under
 * {@code target/cluster-logs} after the run.
 * <p>
 * The ports are picked free beforehand (every node must know the others' membership ports), so another process can
 * take one before a node binds it: {@link #start} then starts the whole cluster again on fresh ports, up to
 * {@link #ATTEMPTS} times.
 */
final class ClusterHarness implements AutoCloseable {
    static final String SECRET = "harness-secret-0123456789";
    static final int ATTEMPTS = 3;
    private static final Pattern LINK_PORT = Pattern.compile("data link on [^:]+:(\\d+)");

    /** One broker process. */
    record Node(int index, int mqttPort, int clusterPort, Path dataDir, Path config, Path log, Process process) {
        String uri() {
            return "tcp://127.0.0.1:" + mqttPort;
        }

        String logText() {
            try {
                return Files.readString(log, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        }

        /** The data-link port the node logged. */
        int linkPort() {
            Matcher m = LINK_PORT.matcher(logText());
            if (!m.find()) {
                throw new AssertionError("node " + index + " logged no data link port; log " + log);
            }
            return Integer.parseInt(m.group(1));
        }
    }

    private final Path root;
    private final Path logDir;
    private final List<Node> nodes = new ArrayList<>();
    /** Nodes configured (every member list names them) but not started yet: {@link #startSpare}. */
    private final List<Node> spares = new ArrayList<>();

    private ClusterHarness(Path root, Path logDir) {
        this.root = root;
        this.logDir = logDir;
    }

    static ClusterHarness start(int size) {
        return start(size, new String[0]);
    }

    /**
     * Starts the cluster; a node that cannot bind its port (taken by another process since it was picked) or exits
     * early makes it start again on fresh ports, at most {@link #ATTEMPTS} times in all.
     *
     * @param extraConfig further lines for every node's config file
     */
    static ClusterHarness start(int size, String... extraConfig) {
        return start(size, 0, extraConfig);
    }

    /**
     * Starts {@code size} nodes of a cluster whose member lists also name {@code spare} more, started later by
     * {@link #startSpare} (a node joining).
     */
    static ClusterHarness start(int size, int spare, String... extraConfig) {
        String run = "run-" + System.currentTimeMillis();
        PortClash last = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                Path logDir = Path.of("target", "cluster-logs", attempt == 1 ? run : run + "-attempt" + attempt);
                Files.createDirectories(logDir);
                ClusterHarness h = new ClusterHarness(Files.createTempDirectory("ternmq-cluster-"), logDir);
                try {
                    h.launch(size, spare, extraConfig);
                    h.awaitFormed(size);
                    return h;
                } catch (PortClash e) {
                    h.close();
                    if (last != null) {
                        e.addSuppressed(last);
                    }
                    last = e;
                } catch (RuntimeException | Error e) {
                    h.close();
                    throw e;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new AssertionError("the cluster did not start in " + ATTEMPTS + " attempts, each on fresh ports; "
                + "the last one's " + last.getMessage(), last);
    }

    /** A node could not bind a port or exited while the cluster was forming. */
    private static final class PortClash extends RuntimeException {
        PortClash(String message) {
            super(message);
        }
    }

    private void launch(int started, int spare, String... extraConfig) throws IOException {
        int size = started + spare;
        int[] ports = freePorts(2 * size);
        List<String> members = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            members.add("127.0.0.1:" + ports[size + i]);
        }
        for (int i = 0; i < size; i++) {
            Path dataDir = root.resolve("node" + i);
            Path config = root.resolve("node" + i + ".conf");
            Files.writeString(config, String.join("\n",
                    "listener " + ports[i] + " 127.0.0.1",
                    "allow_anonymous true",
                    "data_dir " + dataDir,
                    "storage.type memory",
                    "io_threads 1",
                    "cluster.enabled true",
                    "cluster.bind 127.0.0.1:" + ports[size + i],
                    "cluster.members " + String.join(",", members),
                    "cluster.secret " + SECRET,
                    String.join("\n", extraConfig),
                    ""));
            Path log = logDir.resolve("node" + i + ".log");
            if (i < started) {
                nodes.add(new Node(i, ports[i], ports[size + i], dataDir, config, log, startProcess(config, log)));
            } else {
                spares.add(new Node(i, ports[i], ports[size + i], dataDir, config, log, null));
            }
        }
    }

    /**
     * Starts the next spare node (it joins the running cluster); returns once it started, see {@link #awaitServing}.
     *
     * @return the node
     */
    Node startSpare() {
        return startSpare(config -> config);
    }

    /**
     * Starts the next spare node with its configuration file's text {@code edited} first (a node unlike the others);
     * returns once it has started or exited for good, see {@link #awaitServing}.
     */
    Node startSpare(java.util.function.UnaryOperator<String> edited) {
        Node spare = spares.remove(0);
        try {
            String text = edited.apply(Files.readString(spare.config(), StandardCharsets.UTF_8));
            int port = spare.mqttPort();
            for (int attempt = 1; ; attempt++) {
                // the MQTT port picked at launch may be taken since by the running nodes' connections (port 0):
                // a fresh one, and another on a clash, as start() does for the first nodes
                int fresh = freePorts(1)[0];
                text = text.replace("listener " + port + " 127.0.0.1", "listener " + fresh + " 127.0.0.1");
                port = fresh;
                Files.writeString(spare.config(), text, StandardCharsets.UTF_8);
                long logged = Files.exists(spare.log()) ? Files.size(spare.log()) : 0;
                Node n = new Node(spare.index(), port, spare.clusterPort(), spare.dataDir(), spare.config(),
                        spare.log(), startProcess(spare.config(), spare.log()));
                if (attempt == ATTEMPTS || !clashed(n, logged)) {
                    nodes.add(n);
                    return n;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits until the node started or exited; true if it exited for a port in use (its log past {@code from}). */
    private boolean clashed(Node n, long from) {
        awaitCondition("node " + n.index() + " to start or exit", Duration.ofSeconds(60),
                () -> !n.process().isAlive() || n.logText().indexOf("TernMQ started", (int) from) >= 0);
        return !n.process().isAlive()
                && n.logText().substring((int) Math.min(from, n.logText().length())).contains("already in use");
    }

    /**
     * Kills a node (SIGKILL) and starts it again on its configuration and data directory, logging to the same file;
     * returns at once, see {@link #awaitServing}.
     *
     * @return the new run
     */
    Node restart(int i) {
        Node old = nodes.get(i);
        try {
            old.process().destroyForcibly().waitFor();
            Files.writeString(old.log(), "---- restarted by the test ----\n", StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.APPEND);
            Node n = new Node(old.index(), old.mqttPort(), old.clusterPort(), old.dataDir(), old.config(), old.log(),
                    startProcess(old.config(), old.log()));
            nodes.set(i, n);
            return n;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Waits until a node started by {@link #startSpare} or {@link #restart} has opened its MQTT listener. */
    void awaitServing(Node n, Duration atMost) {
        awaitCondition("node " + n.index() + " to serve", atMost, () -> {
            String text = n.logText();
            int run = text.lastIndexOf("---- restarted by the test ----");
            return text.indexOf("TernMQ started", Math.max(0, run)) >= 0;
        });
    }

    static Process startProcess(Path config, Path log, String... jvmOptions) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1"));
        command.addAll(List.of(jvmOptions));
        String orphansLog = System.getProperty("ternmq.orphans.log");
        if (orphansLog != null) {
            command.add("-Dternmq.orphans.log=" + orphansLog); // see logback-test.xml
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.ternmq.broker.Main",
                "-c", config.toString()));
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    private void awaitFormed(int size) {
        awaitCondition("every node to see " + size + " members with its data links up, and listen", Duration.ofSeconds(90),
                () -> nodes.stream().allMatch(n -> {
                    String text = n.logText();
                    if (!n.process().isAlive() || text.toLowerCase(java.util.Locale.ROOT).contains("already in use")) {
                        throw new PortClash("node " + n.index() + " could not bind a port or exited early; " + logs());
                    }
                    // listening too: an MQTT port can be taken by another node's data link (bound to port 0)
                    return text.contains("TernMQ started") && text.contains("(" + size + " members)")
                            && text.lines().filter(l -> l.contains("cluster: data link to node ") && l.endsWith(" up"))
                            .count() >= size - 1;
                }));
    }

    /** Waits for a condition; a timeout fails naming the logs. */
    void awaitCondition(String what, Duration atMost, BooleanSupplier condition) {
        try {
            await().atMost(atMost).pollInterval(Duration.ofMillis(100)).until(condition::getAsBoolean);
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("timed out waiting for " + what + "; " + logs(), e);
        }
    }

    Node node(int i) {
        return nodes.get(i);
    }

    /** Where each node logs, and each log's last lines: for failure messages. */
    String logs() {
        StringBuilder b = new StringBuilder("node logs:");
        for (Node n : nodes) {
            b.append("\n  node ").append(n.index()).append(": ").append(n.log().toAbsolutePath())
                    .append(n.process().isAlive() ? "" : " (exited " + n.process().exitValue() + ")");
            List<String> lines = n.logText().lines().toList();
            for (String line : lines.subList(Math.max(0, lines.size() - 8), lines.size())) {
                b.append("\n    | ").append(line);
            }
        }
        return b.toString();
    }

    /**
     * The configuration of one node of a cluster in this JVM (TestBroker): memory store, membership on
     * 127.0.0.1:{@code port}, {@code members} as host:port.
     */
    static java.util.function.Consumer<io.ternmq.broker.config.BrokerConfig.Builder> inProcessNode(int port,
            List<String> members) {
        return c -> c.storageType("memory").clusterEnabled(true)
                .clusterBind(io.ternmq.broker.config.ClusterSettings.Address.parse("127.0.0.1:" + port))
                .clusterMembers(members.stream().map(io.ternmq.broker.config.ClusterSettings.Address::parse).toList())
                .clusterSecret(SECRET);
    }

    /**
     * Free ports below the kernel's ephemeral range when it leaves room (else any free port): a node killed and
     * restarted on its port finds it free again, where a port from that range could meanwhile be taken as the local
     * port of some outgoing connection (a client reconnecting, a node's data link); a chaos run failed once so.
     */
    static int[] freePorts(int count) throws IOException {
        int ephemeralLow = ephemeralRangeStart();
        List<ServerSocket> held = new ArrayList<>();
        try {
            int[] ports = new int[count];
            java.util.Random random = new java.util.Random();
            for (int i = 0; i < count; i++) {
                ServerSocket s = null;
                for (int tries = 0; s == null && ephemeralLow > 11_024 && tries < 100; tries++) {
                    int port = ephemeralLow - 10_000 + random.nextInt(10_000);
                    try {
                        s = new ServerSocket(port, 50, java.net.InetAddress.getLoopbackAddress());
                    } catch (IOException taken) {
                        // another one
                    }
                }
                if (s == null) {
                    s = new ServerSocket(0);
                }
                held.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
    }

    /** The first port of the kernel's ephemeral range (Linux), or 0 when it cannot be read. */
    private static int ephemeralRangeStart() {
        // read as a stream: Files.readString trusts the size /proc reports and reads a byte short
        try (java.io.InputStream in = Files.newInputStream(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))) {
            String range = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).trim();
            return Integer.parseInt(range.split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    @Override
    public void close() {
        for (Node n : nodes) {
            n.process().destroy();
        }
        for (Node n : nodes) {
            try {
                if (!n.process().waitFor(10, TimeUnit.SECONDS)) {
                    n.process().destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a temporary directory
        }
    }
}
