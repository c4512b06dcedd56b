package io.ternmq.broker;

import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.config.ConfigException;
import io.ternmq.broker.config.ConfigFileParser;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The command line: overrides, and errors that name the problem and exit non-zero. */
class MainTest {

    private static BrokerConfig configFrom(String... args) {
        Main main = new Main();
        new CommandLine(main).parseArgs(args);
        return main.buildConfig();
    }

    @Test
    @DisplayName("without arguments: 127.0.0.1:1883 and ./data, like Mosquitto 2's local-only default")
    void defaults() {
        BrokerConfig c = configFrom();
        assertThat(c.transport().listeners()).singleElement().satisfies(l -> {
            assertThat(l.bindAddress()).isEqualTo("127.0.0.1");
            assertThat(l.port()).isEqualTo(1883);
        });
        assertThat(c.storage().dataDir()).isEqualTo(Path.of("data"));
    }

    @Test
    @DisplayName("--port, --bind and --data-dir override the defaults and the file's first listener")
    void overrides(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("t.conf");
        Files.writeString(file, "listener 1884 0.0.0.0\nlistener 1885\ndata_dir /var/lib/x\n");
        BrokerConfig c = configFrom("-c", file.toString(), "--port", "2000", "--bind", "127.0.0.2",
                "--data-dir", dir.toString());
        assertThat(c.transport().listeners()).hasSize(2);
        assertThat(c.transport().listeners().get(0).port()).isEqualTo(2000);
        assertThat(c.transport().listeners().get(0).bindAddress()).isEqualTo("127.0.0.2");
        assertThat(c.transport().listeners().get(1).port()).isEqualTo(1885);
        assertThat(c.storage().dataDir()).isEqualTo(dir);
    }

    @Test
    @DisplayName("an out-of-range --port is refused with a message naming it")
    void badPort() {
        assertThatThrownBy(() -> configFrom("--port", "70000"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("--port");
    }

    @Test
    @DisplayName("a bad config file exits with status 2 and one line naming file, line, key and problem")
    void badConfigExits(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("bad.conf");
        Files.writeString(file, "# comment\nmax_inflight_messages lots\n");
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.run("-c", file.toString());
        } finally {
            System.setErr(old);
        }
        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8).strip())
                .isEqualTo("ternmq: " + file + ":2: max_inflight_messages: 'lots' is not a whole number");
    }

    @Test
    @DisplayName("an unknown option exits with status 2 (picocli usage error)")
    void unknownOption() {
        PrintStream old = System.err;
        System.setErr(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        try {
            assertThat(Main.run("--no-such-option")).isEqualTo(2);
        } finally {
            System.setErr(old);
        }
    }

    @Test
    @DisplayName("docs/configuration.md documents every configuration key")
    void everyKeyDocumented() throws IOException {
        Path doc = Path.of("..", "docs", "configuration.md");
        String text = Files.readString(doc);
        for (String key : ConfigFileParser.keys()) {
            assertThat(text).as("docs/configuration.md mentions " + key).contains("`" + key + "`");
        }
        assertThat(text).contains("`listener`");
    }
}
