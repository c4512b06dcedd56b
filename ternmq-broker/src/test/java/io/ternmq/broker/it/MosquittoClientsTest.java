package io.ternmq.broker.it;

import io.ternmq.broker.session.Session;
import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.PahoClient.Received;
import io.ternmq.broker.testing.MosquittoProcess;
import io.ternmq.broker.testing.TestBroker;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

/**
 * Mosquitto's command-line clients ({@code mosquitto_pub}, {@code mosquitto_sub}) against TernMQ, and one scripted
 * scenario run side by side against a real Mosquitto broker with identical output expected.
 */
class MosquittoClientsTest {
    private static final String INSTALL_HINT = MosquittoProcess.INSTALL_HINT;
    /** Longest any client process may run; every mosquitto_sub also gets its own -W below this. */
    private static final Duration PROCESS_TIMEOUT = Duration.ofSeconds(20);
    private static final String SUB_TIMEOUT_SECONDS = "10";

    @TempDir
    Path tmp;

    private TestBroker broker;
    private final List<Process> processes = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger fileCounter = new AtomicInteger();
    private final List<MosquittoProcess> mosquittos = new ArrayList<>();

    @BeforeAll
    static void requireMosquittoClients() {
        for (String tool : List.of("mosquitto_pub", "mosquitto_sub")) {
            if (findOnPath(tool) == null) {
                fail(tool + " is not installed or not on PATH: " + INSTALL_HINT);
            }
        }
        MosquittoProcess.requireInstalled();
    }

    @BeforeEach
    void start() {
        broker = TestBroker.start();
    }

    @AfterEach
    void stop() {
        mosquittos.forEach(MosquittoProcess::close);
        synchronized (processes) {
            for (Process p : processes) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
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
        if (broker != null) {
            broker.close();
        }
    }

    // ------------------------------------------------------------------------------------------- basic delivery

    @ParameterizedTest(name = "mosquitto_pub -q {0} -V {1}")
    @CsvSource({"0,mqttv311", "1,mqttv311", "2,mqttv311", "0,mqttv31", "1,mqttv31", "2,mqttv31"})
    @DisplayName("mosquitto_sub -t '#' -v receives what mosquitto_pub publishes at QoS 0, 1 and 2 (MQTT 3.1.1 and 3.1)")
    void pubToSubAtEveryQos(int qos, String version) {
        // no -i: an empty client id (MQTT 3.1.1) or a generated "mosq-..." one (MQTT 3.1); the first subscription
        Cli sub = sub(broker.port(), "-V", version, "-t", "#", "-q", "2", "-v", "-C", "1");
        await().until(() -> broker.broker().router().subscriptions().size() == 1 || !sub.process.isAlive());
        pub(broker.port(), "-V", version, "-q", String.valueOf(qos), "-t", "cli/qos" + qos, "-m", "hello at qos " + qos);
        assertThat(sub.awaitSuccess()).containsExactly("cli/qos" + qos + " hello at qos " + qos);
    }

    @Test
    @DisplayName("[MQTT-3.8.4-6] mosquitto_sub -F shows the delivered QoS as the minimum of publish and subscription QoS")
    void deliveredQosIsMinimum() {
        Cli q1 = subscribed("-t", "min/#", "-q", "1", "-F", "%q %t %p", "-C", "3");
        // QoS 1 and 2 publishes are acknowledged after routing, so the publish order is the arrival order
        for (int qos = 2; qos >= 0; qos--) {
            pub(broker.port(), "-q", String.valueOf(qos), "-t", "min/" + qos, "-m", "p" + qos);
        }
        assertThat(q1.awaitSuccess()).containsExactly("1 min/2 p2", "1 min/1 p1", "0 min/0 p0");
    }

    @Test
    @DisplayName("mosquitto_sub receives many messages in publish order from one mosquitto_pub -l session at QoS 2")
    void lineModeKeepsOrder() throws IOException {
        Cli sub = subscribed("-t", "lines/t", "-q", "2", "-v", "-C", "50");
        Path input = tmp.resolve("lines.txt");
        List<String> payloads = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            payloads.add("line " + i);
        }
        Files.write(input, payloads, StandardCharsets.UTF_8);
        Cli pub = start(command("mosquitto_pub", broker.port(), "-q", "2", "-t", "lines/t", "-l"), input);
        assertThat(pub.awaitExit()).as(pub.describe()).isZero();
        assertThat(sub.awaitSuccess())
                .containsExactlyElementsOf(payloads.stream().map(p -> "lines/t " + p).toList());
    }

    // ------------------------------------------------------------------------------------------------ wildcards

    @Test
    @DisplayName("[MQTT-4.7.1-3][MQTT-4.7.2-1] '+' matches exactly one level, including an empty one, but not a leading '$'")
    void singleLevelWildcard() {
        Cli sub = subscribed("-t", "sensor/+/temp", "-t", "+/status", "-q", "1", "-v", "-C", "4");
        String[][] published = {
                {"sensor/a/temp", "21.5"},
                {"sensor/b/humidity", "no"},
                {"sensor/a/b/temp", "no"},
                {"sensor//temp", "empty level"},
                {"sensor/temp", "no"},
                {"$app/status", "no"},
                {"dev1/status", "up"},
                {"dev1/x/status", "no"},
                {"/status", "leading empty level"},
        };
        for (String[] p : published) {
            pub(broker.port(), "-q", "1", "-t", p[0], "-m", p[1]);
        }
        assertThat(sub.awaitSuccess()).containsExactly(
                "sensor/a/temp 21.5", "sensor//temp empty level", "dev1/status up", "/status leading empty level");
    }

    // ------------------------------------------------------------------------------------------------- retained

    @Test
    @DisplayName("[MQTT-3.3.1-6] a message retained with mosquitto_pub -r reaches a later mosquitto_sub with RETAIN=1")
    void retainedReachesLaterSubscriber() {
        pub(broker.port(), "-r", "-q", "1", "-t", "retained/t", "-m", "kept");
        await().until(() -> broker.broker().router().retained().get("retained/t") != null);
        Cli sub = sub(broker.port(), "-t", "retained/#", "-q", "2", "-F", "%r %q %t %p", "-C", "1");
        assertThat(sub.awaitSuccess()).containsExactly("1 1 retained/t kept");
    }

    @Test
    @DisplayName("[MQTT-3.3.1-9] mosquitto_sub -R skips retained messages; a live retained publish arrives with RETAIN=0")
    void noRetainedFlagSkipsStaleMessages() {
        pub(broker.port(), "-r", "-q", "1", "-t", "retained/old", "-m", "stale");
        Cli sub = subscribed("-t", "retained/#", "-q", "1", "-R", "-F", "%r %t %p", "-C", "1");
        pub(broker.port(), "-r", "-q", "1", "-t", "retained/new", "-m", "fresh");
        assertThat(sub.awaitSuccess()).containsExactly("0 retained/new fresh");
    }

    @Test
    @DisplayName("mosquitto_sub --retained-only prints the retained messages and exits on the first live one")
    void retainedOnly() {
        pub(broker.port(), "-r", "-q", "1", "-t", "retained/a", "-m", "A");
        pub(broker.port(), "-r", "-q", "2", "-t", "retained/b", "-m", "B");
        pub(broker.port(), "-r", "-q", "0", "-t", "retained/c", "-m", "C");
        await().until(() -> broker.broker().router().retained().size() == 3);
        // at QoS 1: a QoS 2 message is handed on only at PUBREL, so the live one could overtake it and end the run
        Cli sub = subscribed("-t", "retained/#", "-q", "1", "-v", "--retained-only");
        pub(broker.port(), "-q", "1", "-t", "retained/live", "-m", "ends it");
        assertThat(sub.awaitSuccess()).containsExactlyInAnyOrder("retained/a A", "retained/b B", "retained/c C");
    }

    @Test
    @DisplayName("[MQTT-3.3.1-10][MQTT-3.3.1-11] mosquitto_pub -r -n deletes the retained message; live subscribers get the empty message")
    void deleteRetainedWithEmptyPayload() {
        pub(broker.port(), "-r", "-q", "1", "-t", "retained/del", "-m", "doomed");
        pub(broker.port(), "-r", "-q", "1", "-t", "retained/keep", "-m", "survivor");
        Cli live = subscribed("-t", "retained/del", "-q", "1", "-F", "%r %l %t %p", "-C", "2");
        pub(broker.port(), "-r", "-n", "-q", "1", "-t", "retained/del");
        // first the retained copy on subscribing, then the deleting message forwarded live with an empty payload
        assertThat(live.awaitSuccess()).containsExactly("1 6 retained/del doomed", "0 0 retained/del ");
        await().until(() -> broker.broker().router().retained().get("retained/del") == null);

        Cli later = subscribed("-t", "retained/#", "-q", "1", "-v", "--retained-only");
        pub(broker.port(), "-q", "1", "-t", "retained/live", "-m", "ends it");
        assertThat(later.awaitSuccess()).containsExactly("retained/keep survivor");
    }

    @Test
    @DisplayName("mosquitto_sub --remove-retained clears the retained messages it receives")
    void removeRetained() {
        pub(broker.port(), "-r", "-q", "1", "-t", "retained/x", "-m", "to be removed");
        pub(broker.port(), "-r", "-q", "1", "-t", "other/y", "-m", "not matched");
        await().until(() -> broker.broker().router().retained().size() == 2);
        Cli sub = sub(broker.port(), "-t", "retained/#", "-q", "1", "-v", "--remove-retained", "-C", "1");
        await().until(() -> broker.broker().router().retained().get("retained/x") == null);
        await().until(() -> sub.lines().contains("retained/x to be removed"));
        // mosquitto_sub 2.0.11 sends DISCONNECT after removing but then only exits at its -W timeout (also against
        // Mosquitto), so it is stopped here
        sub.process.destroyForcibly();
        assertThat(sub.lines()).containsExactly("retained/x to be removed");
        assertThat(broker.broker().router().retained().get("other/y")).isNotNull();
    }

    // ---------------------------------------------------------------------------------------------------- wills

    @ParameterizedTest(name = "-V {0}")
    @ValueSource(strings = {"mqttv311", "mqttv31"})
    @DisplayName("[MQTT-3.1.2-8] the will of a killed mosquitto_sub reaches another mosquitto_sub")
    void willOfKilledClient(String version) {
        Cli watcher = subscribed("-t", "will/#", "-q", "1", "-F", "%q %r %t %p", "-C", "1");
        Cli dying = subscribed("-V", version, "-i", "dying-" + version, "-t", "some/topic",
                "--will-topic", "will/dying", "--will-payload", "dying gasp", "--will-qos", "1");
        dying.process.destroyForcibly();
        assertThat(watcher.awaitSuccess()).containsExactly("1 0 will/dying dying gasp");
        assertThat(broker.broker().metrics().willsPublished.sum()).isEqualTo(1);
    }

    @Test
    @DisplayName("[MQTT-3.1.2-10] mosquitto_sub exiting by itself after -C 1 sends DISCONNECT: no will is published")
    void noWillAfterCleanExit() {
        Cli watcher = subscribed("-t", "will/#", "-q", "1", "-v", "-C", "1");
        Cli polite = subscribed("-i", "polite", "-t", "ping", "-v", "-C", "1",
                "--will-topic", "will/polite", "--will-payload", "should never be seen", "--will-qos", "1");
        pub(broker.port(), "-q", "1", "-t", "ping", "-m", "bye");
        assertThat(polite.awaitSuccess()).containsExactly("ping bye");
        await().until(() -> broker.broker().sessions().get("polite") == null);
        // anything the broker published for the polite client's exit was routed before its session ended
        pub(broker.port(), "-q", "1", "-t", "will/sentinel", "-m", "only this");
        assertThat(watcher.awaitSuccess()).containsExactly("will/sentinel only this");
        assertThat(broker.broker().metrics().willsPublished.sum()).isZero();
    }

    // ------------------------------------------------------------------------------------------ persistent session

    @Test
    @DisplayName("[MQTT-3.1.2-4][MQTT-3.1.2-5] mosquitto_sub -c keeps its session: QoS 1 messages published while offline arrive on reconnect")
    void persistentSession() {
        Cli first = sub(broker.port(), "-c", "-i", "persist-1", "-q", "1", "-t", "persist/t", "-E");
        assertThat(first.awaitSuccess()).isEmpty();
        await().until(() -> isDisconnectedButKept("persist-1"));
        pub(broker.port(), "-q", "1", "-t", "persist/t", "-m", "while offline 1");
        pub(broker.port(), "-q", "2", "-t", "persist/t", "-m", "while offline 2");
        pub(broker.port(), "-q", "1", "-t", "persist/other", "-m", "not subscribed");
        Cli again = sub(broker.port(), "-c", "-i", "persist-1", "-q", "1", "-t", "persist/t", "-v", "-C", "2");
        assertThat(again.awaitSuccess()).containsExactly("persist/t while offline 1", "persist/t while offline 2");
    }

    @Test
    @DisplayName("[MQTT-3.1.2-6] without -c the session ends with the connection: nothing is queued for the next one")
    void cleanSessionQueuesNothing() {
        Cli first = sub(broker.port(), "-i", "transient", "-q", "1", "-t", "transient/t", "-E");
        assertThat(first.awaitSuccess()).isEmpty();
        await().until(() -> broker.broker().sessions().get("transient") == null);
        pub(broker.port(), "-q", "1", "-t", "transient/t", "-m", "lost");
        Cli again = subscribed("-i", "transient", "-q", "1", "-t", "transient/t", "-v", "-C", "1");
        pub(broker.port(), "-q", "1", "-t", "transient/t", "-m", "live");
        assertThat(again.awaitSuccess()).containsExactly("transient/t live");
    }

    private boolean isDisconnectedButKept(String clientId) {
        Session s = broker.broker().sessions().get(clientId);
        if (s == null) {
            return false;
        }
        return !s.owner().submit(s::isConnected).syncUninterruptibly().getNow();
    }

    // ----------------------------------------------------------------------------------------- with Paho (Java)

    @Test
    @DisplayName("a message from Paho (Java) reaches mosquitto_sub")
    void pahoToMosquittoSub() {
        Cli sub = subscribed("-t", "paho/#", "-q", "2", "-F", "%q %t %p", "-C", "3");
        try (PahoClient paho = PahoClient.connect(broker, "paho-pub", true)) {
            paho.publish("paho/q0", "from paho 0", 0, false);
            paho.publish("paho/q1", "from paho 1", 1, false);
            paho.publish("paho/q2", "from paho 2", 2, false);
        }
        assertThat(sub.awaitSuccess()).containsExactly("0 paho/q0 from paho 0", "1 paho/q1 from paho 1",
                "2 paho/q2 from paho 2");
    }

    @Test
    @DisplayName("a message from mosquitto_pub reaches Paho (Java), with its QoS, retain flag and payload")
    void mosquittoPubToPaho() {
        try (PahoClient paho = PahoClient.connect(broker, "paho-sub", true)) {
            paho.subscribe("mosq/#", 2);
            pub(broker.port(), "-q", "2", "-t", "mosq/q2", "-m", "from mosquitto_pub");
            Received r = paho.next();
            assertThat(r.topic()).isEqualTo("mosq/q2");
            assertThat(r.payload()).isEqualTo("from mosquitto_pub");
            assertThat(r.message().getQos()).isEqualTo(2);
            assertThat(r.message().isRetained()).isFalse();

            pub(broker.port(), "-V", "mqttv31", "-q", "1", "-t", "mosq/v31", "-m", "from MQTT 3.1");
            Received v31 = paho.next();
            assertThat(v31.topic()).isEqualTo("mosq/v31");
            assertThat(v31.payload()).isEqualTo("from MQTT 3.1");
            assertThat(v31.message().getQos()).isEqualTo(1);
        }
        pub(broker.port(), "-r", "-q", "1", "-t", "mosq/retained", "-m", "kept for paho");
        try (PahoClient late = PahoClient.connect(broker, "paho-late", true)) {
            late.subscribe("mosq/retained", 2);
            Received r = late.next();
            assertThat(r.payload()).isEqualTo("kept for paho");
            assertThat(r.message().isRetained()).isTrue();
            assertThat(r.message().getQos()).isEqualTo(1);
        }
    }

    // ------------------------------------------------------------------------------------- side by side with Mosquitto

    @Test
    @DisplayName("the same mosquitto_pub/mosquitto_sub script gives identical output against Mosquitto and TernMQ")
    void sameOutputAsMosquitto() throws IOException {
        Path brokerLog = tmp.resolve("mosquitto.log");
        int mosquittoPort = startMosquitto(brokerLog);
        String expected = scenario(mosquittoPort, clientId -> {
            String marker = "Sending SUBACK to " + clientId;
            long before = countOccurrences(read(brokerLog), marker);
            return () -> await("Mosquitto's SUBACK to " + clientId)
                    .until(() -> countOccurrences(read(brokerLog), marker) > before);
        });
        String actual = scenario(broker.port(), clientId -> () -> await("TernMQ subscription of " + clientId)
                .until(() -> hasSubscriptions(clientId, List.of(clientId.equals("cmp-check") ? "#" : "cmp/#"))));
        assertThat(actual).as("TernMQ's transcript (expected: Mosquitto's)").isEqualTo(expected);
    }

    /** Makes the wait for one client's subscription, to be called after the client is started. */
    private interface SubscriptionWaiter {
        Runnable waitFor(String clientId);
    }

    /** Packet identifiers as mosquitto_sub -d prints them ("m3", "Mid: 3"): chosen freely by each broker. */
    private static final Pattern MESSAGE_ID = Pattern.compile("(?<=[(, ])m\\d+(?=[,)])|(?<=Mid: )\\d+");

    /**
     * Runs one fixed scenario against the broker on {@code port} and returns the transcript: the normalized debug
     * and verbose output of a capturing mosquitto_sub, its exit code, and what a later --retained-only run sees.
     */
    private String scenario(int port, SubscriptionWaiter waiter) {
        // before anyone subscribes: retained, replaced, deleted
        pub(port, "-r", "-q", "1", "-t", "cmp/retained", "-m", "old");
        pub(port, "-r", "-q", "2", "-t", "cmp/retained", "-m", "new");
        pub(port, "-r", "-q", "0", "-t", "cmp/gone", "-m", "bye");
        pub(port, "-r", "-q", "1", "-n", "-t", "cmp/gone");
        // outside the capture's filter (the order of several retained messages is up to the broker); checked last
        pub(port, "-r", "-q", "1", "-V", "mqttv31", "-t", "v31/retained", "-m", "retained over 3.1");

        String[][] live = {
                {"-q", "0", "-t", "cmp/q0", "-m", "zero"},
                {"-q", "1", "-t", "cmp/q1", "-m", "one"},
                {"-q", "2", "-t", "cmp/q2", "-m", "two"},
                {"-q", "1", "-t", "elsewhere/q1", "-m", "not matched"},
                {"-q", "1", "-r", "-t", "cmp/retained/live", "-m", "live retained"},
                {"-q", "2", "-V", "mqttv31", "-t", "cmp/v31", "-m", "over MQTT 3.1"},
                {"-q", "1", "-t", "cmp/empty", "-n"},
                {"-q", "2", "-t", "cmp/with space", "-m", "a b  c"},
                {"-q", "1", "-r", "-n", "-t", "cmp/retained"},
        };
        String[] liveTopics = {"cmp/q0", "cmp/q1", "cmp/q2", null, "cmp/retained/live", "cmp/v31", "cmp/empty",
                "cmp/with space", "cmp/retained"};
        int expectedMessages = 1; // cmp/retained "new", on subscribing
        for (String t : liveTopics) {
            expectedMessages += t == null ? 0 : 1;
        }

        Runnable subscribed = waiter.waitFor("cmp-sub");
        Cli capture = sub(port, "-i", "cmp-sub", "-t", "cmp/#", "-q", "2", "-v", "-d",
                "-C", String.valueOf(expectedMessages));
        subscribed.run();
        int received = 1;
        awaitMessageLines(capture, received);
        for (int i = 0; i < live.length; i++) {
            pub(port, live[i]);
            if (liveTopics[i] != null) {
                // one publish at a time reaches the subscriber, so the transcript does not depend on timing
                awaitMessageLines(capture, ++received);
            }
        }
        int captureExit = capture.awaitExit();
        List<String> transcript = new ArrayList<>();
        transcript.add("# capture (exit " + captureExit + ")");
        capture.lines().stream().map(l -> MESSAGE_ID.matcher(l).replaceAll("#")).forEach(transcript::add);

        Runnable checkSubscribed = waiter.waitFor("cmp-check");
        Cli check = sub(port, "-i", "cmp-check", "-t", "#", "-q", "1", "-v", "--retained-only");
        checkSubscribed.run();
        pub(port, "-q", "1", "-t", "cmp/end", "-m", "end");
        int checkExit = check.awaitExit();
        transcript.add("# retained afterwards (exit " + checkExit + ")");
        check.lines().stream().sorted().forEach(transcript::add);
        return String.join("\n", transcript);
    }

    /** Waits until mosquitto_sub has printed n messages (lines printed for messages are flushed at once). */
    private static void awaitMessageLines(Cli sub, int n) {
        Supplier<Long> printed = () -> sub.lines().stream().filter(l -> l.startsWith("cmp/")).count();
        try {
            await().atMost(Duration.ofSeconds(5)).until(() -> printed.get() >= n || !sub.process.isAlive());
        } catch (ConditionTimeoutException e) {
            // a missing message shows up in the transcript comparison
        }
    }

    /** Starts Mosquitto logging to {@code log}, which must be tmp's mosquitto.log. */
    private int startMosquitto(Path log) {
        MosquittoProcess m = MosquittoProcess.start(tmp);
        assertThat(m.log()).isEqualTo(log);
        mosquittos.add(m);
        return m.port();
    }


    private static long countOccurrences(String text, String marker) {
        long n = 0;
        for (int i = text.indexOf(marker); i >= 0; i = text.indexOf(marker, i + 1)) {
            n++;
        }
        return n;
    }

    // ------------------------------------------------------------------------------------------ process helpers

    /** Runs mosquitto_pub to completion; it must succeed. */
    private void pub(int port, String... args) {
        Cli pub = start(command("mosquitto_pub", port, args), null);
        assertThat(pub.awaitExit()).as(pub.describe()).isZero();
    }

    /** Starts mosquitto_sub against the broker on {@code port}, with a -W timeout unless one is given. */
    private Cli sub(int port, String... args) {
        List<String> cmd = command("mosquitto_sub", port, args);
        if (!List.of(args).contains("-W")) {
            cmd.add("-W");
            cmd.add(SUB_TIMEOUT_SECONDS);
        }
        return start(cmd, null);
    }

    /**
     * Starts mosquitto_sub against TernMQ (with a client id of its own unless -i is given) and waits until the
     * broker has handled its SUBSCRIBE: the session is connected and has every -t filter.
     */
    private Cli subscribed(String... args) {
        List<String> argList = new ArrayList<>(List.of(args));
        int i = argList.indexOf("-i");
        String clientId;
        if (i >= 0) {
            clientId = argList.get(i + 1);
        } else {
            clientId = "sub-" + fileCounter.incrementAndGet();
            argList.add("-i");
            argList.add(clientId);
        }
        List<String> filters = new ArrayList<>();
        for (int t = argList.indexOf("-t"); t >= 0; t = indexOf(argList, "-t", t + 1)) {
            filters.add(argList.get(t + 1));
        }
        Cli sub = sub(broker.port(), argList.toArray(String[]::new));
        await("mosquitto_sub " + clientId + " subscribed to " + filters)
                .until(() -> hasSubscriptions(clientId, filters) || !sub.process.isAlive());
        assertThat(sub.process.isAlive()).as("mosquitto_sub still running: %s", sub.describe()).isTrue();
        return sub;
    }

    private static int indexOf(List<String> list, String element, int from) {
        for (int i = from; i < list.size(); i++) {
            if (list.get(i).equals(element)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Whether the client is connected with all these subscriptions. Asked on the session's owner loop, so a true
     * answer also means that the SUBSCRIBE that made them has been handled completely (retained messages sent).
     */
    private boolean hasSubscriptions(String clientId, List<String> filters) {
        Session s = broker.broker().sessions().get(clientId);
        if (s == null) {
            return false;
        }
        return s.owner().submit(() -> s.isConnected() && filters.stream().allMatch(f -> s.subscription(f) != null))
                .syncUninterruptibly().getNow();
    }

    private static List<String> command(String tool, int port, String... args) {
        List<String> cmd = new ArrayList<>(List.of(tool, "-h", "127.0.0.1", "-p", String.valueOf(port)));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private Cli start(List<String> command, Path stdin) {
        int n = fileCounter.incrementAndGet();
        Path out = tmp.resolve(n + "-" + command.get(0) + ".out");
        Path err = tmp.resolve(n + "-" + command.get(0) + ".err");
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .redirectInput(stdin == null ? ProcessBuilder.Redirect.from(new File("/dev/null"))
                        : ProcessBuilder.Redirect.from(stdin.toFile()));
        try {
            Process p = pb.start();
            processes.add(p);
            return new Cli(command, p, out, err);
        } catch (IOException e) {
            throw new AssertionError("cannot run " + command.get(0) + ": " + INSTALL_HINT, e);
        }
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path findOnPath(String tool) {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return Path.of(dir, tool);
            }
        }
        return null;
    }

    /** A client process started by the test, its output in files. */
    private record Cli(List<String> command, Process process, Path out, Path err) {

        List<String> lines() {
            return read(out).lines().toList();
        }

        /** Waits for the process to end (killing it after the timeout, which fails the test); the exit code. */
        int awaitExit() {
            try {
                if (!process.waitFor(PROCESS_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    fail("did not exit within " + PROCESS_TIMEOUT + ": " + describe());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
            return process.exitValue();
        }

        /** Waits for a successful exit; the lines printed. */
        List<String> awaitSuccess() {
            assertThat(awaitExit()).as("exit code of %s", describe()).isZero();
            return lines();
        }

        String describe() {
            return String.join(" ", command) + (process.isAlive() ? " (running)" : " (exit " + process.exitValue()
                    + ")") + "\n--- stdout:\n" + read(out) + "--- stderr:\n" + read(err);
        }
    }
}
