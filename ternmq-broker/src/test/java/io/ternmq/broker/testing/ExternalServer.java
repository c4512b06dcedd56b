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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
    private int port = -1;

    private ExternalServer(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Skips the calling test unless the program exists. */
    public static void assumeInstalled(String binary, String debianPackage) {
        assumeThat(Files.isExecutable(Path.of(binary)))
                .as(binary + " is not installed: apt-get install -y " + debianPackage + " (.ci/run does)").isTrue();
    }

    /**
     * A free loopback port (the OS's pick; free when asked, but another process can take it before the program binds
     * it: for a program that can bind port 0 and log its port, use {@link #startLoggingPort} instead).
     */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts a program on the port it is given (writing its configuration first, if it needs one). */
    @FunctionalInterface
    public interface StartOnPort {
        ExternalServer start(int port) throws IOException;
    }

    /** Attempts before {@link #startOnFreePort} gives up on clashes. */
    private static final int PORT_ATTEMPTS = 5;

    /**
     * For a program that cannot bind port 0 and say which port it got (haproxy, nginx, mosquitto): starts it on a
     * free port and, when another process took that port in between (the program exits saying its address is in use
     * or that it cannot bind), on another one, up to {@value #PORT_ATTEMPTS} times, as ClusterHarness does for its
     * nodes. {@link #port()} tells the port it listens on.
     */
    public static ExternalServer startOnFreePort(StartOnPort starter) throws IOException {
        for (int attempt = 1; ; attempt++) {
            int port = freePort();
            try {
                ExternalServer server = starter.start(port);
                server.port = port;
                return server;
            } catch (RuntimeException | AssertionError e) {
                if (attempt == PORT_ATTEMPTS || !portClash(e)) {
                    throw e;
                }
            }
        }
    }

    private static boolean portClash(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage()).toLowerCase(java.util.Locale.ROOT);
            if (m.contains("already in use") || m.contains("cannot bind")) {
                return true;
            }
        }
        return false;
    }

    /** Starts the command (output to dir/NAME.log) and waits until 127.0.0.1:port accepts connections. */
    public static ExternalServer start(Path dir, String name, int port, List<String> command) {
        ExternalServer server = launch(dir, name, command);
        try {
            server.awaitListening(name, port);
        } catch (RuntimeException | AssertionError e) {
            server.close();
            throw e;
        }
        return server;
    }

    /**
     * Starts a command that binds port 0 itself and logs the port it got (group 1 of portLine, e.g.
     * {@link BrokerProcess#LISTENING}), waits for that line and until the port accepts connections: no port is
     * picked beforehand, which another process could take in between.
     */
    public static ExternalServer startLoggingPort(Path dir, String name, Pattern portLine, List<String> command) {
        ExternalServer server = launch(dir, name, command);
        try {
            int[] port = {-1};
            await(name + " logging its port (" + portLine + ") in " + server.log).atMost(Duration.ofSeconds(10))
                    .until(() -> {
                        if (!server.process.isAlive()) {
                            throw new AssertionError(name + " exited: " + server.output());
                        }
                        Matcher m = portLine.matcher(server.output());
                        if (m.find()) {
                            port[0] = Integer.parseInt(m.group(1));
                        }
                        return port[0] >= 0;
                    });
            server.port = port[0];
            server.awaitListening(name, port[0]);
        } catch (RuntimeException | AssertionError e) {
            server.close();
            throw e;
        }
        return server;
    }

    private static ExternalServer launch(Path dir, String name, List<String> command) {
        Path log = dir.resolve(name + ".log");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            return new ExternalServer(p, log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void awaitListening(String name, int port) {
        await(name + " listening on " + port).atMost(Duration.ofSeconds(10)).until(() -> {
            if (!process.isAlive()) {
                throw new AssertionError(name + " exited: " + output());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return true;
            } catch (IOException e) {
                return false;
            }
        });
    }

    /** The port learnt by {@link #startLoggingPort}, or given by {@link #startOnFreePort}. */
    public int port() {
        if (port < 0) {
            throw new IllegalStateException("not started with startLoggingPort or startOnFreePort");
        }
        return port;
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
