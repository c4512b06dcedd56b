package io.ternmq.broker;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The start-up log names the JVM's memory limits, collector and options, so a user knows what runs. */
class JvmInfoTest {

    @Test
    @DisplayName("the line names the heap limit, the collector and every JVM option of this process")
    void describesThisJvm() {
        String line = JvmInfo.describe();
        assertThat(line).startsWith("JVM: ").contains("heap max " + JvmInfo.size(Runtime.getRuntime().maxMemory()));
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            assertThat(line).contains(gc.getName());
        }
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            assertThat(line).contains(arg);
        }
    }

    @Test
    @DisplayName("sizes: whole GiB when exact, else whole MiB")
    void sizes() {
        assertThat(JvmInfo.size(1L << 30)).isEqualTo("1 GiB");
        assertThat(JvmInfo.size(96L << 20)).isEqualTo("96 MiB");
        assertThat(JvmInfo.size(6320816128L)).isEqualTo("6028 MiB");
        assertThat(JvmInfo.size(1536L << 20)).isEqualTo("1536 MiB");
        assertThat(JvmInfo.size(Long.MAX_VALUE)).isEqualTo("unlimited");
    }

    @Test
    @DisplayName("a broker started with -Xmx96m says so in its first log line")
    void firstLogLineOfABroker(@TempDir Path dir) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = List.of(java, "-Xmx96m", "-XX:+UseG1GC", "-cp", System.getProperty("java.class.path"),
                "io.ternmq.broker.Main", "--port", "0", "--data-dir", dir.resolve("data").toString());
        Process broker = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(
                new InputStreamReader(broker.getInputStream(), StandardCharsets.UTF_8))) {
            String first = CompletableFuture.supplyAsync(() -> {
                try {
                    return out.readLine();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).get(60, TimeUnit.SECONDS);
            assertThat(first).contains(" JVM: ").contains("heap max 96 MiB").contains("-Xmx96m")
                    .contains("G1 Young Generation");
        } finally {
            broker.destroy();
            if (!broker.waitFor(20, TimeUnit.SECONDS)) {
                broker.destroyForcibly().waitFor();
            }
        }
    }
}
