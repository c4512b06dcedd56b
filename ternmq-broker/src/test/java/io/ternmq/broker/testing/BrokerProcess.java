package io.ternmq.broker.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;

/**
 * The broker as its own process ({@code java -cp <test class path> io.ternmq.broker.Main}, {@code -Xmx256m}) in a
 * working directory of its own, so that defaults relative to it ({@code extensions/}, {@code data/}) are what a user
 * gets. The directory is deleted on close; the log is kept in it until then and named by failures.
 * <p>
 * The broker binds port 0 itself and the port it got is read from its log ({@link #LISTENING}): a port picked
 * free beforehand and passed on could be taken by another process in between.
 */
public final class BrokerProcess implements AutoCloseable {
    /** The line MqttServer logs per listener, with the port actually bound (group 1). */
    public static final Pattern LISTENING = Pattern.compile("Listening for MQTT on \\S*:(\\d+): ");

    private final Path workDir;
    private final Path log;
    private int port = -1;
    private Process process;
    private final List<String> jvmOptions = new ArrayList<>();

    private BrokerProcess(Path workDir) {
        this.workDir = workDir;
        this.log = workDir.resolve("broker.log");
    }

    /** A working directory for a broker not started yet: put files (extensions/, a config) in it first. */
    public static BrokerProcess prepare() {
        try {
            return new BrokerProcess(Files.createTempDirectory("ternmq-process-"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path workDir() {
        return workDir;
    }

    /** The MQTT port, known once {@link #start} has returned. */
    public int port() {
        if (port < 0) {
            throw new IllegalStateException("the broker has not logged its port yet; start() it first");
        }
        return port;
    }

    /** The port of the first "Listening for MQTT" line in a log, if there is one yet. */
    public static OptionalInt listeningPort(String logText) {
        Matcher m = LISTENING.matcher(logText);
        return m.find() ? OptionalInt.of(Integer.parseInt(m.group(1))) : OptionalInt.empty();
    }

    public String uri() {
        return "tcp://127.0.0.1:" + port();
    }

    /** JVM options for the broker's process (system properties, say), given before {@link #start}. */
    public BrokerProcess jvmOptions(String... options) {
        jvmOptions.addAll(List.of(options));
        return this;
    }

    /** Starts {@code ternmq --port 0 --bind 127.0.0.1 [extra...]} in the working directory. */
    public BrokerProcess launch(String... extra) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"),
                "io.ternmq.broker.Main", "--port", "0", "--bind", "127.0.0.1"));
        command.addAll(List.of(extra));
        try {
            process = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** Starts, learns the port from the log and waits until the listener accepts connections. */
    public BrokerProcess start(String... extra) {
        launch(extra);
        await("broker logging its MQTT port in " + log).atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(50)).until(() -> {
                    if (!process.isAlive()) {
                        throw new AssertionError("broker exited with " + process.exitValue() + ": " + output());
                    }
                    OptionalInt logged = listeningPort(output());
                    logged.ifPresent(p -> port = p);
                    return logged.isPresent();
                });
        await("broker listening on " + port).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new AssertionError("broker exited with " + process.exitValue() + ": " + output());
                    }
                    try (Socket s = new Socket()) {
                        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                        return true;
                    } catch (IOException e) {
                        return false;
                    }
                });
        return this;
    }

    /** Waits for the process to end by itself. @return its exit status */
    public int awaitExit(Duration within) {
        try {
            if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("broker still running after " + within + ": " + output());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        return process.exitValue();
    }

    public String output() {
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + log + ")";
        }
    }

    /** Stops the broker (SIGTERM: its shutdown hook stops extensions) and waits for it. */
    public void stop() {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stop();
        try (Stream<Path> files = Files.walk(workDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a temporary directory left behind is harmless
        }
    }
}
