package io.ternmq.fuzz;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.ternmq.broker.Broker;
import io.ternmq.broker.config.AdminListenerConfig;
import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.security.PasswordFile;
import io.ternmq.broker.security.PasswordHash;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Comparator;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Fuzz target for the admin listener's REST API, over a real socket to a real broker: an input is a request line's
 * method and path (the first line, split at its first space) and a body (the rest), sent with the credentials of a
 * user who may write. Every answer must be an HTTP response below 500 carrying the security headers and no CORS
 * header; an error's body must be {@code {"code","message"}} without a stack trace. Without {@code JAZZER_FUZZ=1}
 * this replays the saved inputs under {@code src/test/resources/io/ternmq/fuzz/AdminRequestFuzzTestInputs/}.
 */
class AdminRequestFuzzTest {
    private static final Pattern ERROR_BODY = Pattern.compile("\\{\"code\":[45]\\d\\d,\"message\":\"[^\\n]*\"}\\n");
    private static final String AUTH = "Basic " + Base64.getEncoder()
            .encodeToString("ops:secret".getBytes(StandardCharsets.UTF_8));

    private static Path dir;
    private static Broker broker;
    private static int port;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("ternmq-fuzz-admin-");
        Path passwd = dir.resolve("passwd");
        PasswordFile pf = PasswordFile.empty();
        pf.put(new PasswordFile.Entry("ops", PasswordHash.hash("secret".toCharArray(), 1000), null));
        pf.save(passwd);
        broker = Broker.start(BrokerConfig.builder().listener("127.0.0.1", 0).dataDir(dir.resolve("data"))
                .storageType("memory").sysIntervalSeconds(0).authFailureDelayMillis(0)
                .adminListener(new AdminListenerConfig("127.0.0.1", 0, passwd, false, Set.of())).build());
        port = broker.admin().address().getPort();
    }

    @AfterAll
    static void stop() throws IOException {
        if (broker != null) {
            broker.close();
        }
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @FuzzTest(maxDuration = "5m")
    void request(byte[] input) throws IOException {
        // this target talks to its own broker on loopback on purpose (Jazzer reports any connection as SSRF)
        BugDetectors.allowNetworkConnections((host, p) -> host.equals("127.0.0.1") || host.equals("localhost"));
        int newline = indexOf(input, (byte) '\n');
        String line = new String(input, 0, newline < 0 ? input.length : newline, StandardCharsets.ISO_8859_1)
                .replace('\r', ' ');
        byte[] body = newline < 0 ? new byte[0] : java.util.Arrays.copyOfRange(input, newline + 1, input.length);
        int space = line.indexOf(' ');
        String method = space < 0 ? "GET" : line.substring(0, space);
        String path = space < 0 ? line : line.substring(space + 1);
        if (method.isEmpty() || method.equals("HEAD")) {
            method = "GET"; // a HEAD answer has no body to check
        }
        ByteArrayOutputStream request = new ByteArrayOutputStream();
        request.writeBytes((method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + AUTH
                + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        request.writeBytes(body);
        String answer = exchange(request.toByteArray());
        if (answer.isEmpty()) {
            return; // a request Netty could not even frame: the connection was closed
        }
        if (!answer.startsWith("HTTP/1.")) {
            throw new AssertionError("not an HTTP response: " + answer);
        }
        int status = Integer.parseInt(answer.substring(9, 12));
        if (status >= 500) {
            throw new AssertionError("server error for " + method + " " + path + ": " + answer);
        }
        int split = answer.indexOf("\r\n\r\n");
        String head = answer.substring(0, split < 0 ? answer.length() : split).toLowerCase(java.util.Locale.ROOT);
        String content = split < 0 ? "" : answer.substring(split + 4);
        if (!head.contains("\r\ncontent-security-policy: default-src 'self'")) {
            throw new AssertionError("no Content-Security-Policy: " + answer);
        }
        if (head.contains("\r\naccess-control-")) {
            throw new AssertionError("a CORS header: " + answer);
        }
        if (status >= 400 && !ERROR_BODY.matcher(content).matches()) {
            throw new AssertionError("an error body that is not {\"code\",\"message\"}: " + answer);
        }
        // the JSON written escapes every control character, so a raw line break followed by "at" is a stack trace
        // (a message may quote the request, so words alone prove nothing)
        if (content.contains("\n\tat ") || content.contains("\n\tat\t")) {
            throw new AssertionError("a stack trace: " + answer);
        }
    }

    private static String exchange(byte[] request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request);
            s.getOutputStream().flush();
            try {
                return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.net.SocketException reset) {
                return ""; // closed while we were still sending (e.g. a body over the limit after its 413)
            }
        }
    }

    private static int indexOf(byte[] a, byte b) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
