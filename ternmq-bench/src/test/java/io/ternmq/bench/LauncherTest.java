package io.ternmq.bench;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * {@code bin/ternmq} chooses the JVM's memory options, {@code TERNMQ_JAVA_OPTS} wins over them, and the broker's first
 * log line says what runs. Lives here because this module is built after the broker's jar, which the launcher starts.
 */
@Timeout(120)
class LauncherTest {
    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();

    @Test
    @DisplayName("without TERNMQ_JAVA_OPTS: a bounded heap that starts small, G1 returning memory, glibc arenas")
    void defaults(@TempDir Path dir) throws Exception {
        String line = firstLogLine(dir, null);
        assertThat(line).contains("-Xms16m", "-XX:+UseG1GC", "-XX:G1PeriodicGCInterval=15000",
                "-XX:MaxHeapFreeRatio=20", "MALLOC_ARENA_MAX=2", "G1 Young Generation");
        Matcher xmx = Pattern.compile("-Xmx(\\d+)m").matcher(line);
        assertThat(xmx.find()).as("a maximum heap in: %s", line).isTrue();
        assertThat(Integer.parseInt(xmx.group(1))).isBetween(64, 2048);
        assertThat(line).contains("heap max " + sizeOf(Integer.parseInt(xmx.group(1))));
    }

    @Test
    @DisplayName("a heap size in TERNMQ_JAVA_OPTS replaces the launcher's sizing")
    void heapFromTheUser(@TempDir Path dir) throws Exception {
        String line = firstLogLine(dir, "-Xmx100m");
        assertThat(line).contains("heap max 100 MiB", "-Xmx100m").doesNotContain("-Xms16m")
                .doesNotContain("MaxDirectMemorySize");
    }

    @Test
    @DisplayName("a collector in TERNMQ_JAVA_OPTS replaces G1 and its settings")
    void collectorFromTheUser(@TempDir Path dir) throws Exception {
        String line = firstLogLine(dir, "-XX:+UseSerialGC");
        assertThat(line).contains("-XX:+UseSerialGC", "Copy").doesNotContain("G1");
    }

    private static String sizeOf(int mib) {
        return mib % 1024 == 0 ? mib / 1024 + " GiB" : mib + " MiB";
    }

    private static String firstLogLine(Path dir, String javaOpts) throws Exception {
        Path launcher = ROOT.resolve("bin/ternmq");
        assumeThat(Files.exists(ROOT.resolve("ternmq-broker/target/ternmq.jar")))
                .as("the broker's jar is built (mvnw package) before this module's tests").isTrue();
        ProcessBuilder pb = new ProcessBuilder(List.of(launcher.toString(), "--port", "0", "--data-dir",
                dir.resolve("data").toString())).redirectErrorStream(true);
        pb.environment().remove("TERNMQ_JAVA_OPTS");
        pb.environment().remove("MALLOC_ARENA_MAX");
        if (javaOpts != null) {
            pb.environment().put("TERNMQ_JAVA_OPTS", javaOpts);
        }
        Process broker = pb.start();
        try (BufferedReader out = new BufferedReader(
                new InputStreamReader(broker.getInputStream(), StandardCharsets.UTF_8))) {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    String l = out.readLine();
                    return l == null ? "(no output)" : l;
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).get(60, TimeUnit.SECONDS);
        } finally {
            broker.destroy();
            if (!broker.waitFor(20, TimeUnit.SECONDS)) {
                broker.destroyForcibly().waitFor();
            }
        }
    }
}
