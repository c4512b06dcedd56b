package io.ternmq.broker.security;

import io.ternmq.codec.MqttVersion;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class PasswordFileTest {

    private static String hash(String password) {
        return PasswordHash.hash(password.toCharArray(), 1000);
    }

    @Test
    @DisplayName("users, SCRAM credentials and comments survive a rewrite; new files are private to their owner")
    void editAndSave(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("passwd");
        PasswordFile pf = PasswordFile.empty();
        pf.put(new PasswordFile.Entry("alice", hash("a"), null));
        pf.put(new PasswordFile.Entry("bob", hash("b"), ScramCredentials.derive("b".toCharArray(), 4096)));
        pf.save(file);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        Files.writeString(file, "# managed by hand\n" + Files.readString(file));
        PasswordFile loaded = PasswordFile.load(file);
        assertThat(loaded.users()).containsOnlyKeys("alice", "bob");
        assertThat(loaded.get("alice").scram()).isNull();
        assertThat(loaded.get("bob").scram()).isEqualTo(pf.get("bob").scram());
        loaded.put(new PasswordFile.Entry("alice", hash("a2"), null));
        assertThat(loaded.remove("bob")).isTrue();
        assertThat(loaded.remove("bob")).isFalse();
        loaded.save(file);
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).isEqualTo("# managed by hand");
        assertThat(lines.get(1)).startsWith("alice:$7$1000$");
    }

    @Test
    @DisplayName("bad lines are refused with file and line; plain text passwords too")
    void errors() {
        assertThatThrownBy(() -> PasswordFile.parse("p", List.of("alice")))
                .hasMessage("p:1: expected 'username:hash'");
        assertThatThrownBy(() -> PasswordFile.parse("p", List.of("# c", "alice:secret")))
                .hasMessageStartingWith("p:2: user 'alice': the password is not hashed");
        String h = hash("x");
        assertThatThrownBy(() -> PasswordFile.parse("p", List.of("a:" + h, "a:" + h)))
                .hasMessage("p:2: user 'a' also on line 1");
        assertThatThrownBy(() -> PasswordFile.parse("p", List.of("a:" + h + ":SCRAM-SHA-256$1:x")))
                .hasMessageStartingWith("p:1: user 'a': malformed SCRAM");
        assertThatThrownBy(() -> PasswordFile.empty().put(new PasswordFile.Entry("a:b", h, null)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    @DisplayName("the authenticator checks passwords off the calling thread and follows the file as it changes")
    void authenticatorReloads(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("passwd");
        Files.writeString(file, "alice:" + hash("one") + "\n");
        ExecutorService worker = Executors.newSingleThreadExecutor();
        try (FileWatcher watcher = new FileWatcher(1)) {
            ReloadingFile<PasswordFile> f = new ReloadingFile<>(file, "password file", PasswordFile::load, watcher);
            PasswordFileAuthenticator auth = new PasswordFileAuthenticator(f, worker);
            assertThat(check(auth, "alice", "one")).isEqualTo(AuthResult.ACCEPTED);
            assertThat(check(auth, "alice", "one")).as("cached").isEqualTo(AuthResult.ACCEPTED);
            assertThat(check(auth, "alice", "two")).isEqualTo(AuthResult.BAD_USER_NAME_OR_PASSWORD);
            assertThat(check(auth, "nobody", "one")).isEqualTo(AuthResult.BAD_USER_NAME_OR_PASSWORD);
            assertThat(check(auth, null, "one")).isEqualTo(AuthResult.BAD_USER_NAME_OR_PASSWORD);
            assertThat(check(auth, "alice", null)).isEqualTo(AuthResult.BAD_USER_NAME_OR_PASSWORD);

            Files.writeString(file, "alice:" + hash("two") + "\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> check(auth, "alice", "two") == AuthResult.ACCEPTED);
            assertThat(check(auth, "alice", "one")).as("the cached success went with the old file")
                    .isEqualTo(AuthResult.BAD_USER_NAME_OR_PASSWORD);
        } finally {
            worker.shutdownNow();
        }
    }

    @Test
    @DisplayName("a password file that cannot be read stops the start")
    void unreadableAtStart(@TempDir Path dir) {
        assertThatThrownBy(() -> new ReloadingFile<>(dir.resolve("missing"), "password file", PasswordFile::load,
                null)).isInstanceOf(io.ternmq.broker.config.ConfigException.class)
                .hasMessageContaining("password file").hasMessageContaining("cannot read");
    }

    private static AuthResult check(Authenticator a, String user, String password) {
        return a.authenticate(new AuthRequest("c", user, password == null ? null
                : password.getBytes(StandardCharsets.UTF_8), "127.0.0.1:1", MqttVersion.MQTT_3_1_1))
                .toCompletableFuture().join();
    }
}
