package io.ternmq.broker;

import io.ternmq.broker.security.PasswordFile;
import io.ternmq.broker.security.PasswordHash;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/** {@code ternmq passwd}, the mosquitto_passwd look-alike. */
class PasswdCommandTest {
    @TempDir
    Path dir;

    private record Result(int code, String out, String err) {
    }

    private static Result run(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PasswdCommand cmd = new PasswdCommand(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        CommandLine cl = new CommandLine(cmd);
        cl.setErr(new java.io.PrintWriter(err, true));
        int code = cl.execute(args);
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static boolean verifies(Path file, String user, String password) throws IOException {
        PasswordFile.Entry e = PasswordFile.load(file).get(user);
        return e != null && PasswordHash.verify(password.getBytes(StandardCharsets.UTF_8), e.hash());
    }

    @Test
    @DisplayName("-c -b creates, -b adds and updates, -D deletes, -l lists")
    void batch() throws IOException {
        Path f = dir.resolve("passwd");
        assertThat(run("", "-c", "-b", "-I", "1000", f.toString(), "alice", "one").code()).isZero();
        assertThat(Files.readString(f)).startsWith("alice:$7$1000$");
        assertThat(run("", "-b", "-I", "1000", f.toString(), "bob", "two").code()).isZero();
        assertThat(run("", "-b", "-I", "1000", f.toString(), "alice", "three").code()).isZero();
        assertThat(verifies(f, "alice", "three")).isTrue();
        assertThat(verifies(f, "alice", "one")).isFalse();
        assertThat(verifies(f, "bob", "two")).isTrue();
        assertThat(run("", "-l", f.toString()).out()).isEqualTo("alice\nbob\n");
        assertThat(run("", "-D", f.toString(), "alice").code()).isZero();
        assertThat(PasswordFile.load(f).users()).containsOnlyKeys("bob");
        Result missing = run("", "-D", f.toString(), "alice");
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("alice is not in");
        assertThat(run("", "-c", "-b", "-I", "1000", f.toString(), "carol", "x").code()).isZero();
        assertThat(PasswordFile.load(f).users()).as("-c starts over").containsOnlyKeys("carol");
    }

    @Test
    @DisplayName("the default cost is 210,000 PBKDF2-SHA512 iterations")
    void defaultCost() throws IOException {
        Path f = dir.resolve("passwd");
        assertThat(run("", "-c", "-b", f.toString(), "alice", "one").code()).isZero();
        assertThat(Files.readString(f)).startsWith("alice:$7$210000$");
    }

    @Test
    @DisplayName("interactive: the password twice on standard input; a mismatch changes nothing")
    void interactive() throws IOException {
        Path f = dir.resolve("passwd");
        assertThat(run("s3cret\ns3cret\n", "-c", "-I", "1000", f.toString(), "alice").code()).isZero();
        assertThat(verifies(f, "alice", "s3cret")).isTrue();
        Result mismatch = run("a\nb\n", "-I", "1000", f.toString(), "alice");
        assertThat(mismatch.code()).isEqualTo(1);
        assertThat(mismatch.err()).contains("do not match");
        assertThat(verifies(f, "alice", "s3cret")).isTrue();
        assertThat(run("", "-I", "1000", f.toString(), "alice").err()).contains("no password");
    }

    @Test
    @DisplayName("--scram stores SCRAM-SHA-256 credentials beside the hash; an update without it removes them")
    void scram() throws IOException {
        Path f = dir.resolve("passwd");
        assertThat(run("", "-c", "-b", "-I", "1000", "--scram", f.toString(), "alice", "one").code()).isZero();
        assertThat(Files.readString(f)).matches("alice:\\$7\\$1000\\$[^:]+:SCRAM-SHA-256\\$4096:[^$]+\\$[^:]+:\\S+\\n");
        assertThat(PasswordFile.load(f).get("alice").scram()).isNotNull();
        assertThat(run("", "-l", f.toString()).out()).isEqualTo("alice (scram-sha-256)\n");
        Result update = run("", "-b", "-I", "1000", f.toString(), "alice", "two");
        assertThat(update.err()).contains("SCRAM credentials of alice were removed");
        assertThat(PasswordFile.load(f).get("alice").scram()).isNull();
    }

    @Test
    @DisplayName("-U hashes a plain text user:password file in place")
    void upgrade() throws IOException {
        Path f = dir.resolve("passwd");
        Files.writeString(f, "# users\nalice:one\nbob:two:with:colons\n");
        assertThat(run("", "-U", "-I", "1000", f.toString()).code()).isZero();
        assertThat(Files.readAllLines(f).get(0)).isEqualTo("# users");
        assertThat(verifies(f, "alice", "one")).isTrue();
        assertThat(verifies(f, "bob", "two:with:colons")).isTrue();
        String hashed = Files.readString(f);
        assertThat(run("", "-U", "-I", "1000", f.toString()).code()).isZero();
        assertThat(Files.readString(f)).as("already hashed lines stay").isEqualTo(hashed);
    }

    @Test
    @DisplayName("usage errors: exit 2 with a message; missing file: exit 1")
    void errors() {
        Path f = dir.resolve("passwd");
        assertThat(run("", "-c", "-D", f.toString(), "a").code()).isEqualTo(2);
        assertThat(run("", f.toString(), "a", "pw").err()).contains("needs -b");
        assertThat(run("", "-b", f.toString(), "a:b", "pw").code()).isEqualTo(2);
        assertThat(run("", "-b", "-I", "10", f.toString(), "a", "pw").code()).isEqualTo(2);
        Result missing = run("", "-b", "-I", "1000", f.toString(), "a", "pw");
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("no such file");
    }

    @Test
    @DisplayName("ternmq passwd through the main command")
    void throughMain() throws IOException {
        Path f = dir.resolve("passwd");
        assertThat(Main.run("passwd", "-c", "-b", "-I", "1000", f.toString(), "alice", "one")).isZero();
        assertThat(verifies(f, "alice", "one")).isTrue();
    }

    @Test
    @DisplayName("files work both ways with Mosquitto: mosquitto_passwd's are read, ours authenticate in mosquitto")
    void mosquittoInterop() throws Exception {
        assumeThat(Files.isExecutable(Path.of("/usr/bin/mosquitto_passwd"))).isTrue();
        assumeThat(Files.isExecutable(Path.of("/usr/sbin/mosquitto"))).isTrue();
        Path theirs = dir.resolve("theirs");
        Process p = new ProcessBuilder("mosquitto_passwd", "-c", "-b", theirs.toString(), "m", "pw")
                .redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(verifies(theirs, "m", "pw")).isTrue();

        Path ours = dir.resolve("ours");
        assertThat(run("", "-c", "-b", "-I", "1000", ours.toString(), "t", "pw").code()).isZero();
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path conf = dir.resolve("mosquitto.conf");
        // as root, mosquitto would switch to user mosquitto, which cannot read a file only its owner may read
        Files.writeString(conf, "user " + System.getProperty("user.name") + "\nlistener " + port
                + " 127.0.0.1\nallow_anonymous false\npassword_file " + ours + "\n");
        Process mosquitto = new ProcessBuilder("mosquitto", "-c", conf.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("mosquitto.log").toFile()).start();
        try {
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).until(() -> {
                try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                    return true;
                } catch (IOException e) {
                    return false;
                }
            });
            assertThat(pub(port, "pw")).as("our hash in mosquitto").isZero();
            assertThat(pub(port, "wrong")).isNotZero();
        } finally {
            mosquitto.destroy();
            mosquitto.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static int pub(int port, String password) throws Exception {
        Process p = new ProcessBuilder(List.of("mosquitto_pub", "-h", "127.0.0.1", "-p", String.valueOf(port), "-u",
                "t", "-P", password, "-t", "x", "-m", "y")).redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }
}
