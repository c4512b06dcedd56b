package io.ternmq.broker.it;

import io.ternmq.broker.testing.ResilientClient;
import io.ternmq.codec.QoS;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Kills the broker process with SIGKILL at random moments while QoS 1 and QoS 2 publishers and persistent
 * subscribers keep running, restarts it on the same data directory, and checks the durability promise: every
 * acknowledged message reaches its subscriber at least once (QoS 1) or exactly once (QoS 2), in order of first
 * arrival per publisher. The number of kills is {@code -Dternmq.crash.kills} (3 by default; the {@code crash-long}
 * Maven profile runs 100); {@code -Dternmq.crash.seed} repeats a run, {@code -Dternmq.crash.verbose=true} logs the
 * broker at debug level.
 */
class CrashTest {
    private static final int KILLS = Integer.getInteger("ternmq.crash.kills", 3);
    private static final long SEED = Long.getLong("ternmq.crash.seed", System.nanoTime());

    private Process broker;
    private Path dataDir;
    private Path log;
    private int port;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        if (broker != null) {
            broker.destroyForcibly().waitFor();
        }
        if (dataDir != null) {
            try (var files = Files.walk(dataDir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** One publisher: sends 1, 2, 3 ... on its topic from its own thread, up to 10 in flight. */
    private static final class Publisher {
        final String topic;
        final QoS qos;
        final ResilientClient client;
        final AtomicBoolean running = new AtomicBoolean(true);
        final Thread thread;

        Publisher(String id, int port, String topic, QoS qos) {
            this.topic = topic;
            this.qos = qos;
            this.client = ResilientClient.publisher(id, port);
            client.topic(topic);
            this.thread = new Thread(this::run, "publisher-" + id);
        }

        void run() {
            long seq = 1;
            while (running.get()) {
                if (client.tryPublish(topic, qos, seq, 10)) {
                    seq++;
                } else {
                    // a load thread, not a test waiting for a condition: back off briefly, never spin the CPU
                    LockSupport.parkNanos(1_000_000);
                }
            }
        }

        Set<Long> acknowledged() {
            return client.acknowledged();
        }
    }

    private void startBroker() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                "io.ternmq.broker.Main", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--data-dir", dataDir.toString()));
        if (Boolean.getBoolean("ternmq.crash.verbose")) {
            command.add("-v");
        }
        broker = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return true;
            } catch (IOException e) {
                return false;
            }
        });
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    @DisplayName("SIGKILL at random moments loses no acknowledged message: QoS 1 at least once, QoS 2 exactly once, "
            + "in order")
    void killedBrokerLosesNothingAcknowledged() throws Exception {
        Random random = new Random(SEED);
        dataDir = Files.createTempDirectory("ternmq-crash-");
        log = dataDir.resolveSibling(dataDir.getFileName() + ".log");
        port = freePort();
        startBroker();
        ResilientClient q1 = ResilientClient.subscriber("crash-sub-1", port, "crash/q1/#", QoS.AT_LEAST_ONCE);
        ResilientClient q2 = ResilientClient.subscriber("crash-sub-2", port, "crash/q2/#", QoS.EXACTLY_ONCE);
        closeables.add(q1);
        closeables.add(q2);
        // the subscriptions exist once both sessions are on disk with them: a first message proves it
        await().atMost(Duration.ofSeconds(20)).until(() -> q1.isConnected() && q2.isConnected());
        Publisher p1 = new Publisher("crash-pub-1", port, "crash/q1/p1", QoS.AT_LEAST_ONCE);
        Publisher p2 = new Publisher("crash-pub-2", port, "crash/q2/p2", QoS.EXACTLY_ONCE);
        List<Publisher> publishers = List.of(p1, p2);
        await().atMost(Duration.ofSeconds(20)).until(() -> p1.client.isConnected() && p2.client.isConnected());
        for (Publisher p : publishers) {
            closeables.add(p.client);
            p.thread.start();
        }
        // messages published before the subscriptions existed are not owed to anyone: start counting after the
        // first arrivals
        await().atMost(Duration.ofSeconds(20)).until(() -> !q1.received().isEmpty() && !q2.received().isEmpty());
        long floor1 = p1.acknowledged().stream().mapToLong(Long::longValue).max().orElse(0);
        long floor2 = p2.acknowledged().stream().mapToLong(Long::longValue).max().orElse(0);

        for (int kill = 1; kill <= KILLS; kill++) {
            int target = acknowledged(publishers) + 20 + random.nextInt(300);
            await().atMost(Duration.ofSeconds(60)).until(() -> acknowledged(publishers) >= target);
            broker.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook, no flush
            startBroker();
        }
        // let the last run settle, then stop publishing and wait for the last acknowledgements
        int settled = acknowledged(publishers) + 100;
        await().atMost(Duration.ofSeconds(60)).until(() -> acknowledged(publishers) >= settled);
        for (Publisher p : publishers) {
            p.running.set(false);
            p.thread.join();
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> p1.client.inflightCount() == 0
                && p2.client.inflightCount() == 0);

        String note = " (seed " + SEED + ", " + KILLS + " kills, broker log " + log + ")";
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertThat(sequence(q1, p1.topic)).as("QoS 1 subscriber" + note)
                    .containsAll(above(p1.acknowledged(), floor1));
            assertThat(sequence(q2, p2.topic)).as("QoS 2 subscriber" + note)
                    .containsAll(above(p2.acknowledged(), floor2));
        });
        assertFirstArrivalsInOrder(sequence(q1, p1.topic), "QoS 1" + note);
        List<Long> qos2 = sequence(q2, p2.topic);
        assertFirstArrivalsInOrder(qos2, "QoS 2" + note);
        assertThat(qos2).as("QoS 2 delivered exactly once" + note).doesNotHaveDuplicates();
        assertThat(acknowledged(publishers)).isGreaterThan(100);
    }

    private static Set<Long> above(Set<Long> seqs, long floor) {
        Set<Long> out = new HashSet<>();
        for (long s : seqs) {
            if (s > floor) {
                out.add(s);
            }
        }
        return out;
    }

    private static int acknowledged(List<Publisher> publishers) {
        return publishers.stream().mapToInt(p -> p.acknowledged().size()).sum();
    }

    /** The sequence numbers a subscriber received on one topic, in arrival order. */
    private static List<Long> sequence(ResilientClient subscriber, String topic) {
        List<Long> out = new ArrayList<>();
        for (String line : subscriber.received()) {
            int space = line.indexOf(' ');
            if (line.substring(0, space).equals(topic)) {
                out.add(Long.parseLong(line.substring(space + 1)));
            }
        }
        return out;
    }

    /** Sequence numbers in order of first arrival must rise. */
    private static void assertFirstArrivalsInOrder(List<Long> arrivals, String what) {
        Set<Long> seen = new HashSet<>();
        long last = 0;
        for (long seq : arrivals) {
            if (seen.add(seq)) {
                assertThat(seq).as(what + ": first arrival of " + seq + " after " + last).isGreaterThan(last);
                last = seq;
            }
        }
    }
}
