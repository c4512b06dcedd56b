package io.ternmq.broker.it;

import io.ternmq.broker.session.Session;
import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.PahoClient.Received;
import io.ternmq.broker.testing.TestBroker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

/**
 * Python clients (paho-mqtt 1.6, Debian's python3-paho-mqtt) against TernMQ, talking with Eclipse Paho (Java) and
 * with each other. The script is {@code src/test/resources/python/paho_client.py}; it prints what it sees one line
 * an event and always ends by itself.
 */
class PythonPahoTest {
    private static final String PYTHON = "/usr/bin/python3";
    private static final String INSTALL_HINT =
            "run `apt-get install -y mosquitto mosquitto-clients python3-paho-mqtt` (as .ci/run does)";
    /** The script's own timeout; the test waits a little longer before it kills it and fails. */
    private static final String SCRIPT_TIMEOUT_SECONDS = "10";
    private static final Duration PROCESS_TIMEOUT = Duration.ofSeconds(20);

    private static Path script;

    @TempDir
    Path tmp;

    private TestBroker broker;
    private final List<Process> processes = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger fileCounter = new AtomicInteger();

    @BeforeAll
    static void requirePythonPaho() throws Exception {
        if (!Files.isExecutable(Path.of(PYTHON))) {
            fail(PYTHON + " is not installed: " + INSTALL_HINT);
        }
        Process p = new ProcessBuilder(PYTHON, "-c", "import paho.mqtt, paho.mqtt.client; print(paho.mqtt.__version__)")
                .redirectErrorStream(true)
                .start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(PYTHON + " did not answer within 30 s");
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (p.exitValue() != 0) {
            fail("paho-mqtt is not available to " + PYTHON + " (" + output + "): " + INSTALL_HINT);
        }
        URL url = PythonPahoTest.class.getResource("/python/paho_client.py");
        assertThat(url).as("test resource python/paho_client.py").isNotNull();
        try {
            script = Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    @BeforeEach
    void start() {
        broker = TestBroker.start();
    }

    @AfterEach
    void stop() {
        synchronized (processes) {
            for (Process p : processes) {
                p.destroyForcibly();
            }
            for (Process p : processes) {
                try {
                    p.waitFor(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            processes.clear();
        }
        broker.close();
    }

    @Test
    @DisplayName("a Python subscriber at QoS 2 receives Paho (Java) messages at QoS 0, 1 and 2 with the QoS they were published with")
    void pythonReceivesFromJava() {
        Py sub = subscribed("py-sub", List.of("from-java/#"), "sub", "--id", "py-sub", "--topic", "from-java/#",
                "--qos", "2", "--count", "3");
        try (PahoClient paho = PahoClient.connect(broker, "java-pub", true)) {
            paho.publish("from-java/q0", "zero", 0, false);
            paho.publish("from-java/q1", "one", 1, false);
            paho.publish("from-java/q2", "two", 2, false);
            assertThat(sub.awaitSuccess()).containsExactly(
                    "CONNECTED 0 0",
                    "SUBSCRIBED 2",
                    "MSG from-java/q0 q0 r0 zero",
                    "MSG from-java/q1 q1 r0 one",
                    "MSG from-java/q2 q2 r0 two",
                    "DISCONNECTED 0");
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.1-9] Paho (Java) receives Python's QoS 0, 1, 2 and retained messages; the retained one live with RETAIN=0")
    void javaReceivesFromPython() {
        try (PahoClient paho = PahoClient.connect(broker, "java-sub", true)) {
            paho.subscribe("from-py/#", 2);
            // QoS 2 last: Paho (Java) hands a QoS 2 message to the application only on PUBREL, so a QoS 0 or 1
            // message sent after it may overtake it in messageArrived (the order is kept per QoS only)
            Py pub = python("pub", "--id", "py-pub",
                    "--msg", "from-py/q0", "0", "0", "zero",
                    "--msg", "from-py/q1", "1", "0", "one",
                    "--msg", "from-py/retained", "1", "1", "kept",
                    "--msg", "from-py/q2", "2", "0", "two");
            assertThat(pub.awaitSuccess()).containsExactly("CONNECTED 0 0", "PUBLISHED from-py/q0",
                    "PUBLISHED from-py/q1", "PUBLISHED from-py/retained", "PUBLISHED from-py/q2", "DISCONNECTED 0");
            List<String> got = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Received r = paho.next();
                got.add(r.topic() + " q" + r.message().getQos() + " r" + (r.message().isRetained() ? 1 : 0) + " "
                        + r.payload());
            }
            assertThat(got).containsExactly("from-py/q0 q0 r0 zero", "from-py/q1 q1 r0 one",
                    "from-py/retained q1 r0 kept", "from-py/q2 q2 r0 two");
            assertThat(paho.poll(200)).isNull();
        }
        try (PahoClient late = PahoClient.connect(broker, "java-late", true)) {
            late.subscribe("from-py/#", 2);
            Received r = late.next();
            assertThat(r.topic()).isEqualTo("from-py/retained");
            assertThat(r.payload()).isEqualTo("kept");
            assertThat(r.message().isRetained()).isTrue();
            assertThat(r.message().getQos()).isEqualTo(1);
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.1-5][MQTT-3.3.1-10] Python retains at QoS 0, 1 and 2; a later Python subscriber gets them flagged; an empty retained publish deletes")
    void retainedBetweenPythonClients() {
        Py pub = python("pub", "--id", "py-retainer",
                "--msg", "py-ret/q0", "0", "1", "r0",
                "--msg", "py-ret/q1", "1", "1", "r1",
                "--msg", "py-ret/q2", "2", "1", "r2");
        pub.awaitSuccess();
        await().until(() -> broker.broker().router().retained().size() == 3);
        Py sub = python("sub", "--id", "py-late", "--topic", "py-ret/#", "--qos", "1", "--count", "3");
        // the order of retained messages of different topics is not specified
        assertThat(sub.awaitSuccess()).containsExactlyInAnyOrder("CONNECTED 0 0", "SUBSCRIBED 1",
                "MSG py-ret/q0 q0 r1 r0", "MSG py-ret/q1 q1 r1 r1", "MSG py-ret/q2 q1 r1 r2", "DISCONNECTED 0");

        python("pub", "--id", "py-deleter", "--msg", "py-ret/q1", "1", "1", "-").awaitSuccess();
        await().until(() -> broker.broker().router().retained().get("py-ret/q1") == null);
        Py after = python("sub", "--id", "py-later", "--topic", "py-ret/#", "--qos", "2", "--count", "2");
        assertThat(after.awaitSuccess()).containsExactlyInAnyOrder("CONNECTED 0 0", "SUBSCRIBED 2",
                "MSG py-ret/q0 q0 r1 r0", "MSG py-ret/q2 q2 r1 r2", "DISCONNECTED 0");
    }

    @Test
    @DisplayName("[MQTT-3.1.2-8] the will set by Python (will_set) is published when the Python process is killed")
    void willOfKilledPythonClient() {
        try (PahoClient watcher = PahoClient.connect(broker, "java-watcher", true)) {
            watcher.subscribe("py-will/#", 2);
            Py pyWatcher = subscribed("py-watcher", List.of("py-will/#"), "sub", "--id", "py-watcher",
                    "--topic", "py-will/#", "--qos", "2", "--count", "1");
            Py device = subscribed("py-device", List.of("py-ctl/device"), "will", "--id", "py-device",
                    "--will-topic", "py-will/device", "--will-payload", "offline", "--will-qos", "1",
                    "--stop-topic", "py-ctl/device");
            device.process.destroyForcibly();

            Received r = watcher.next();
            assertThat(r.topic()).isEqualTo("py-will/device");
            assertThat(r.payload()).isEqualTo("offline");
            assertThat(r.message().getQos()).isEqualTo(1);
            assertThat(r.message().isRetained()).isFalse();
            assertThat(pyWatcher.awaitSuccess()).containsExactly("CONNECTED 0 0", "SUBSCRIBED 2",
                    "MSG py-will/device q1 r0 offline", "DISCONNECTED 0");
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-17] a retained will set by Python reaches a later Python subscriber with RETAIN=1")
    void retainedWillOfKilledPythonClient() {
        Py device = subscribed("py-sensor", List.of("py-ctl/sensor"), "will", "--id", "py-sensor",
                "--will-topic", "py-will/sensor", "--will-payload", "sensor lost", "--will-qos", "2",
                "--will-retain", "--stop-topic", "py-ctl/sensor");
        device.process.destroyForcibly();
        await().until(() -> broker.broker().router().retained().get("py-will/sensor") != null);
        Py late = python("sub", "--id", "py-late", "--topic", "py-will/#", "--qos", "2", "--count", "1");
        assertThat(late.awaitSuccess()).containsExactly("CONNECTED 0 0", "SUBSCRIBED 2",
                "MSG py-will/sensor q2 r1 sensor lost", "DISCONNECTED 0");
    }

    @Test
    @DisplayName("[MQTT-3.1.2-10] no will when the Python client disconnects cleanly")
    void noWillAfterPythonDisconnect() {
        try (PahoClient watcher = PahoClient.connect(broker, "java-watcher", true)) {
            watcher.subscribe("py-will/#", 2);
            Py device = subscribed("py-polite", List.of("py-ctl/polite"), "will", "--id", "py-polite",
                    "--will-topic", "py-will/polite", "--will-payload", "should never be seen", "--will-qos", "1",
                    "--stop-topic", "py-ctl/polite");
            watcher.publish("py-ctl/polite", "stop", 1, false);
            assertThat(device.awaitSuccess()).containsExactly("CONNECTED 0 0", "SUBSCRIBED py-ctl/polite",
                    "DISCONNECTED 0");
            await().until(() -> broker.broker().sessions().get("py-polite") == null);
            // a will would have been routed before the session ended, so it would come before this
            watcher.publish("py-will/sentinel", "only this", 1, false);
            assertThat(watcher.next().topic()).isEqualTo("py-will/sentinel");
            assertThat(broker.broker().metrics().willsPublished.sum()).isZero();
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-4][MQTT-3.2.2-2] a Python client with clean_session=False gets what was published while it was away")
    void persistentSession() {
        Py first = python("sub", "--id", "py-persist", "--no-clean", "--topic", "py-persist/t", "--qos", "1",
                "--count", "0");
        assertThat(first.awaitSuccess()).containsExactly("CONNECTED 0 0", "SUBSCRIBED 1", "DISCONNECTED 0");
        await().until(() -> isDisconnectedButKept("py-persist"));
        try (PahoClient paho = PahoClient.connect(broker, "java-pub", true)) {
            paho.publish("py-persist/t", "offline 1", 1, false);
            paho.publish("py-persist/t", "offline 2", 2, false);
        }
        Py again = python("sub", "--id", "py-persist", "--no-clean", "--no-resubscribe", "--count", "2");
        assertThat(again.awaitSuccess()).containsExactly("CONNECTED 0 1", "MSG py-persist/t q1 r0 offline 1",
                "MSG py-persist/t q1 r0 offline 2", "DISCONNECTED 0");
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private boolean isDisconnectedButKept(String clientId) {
        Session s = broker.broker().sessions().get(clientId);
        if (s == null) {
            return false;
        }
        return !s.owner().submit(s::isConnected).syncUninterruptibly().getNow();
    }

    /** Whether the client is connected with all these subscriptions, asked on the session's own event loop. */
    private boolean hasSubscriptions(String clientId, List<String> filters) {
        Session s = broker.broker().sessions().get(clientId);
        if (s == null) {
            return false;
        }
        return s.owner().submit(() -> s.isConnected() && filters.stream().allMatch(f -> s.subscription(f) != null))
                .syncUninterruptibly().getNow();
    }

    /** Starts the script and waits until the broker has handled its SUBSCRIBE. */
    private Py subscribed(String clientId, List<String> filters, String... args) {
        Py py = python(args);
        await("Python client " + clientId + " subscribed to " + filters)
                .until(() -> hasSubscriptions(clientId, filters) || !py.process.isAlive());
        assertThat(py.process.isAlive()).as("Python client still running: %s", py.describe()).isTrue();
        return py;
    }

    private Py python(String... args) {
        List<String> command = new ArrayList<>(List.of(PYTHON, "-u", script.toString(), args[0],
                "--host", "127.0.0.1", "--port", String.valueOf(broker.port()), "--timeout", SCRIPT_TIMEOUT_SECONDS));
        command.addAll(List.of(args).subList(1, args.length));
        int n = fileCounter.incrementAndGet();
        Path out = tmp.resolve(n + "-python.out");
        Path err = tmp.resolve(n + "-python.err");
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("PYTHONIOENCODING", "utf-8");
        try {
            Process p = pb.start();
            processes.add(p);
            return new Py(command, p, out, err);
        } catch (IOException e) {
            throw new AssertionError("cannot run " + PYTHON + ": " + INSTALL_HINT, e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A running Python client, its output in files. */
    private record Py(List<String> command, Process process, Path out, Path err) {

        List<String> lines() {
            return read(out).lines().toList();
        }

        /** Waits for a successful exit (killing the process and failing after the timeout); the lines printed. */
        List<String> awaitSuccess() {
            try {
                if (!process.waitFor(PROCESS_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    fail("did not exit within " + PROCESS_TIMEOUT + ": " + describe());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
            assertThat(process.exitValue()).as("exit code of %s", describe()).isZero();
            return lines();
        }

        String describe() {
            return String.join(" ", command) + (process.isAlive() ? " (running)" : " (exit " + process.exitValue()
                    + ")") + "\n--- stdout:\n" + read(out) + "--- stderr:\n" + read(err);
        }
    }
}
