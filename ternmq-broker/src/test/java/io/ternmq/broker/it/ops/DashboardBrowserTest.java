package io.ternmq.broker.it.ops;

import io.ternmq.broker.security.PasswordFile;
import io.ternmq.broker.security.PasswordHash;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The browser tests of the dashboard and of MQTT over WebSocket ({@code src/test/browser/*.test.mjs}): Node's test
 * runner drives Debian's Chromium (headless, through playwright-core) and mqtt.js against broker processes it
 * starts itself with this class path. Needs {@code npm ci} in {@code src/test/browser} first ({@code .ci/run} does
 * it). Screenshots go to {@code target/e2e-screenshots/}, Node's report to {@code target/e2e-node.log}.
 */
class DashboardBrowserTest {
    private static final Path TESTS = Path.of("src/test/browser");
    private static final Path SCREENSHOTS = Path.of("target/e2e-screenshots").toAbsolutePath();
    private static final Path REPORT = Path.of("target/e2e-node.log").toAbsolutePath();

    @TempDir
    Path dir;

    private static void needNpmCi() {
        assertThat(TESTS.resolve("node_modules/playwright-core/package.json"))
                .as("the browser tests' packages: run `npm ci --prefix ternmq-broker/src/test/browser` (.ci/run does)")
                .isRegularFile();
    }

    @Test
    @DisplayName("node --test: login, every page (screenshots), 1,000 QoS 1 over ws in the page, counts, kick 152, "
            + "retained publish/delete, read-only 403, alarms, topic metrics, topics and slow subscribers paged, "
            + "a trace shows the PUBLISH, logout, Nodes, Clients, Topic metrics and Trace of a two-node cluster; no "
            + "console error, no request off 127.0.0.1")
    void browserTests() throws Exception {
        needNpmCi();
        Path passwd = dir.resolve("admin.passwd");
        PasswordFile pf = PasswordFile.empty();
        pf.put(new PasswordFile.Entry("ops", PasswordHash.hash("secret".toCharArray(), 1000), null));
        pf.put(new PasswordFile.Entry("viewer", PasswordHash.hash("look".toCharArray(), 1000), null));
        pf.save(passwd);
        if (Files.isDirectory(SCREENSHOTS)) {
            try (Stream<Path> old = Files.list(SCREENSHOTS)) {
                for (Path p : old.toList()) {
                    Files.delete(p);
                }
            }
        }
        List<String> command = new ArrayList<>(List.of("node", "--test", "--test-concurrency=1",
                "--test-timeout=240000"));
        try (Stream<Path> files = Files.list(TESTS)) {
            files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".test.mjs")).sorted()
                    .forEach(command::add);
        }
        ProcessBuilder pb = new ProcessBuilder(command).directory(TESTS.toFile()).redirectErrorStream(true)
                .redirectOutput(REPORT.toFile());
        pb.environment().put("TERNMQ_JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        pb.environment().put("TERNMQ_CLASSPATH", System.getProperty("java.class.path"));
        pb.environment().put("TERNMQ_ADMIN_PASSWD", passwd.toString());
        pb.environment().put("TERNMQ_SCREENSHOTS", SCREENSHOTS.toString());
        long t0 = System.nanoTime();
        Process node = pb.start();
        boolean ended = node.waitFor(15, TimeUnit.MINUTES);
        if (!ended) {
            node.descendants().forEach(ProcessHandle::destroyForcibly);
            node.destroyForcibly();
        }
        String report = Files.readString(REPORT, StandardCharsets.UTF_8);
        assertThat(ended).as("node --test still running after 15 minutes:\n" + report).isTrue();
        assertThat(node.exitValue()).as("node --test failed (" + REPORT + "):\n" + report).isZero();
        assertThat(report).contains("# fail 0").doesNotContain("# pass 0");
        System.out.printf("Browser tests: %d s (%s)%n", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0),
                REPORT);
        for (String page : List.of("login", "overview", "clients", "client-detail", "subscriptions", "topics",
                "retained", "retained-preview", "metrics", "alarms", "slow-subscribers", "topic-metrics", "trace",
                "systree", "readonly-client", "readonly-retained", "alarms-raised", "topic-metrics-counting",
                "topics-listed", "slow-subscribers-queued", "trace-live", "logged-out")) {
            assertThat(SCREENSHOTS.resolve(page + ".png")).isRegularFile();
        }
    }

    @Test
    @DisplayName("the vendored uPlot is npm's uplot 1.6.32, byte for byte, with its MIT licence")
    void vendoredUplotIsNpms() throws IOException {
        needNpmCi();
        Path vendor = Path.of("src/main/resources/io/ternmq/broker/admin/dashboard/vendor");
        Path npm = TESTS.resolve("node_modules/uplot");
        assertThat(Files.readString(npm.resolve("package.json"))).contains("\"version\": \"1.6.32\"");
        assertThat(vendor.resolve("uPlot.iife.min.js")).hasSameBinaryContentAs(npm.resolve("dist/uPlot.iife.min.js"));
        assertThat(vendor.resolve("uPlot.min.css")).hasSameBinaryContentAs(npm.resolve("dist/uPlot.min.css"));
        assertThat(vendor.resolve("uPlot.LICENSE.txt")).hasSameBinaryContentAs(npm.resolve("LICENSE"));
    }
}
