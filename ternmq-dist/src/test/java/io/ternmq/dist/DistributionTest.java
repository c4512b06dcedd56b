package io.ternmq.dist;

import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

/**
 * The tarball as a user gets it (issue 14 §7): unpacked in a temporary directory and run unprivileged; its systemd
 * unit through {@code systemd-analyze verify}, its script through {@code shellcheck}, and the Dockerfile read
 * statically (no Docker engine here).
 */
class DistributionTest {
    private static final String VERSION = System.getProperty("ternmq.version");
    private static final Path TARBALL = Path.of(System.getProperty("ternmq.tarball", "missing"));
    private static final Path ROOT = Path.of(System.getProperty("ternmq.root", ".."));

    @TempDir
    static Path unpacked;
    private static Path home;

    @BeforeAll
    static void unpack() throws Exception {
        assertThat(TARBALL).as("the tarball (./mvnw package builds it)").isRegularFile();
        Result tar = run(unpacked, Map.of(), "tar", "-xzf", TARBALL.toString());
        assertThat(tar.status).as(tar.output).isZero();
        home = unpacked.resolve("ternmq-" + VERSION);
    }

    private record Result(int status, String output) {
    }

    private static Result run(Path dir, Map<String, String> env, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(String.join(" ", command)).isTrue();
        return new Result(p.exitValue(), out);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    @DisplayName("the tarball holds bin/ternmq (executable), conf/, lib/ternmq.jar, systemd/ternmq.service, "
            + "LICENSE and NOTICE; the shipped configuration listens on loopback only")
    void layout() throws Exception {
        assertThat(Files.getPosixFilePermissions(home.resolve("bin/ternmq")))
                .contains(PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OTHERS_EXECUTE);
        for (String f : List.of("conf/ternmq.conf", "conf/logback.xml", "lib/ternmq.jar", "systemd/ternmq.service",
                "LICENSE", "NOTICE")) {
            assertThat(home.resolve(f)).as(f).isRegularFile();
        }
        assertThat(Files.readString(home.resolve("LICENSE"))).contains("Apache License");
        List<String> listeners = Files.readAllLines(home.resolve("conf/ternmq.conf")).stream()
                .map(String::strip).filter(l -> l.startsWith("listener ")).toList();
        assertThat(listeners).isNotEmpty().allSatisfy(l -> assertThat(l.split("\\s+"))
                .as(l).hasSize(3).endsWith("127.0.0.1"));
    }

    @Test
    @DisplayName("bin/ternmq --version prints the POM's version and a git commit")
    void versionIsThePoms() throws Exception {
        Result r = run(unpacked, Map.of(), home.resolve("bin/ternmq").toString(), "--version");
        assertThat(r.status).as(r.output).isZero();
        assertThat(r.output.strip()).matches("TernMQ " + java.util.regex.Pattern.quote(VERSION)
                + " \\(commit ([0-9a-f]{40}|unknown)\\)");
        if (Files.exists(ROOT.resolve(".git"))) {
            Result head = run(ROOT, Map.of(), "git", "rev-parse", "HEAD");
            assumeThat(head.status).as("git works here").isZero();
            // built from this checkout: a commit, not "unknown" (it may be an earlier one than HEAD)
            assertThat(r.output).doesNotContain("commit unknown");
        }
    }

    @Test
    @DisplayName("bin/ternmq refuses a Java older than 17 in one line, naming it")
    void refusesOldJava() throws Exception {
        Path jdk = unpacked.resolve("jdk11");
        Files.createDirectories(jdk.resolve("bin"));
        Path java = jdk.resolve("bin/java");
        Files.writeString(java, "#!/bin/sh\nexit 0\n");
        java.toFile().setExecutable(true);
        Files.writeString(jdk.resolve("release"), "JAVA_VERSION=\"11.0.22\"\n");
        Result r = run(unpacked, Map.of("JAVA_HOME", jdk.toString()), home.resolve("bin/ternmq").toString(),
                "--version");
        assertThat(r.status).isEqualTo(1);
        assertThat(r.output).isEqualTo("ternmq: " + java + " is Java 11.0.22; TernMQ needs Java 17 or newer (set "
                + "JAVA_HOME to one)\n");
    }

    @Test
    @DisplayName("unprivileged: starts from the tarball with its configuration, takes an MQTT 5 client, and on "
            + "SIGTERM tells it 0x8B and exits 0 within 5 s")
    void startsAndStopsOnSigterm() throws Exception {
        int port = freePort();
        Path data = unpacked.resolve("data-" + port);
        Path log = unpacked.resolve("broker-" + port + ".log");
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/ternmq").toString(), "-c",
                home.resolve("conf/ternmq.conf").toString(), "--port", Integer.toString(port), "--data-dir",
                data.toString()).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("TERNMQ_JAVA_OPTS", "-Xmx128m");
        Process broker = pb.start();
        try {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
                assertThat(broker.isAlive()).as(() -> read(log)).isTrue();
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                    return true;
                } catch (IOException e) {
                    return false;
                }
            });
            MqttClient client = new MqttClient("tcp://127.0.0.1:" + port, "dist-test", new MemoryPersistence());
            AtomicInteger reason = new AtomicInteger(-1);
            client.setCallback(new org.eclipse.paho.mqttv5.client.MqttCallback() {
                @Override
                public void disconnected(org.eclipse.paho.mqttv5.client.MqttDisconnectResponse response) {
                    reason.set(response.getReturnCode());
                }

                @Override
                public void mqttErrorOccurred(MqttException exception) {
                }

                @Override
                public void messageArrived(String topic, org.eclipse.paho.mqttv5.common.MqttMessage message) {
                }

                @Override
                public void deliveryComplete(org.eclipse.paho.mqttv5.client.IMqttToken token) {
                }

                @Override
                public void connectComplete(boolean reconnect, String serverURI) {
                }

                @Override
                public void authPacketArrived(int reasonCode,
                                              org.eclipse.paho.mqttv5.common.packet.MqttProperties properties) {
                }
            });
            MqttConnectionOptions options = new MqttConnectionOptions();
            options.setConnectionTimeout(5);
            client.connect(options);
            assertThat(client.isConnected()).isTrue();

            broker.destroy(); // SIGTERM: bin/ternmq exec'd java, so the process is the JVM
            assertThat(broker.waitFor(5, TimeUnit.SECONDS)).as(() -> read(log)).isTrue();
            assertThat(broker.exitValue()).as(() -> read(log)).isZero();
            await().atMost(Duration.ofSeconds(5)).until(() -> reason.get() != -1);
            assertThat(reason.get()).isEqualTo(0x8B);
            client.close(true);
        } finally {
            broker.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Test
    @DisplayName("systemd/ternmq.service passes systemd-analyze verify and says what the issue asks")
    void systemdUnitVerifies() throws Exception {
        String unit = Files.readString(home.resolve("systemd/ternmq.service"));
        assertThat(unit.lines().map(String::strip)).contains("User=ternmq", "ExecReload=/bin/kill -HUP $MAINPID",
                "TimeoutStopSec=30", "Restart=on-failure", "RestartPreventExitStatus=2", "SuccessExitStatus=143",
                "ProtectSystem=strict", "StateDirectory=ternmq");
        assertThat(unit).contains("ExecStart=/opt/ternmq/bin/ternmq ").contains("--data-dir /var/lib/ternmq");
        Path analyze = Path.of("/usr/bin/systemd-analyze");
        assumeThat(Files.isExecutable(analyze)).as("systemd-analyze is not installed: apt-get install -y systemd")
                .isTrue();
        // verify checks that ExecStart's program exists: point the unit at this unpacked copy
        Path copy = unpacked.resolve("ternmq.service");
        Files.writeString(copy, unit.replace("/opt/ternmq", home.toString()));
        Result r = run(unpacked, Map.of(), analyze.toString(), "verify", copy.toString());
        assertThat(r.status).as(r.output).isZero();
        assertThat(r.output).isEmpty();
    }

    @Test
    @DisplayName("shellcheck finds nothing in bin/ternmq")
    void scriptPassesShellcheck() throws Exception {
        Path shellcheck = Path.of("/usr/bin/shellcheck");
        assumeThat(Files.isExecutable(shellcheck)).as("shellcheck is not installed: apt-get install -y shellcheck "
                + "(.ci/run does)").isTrue();
        Result r = run(unpacked, Map.of(), shellcheck.toString(), "--shell=sh", home.resolve("bin/ternmq").toString());
        assertThat(r.status).as(r.output).isZero();
    }

    @Test
    @DisplayName("the Dockerfile: debian:bookworm-slim with openjdk-17-jre-headless, user 10001, the data volume, "
            + "the four ports, a HEALTHCHECK by bash /dev/tcp on /health/ready, and sources that exist")
    void dockerfileSaysWhatItShould() throws Exception {
        List<String[]> instructions = dockerInstructions(ROOT.resolve("Dockerfile"));
        List<String> names = instructions.stream().map(i -> i[0]).toList();
        assertThat(names.get(0)).isEqualTo("FROM");
        assertThat(instructions.get(0)[1]).isEqualTo("debian:bookworm-slim");
        assertThat(arguments(instructions, "RUN")).anyMatch(r -> r.contains("apt-get install")
                && r.contains("openjdk-17-jre-headless"));
        assertThat(arguments(instructions, "USER")).containsExactly("10001");
        assertThat(arguments(instructions, "VOLUME")).containsExactly("/var/lib/ternmq");
        assertThat(arguments(instructions, "EXPOSE")).hasSize(1);
        assertThat(arguments(instructions, "EXPOSE").get(0).split("\\s+"))
                .containsExactlyInAnyOrder("1883", "8883", "9001", "9883");
        assertThat(arguments(instructions, "HEALTHCHECK")).singleElement().satisfies(h -> assertThat(h)
                .contains("CMD").contains("bash").contains("/dev/tcp/127.0.0.1/9883").contains("GET /health/ready"));
        assertThat(arguments(instructions, "ENTRYPOINT")).singleElement().asString().contains("/opt/ternmq/bin/ternmq");
        // what ADD and COPY take exists after ./mvnw package (the tarball under its version)
        String version = arguments(instructions, "ARG").stream().filter(a -> a.startsWith("TERNMQ_VERSION="))
                .findFirst().orElseThrow().substring("TERNMQ_VERSION=".length());
        assertThat(version).isEqualTo(VERSION);
        for (String kind : List.of("ADD", "COPY")) {
            for (String a : arguments(instructions, kind)) {
                String source = a.split("\\s+")[0].replace("${TERNMQ_VERSION}", version);
                assertThat(ROOT.resolve(source)).as(kind + " " + a).exists();
            }
        }
        // the image's configuration: the admin listener (the health check's) stays on the container's loopback
        String conf = Files.readString(ROOT.resolve("ternmq-dist/src/docker/ternmq.conf"));
        assertThat(conf).contains("listener 9883 127.0.0.1\nprotocol http_api");
    }

    /** The Dockerfile's instructions, continuation lines joined and comments dropped: {name, arguments}. */
    private static List<String[]> dockerInstructions(Path dockerfile) throws IOException {
        List<String[]> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : Files.readAllLines(dockerfile)) {
            String l = line.strip();
            if (current.isEmpty() && (l.isEmpty() || l.startsWith("#"))) {
                continue;
            }
            if (l.endsWith("\\")) {
                current.append(l, 0, l.length() - 1).append(' ');
                continue;
            }
            current.append(l);
            String[] parts = current.toString().strip().split("\\s+", 2);
            out.add(new String[] {parts[0].toUpperCase(java.util.Locale.ROOT), parts.length > 1 ? parts[1] : ""});
            current.setLength(0);
        }
        assertThat(current.toString()).as("a continued last line").isEmpty();
        return out;
    }

    private static List<String> arguments(List<String[]> instructions, String name) {
        return instructions.stream().filter(i -> i[0].equals(name)).map(i -> i[1]).toList();
    }
}
