package io.ternmq.broker.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

/**
 * A server program of the machine's (Debian's haproxy, nginx) run by a test in the foreground, unprivileged in what
 * it touches (its own directory and a loopback port), and stopped with the test. A test is skipped, saying how to
 * install it, when the program is missing.
 */
public final class ExternalServer implements AutoCloseable {
    private final Process process;
    private final Path log;

    private ExternalServer(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Skips the calling test unless the program exists. */
    public static void assumeInstalled(String binary, String debianPackage) {
        assumeThat(Files.isExecutable(Path.of(binary)))
                .as(binary + " is not installed: apt-get install -y " + debianPackage + " (.ci/run does)").isTrue();
    }

    /** A free loopback port (the OS's pick; free when asked, almost surely still free when used). */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts the command (output to dir/NAME.log) and waits until 127.0.0.1:port accepts connections. */
    public static ExternalServer start(Path dir, String name, int port, List<String> command) {
        Path log = dir.resolve(name + ".log");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            ExternalServer server = new ExternalServer(p, log);
            try {
                await(name + " listening on " + port).atMost(Duration.ofSeconds(10)).until(() -> {
                    if (!p.isAlive()) {
                        throw new AssertionError(name + " exited: " + server.output());
                    }
                    try (Socket s = new Socket()) {
                        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                        return true;
                    } catch (IOException e) {
                        return false;
                    }
                });
            } catch (RuntimeException | AssertionError e) {
                server.close();
                throw e;
            }
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The running process, for a test that signals it and reads its exit status. */
    public Process process() {
        return process;
    }

    public String output() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "(cannot read " + log + ")";
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
