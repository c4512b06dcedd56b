package io.ternmq.broker.testing;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.fail;

import org.awaitility.core.ConditionTimeoutException;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Debian {@code mosquitto} broker as a process of its own, as a reference broker or a bridge's other end. It
 * listens on 127.0.0.1 at a port picked free (Mosquitto cannot bind port 0 and report it), tried again on another
 * port if taken meanwhile; {@link #restart()} comes back on the same port (a bridge reconnects there). Its log, all
 * types, goes to {@code mosquitto.log} in its directory.
 */
public final class MosquittoProcess implements AutoCloseable {
    public static final String INSTALL_HINT =
            "run `apt-get install -y mosquitto mosquitto-clients python3-paho-mqtt` (as .ci/run does)";
    public static final Path BINARY = Path.of("/usr/sbin/mosquitto");

    private final Path dir;
    private final List<String> extraLines;
    private final Path log;
    private int port;
    private Process process;

    private MosquittoProcess(Path dir, List<String> extraLines) {
        this.dir = dir;
        this.extraLines = List.copyOf(extraLines);
        this.log = dir.resolve("mosquitto.log");
    }

    /** Fails the test (with how to install it) if the broker is missing. */
    public static void requireInstalled() {
        if (!Files.isExecutable(BINARY)) {
            fail(BINARY + " (the Mosquitto broker) is not installed: " + INSTALL_HINT);
        }
    }

    /**
     * Starts Mosquitto with anonymous access, no persistence, and {@code extraLines} after its listener (more
     * configuration: a bridge's connection section, ...).
     */
    public static MosquittoProcess start(Path dir, String... extraLines) {
        requireInstalled();
        MosquittoProcess m = new MosquittoProcess(dir, List.of(extraLines));
        IOException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                m.port = freePort();
                m.launch();
                return m;
            } catch (IOException e) {
                last = e;
            }
        }
        throw new AssertionError(last);
    }

    public int port() {
        return port;
    }

    public String uri() {
        return "tcp://127.0.0.1:" + port;
    }

    public Path log() {
        return log;
    }

    public String output() {
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + log + ")";
        }
    }

    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    private void launch() throws IOException {
        Path conf = dir.resolve("mosquitto-" + port + ".conf");
        List<String> lines = new ArrayList<>(List.of(
                "listener " + port + " 127.0.0.1",
                "allow_anonymous true",
                "persistence false",
                "log_dest stderr", // flushed line by line, unlike stdout
                "log_type all",
                // started as root, Mosquitto would become user "mosquitto" and could not write its persistence
                // file into the test's directory; as another user this line changes nothing
                "user root"));
        lines.addAll(extraLines);
        lines.add("");
        Files.writeString(conf, String.join("\n", lines));
        String before = output();
        ProcessBuilder pb = new ProcessBuilder(BINARY.toString(), "-c", conf.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new AssertionError("cannot start " + BINARY + ": " + INSTALL_HINT, e);
        }
        process = p;
        try {
            await("Mosquitto running on " + port).atMost(Duration.ofSeconds(10))
                    .until(() -> output().substring(before.length()).contains(" running") || !p.isAlive());
        } catch (ConditionTimeoutException e) {
            p.destroyForcibly();
            throw new IOException("Mosquitto did not start: " + output());
        }
        if (!p.isAlive()) {
            throw new IOException("Mosquitto exited at start (port " + port + " taken?): " + output());
        }
    }

    /** Stops the broker (SIGTERM) and waits for it. */
    public void stop() {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Starts it again on the same port, with the same configuration. */
    public void restart() {
        stop();
        try {
            launch();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        if (process != null) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }
}
