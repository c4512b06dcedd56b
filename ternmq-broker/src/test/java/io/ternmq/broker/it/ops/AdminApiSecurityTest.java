package io.ternmq.broker.it.ops;

import io.ternmq.broker.config.AdminListenerConfig;
import io.ternmq.broker.config.ConfigFileParser;
import io.ternmq.broker.security.PasswordFile;
import io.ternmq.broker.security.PasswordHash;
import io.ternmq.broker.testing.AdminHttp;
import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.TestBroker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Who may do what on the admin REST API, and every kind of bad input it refuses: read-only users, the login cookie
 * and its CSRF token, the failed-login delay and the login flood, headers, and the 400/404/405/413 rows.
 */
class AdminApiSecurityTest {
    private static final int FAILURE_DELAY_MILLIS = 400;

    @TempDir
    Path dir;
    private TestBroker broker;
    private AdminHttp admin;

    @BeforeEach
    void start() throws IOException {
        Path passwd = dir.resolve("passwd");
        PasswordFile pf = PasswordFile.empty();
        pf.put(new PasswordFile.Entry("ops", PasswordHash.hash("secret".toCharArray(), 1000), null));
        pf.put(new PasswordFile.Entry("viewer", PasswordHash.hash("look".toCharArray(), 1000), null));
        pf.save(passwd);
        broker = TestBroker.start(b -> b.authFailureDelayMillis(FAILURE_DELAY_MILLIS).adminListener(
                new AdminListenerConfig("127.0.0.1", 0, passwd, false, Set.of("viewer"))));
        admin = new AdminHttp(broker);
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    private HttpResponse<String> ops(String method, String path, String json) {
        return admin.as("ops", "secret", method, path, json);
    }

    private HttpResponse<String> login(String json) {
        return admin.send(admin.request("/api/v1/login").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    private static void assertError(HttpResponse<String> r, int code, String messagePart) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(code);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(r.body()).startsWith("{\"code\":" + code + ",\"message\":\"").contains(messagePart)
                .doesNotContain("Exception").doesNotContain("\tat ").doesNotContain("io.ternmq");
    }

    @Test
    @DisplayName("admin_readonly_users: reads answer, every write is 403 and does nothing")
    void readOnlyUser() {
        try (Paho5Client c = Paho5Client.connect(broker, "target")) {
            assertThat(admin.as("viewer", "look", "GET", "/api/v1/status", null).statusCode()).isEqualTo(200);
            assertThat(admin.as("viewer", "look", "GET", "/api/v1/clients/target", null).statusCode())
                    .isEqualTo(200);
            assertError(admin.as("viewer", "look", "DELETE", "/api/v1/clients/target", null), 403, "read-only");
            assertError(admin.as("viewer", "look", "POST", "/api/v1/publish", "{\"topic\":\"t\"}"), 403,
                    "read-only");
            assertError(admin.as("viewer", "look", "POST", "/api/v1/clients/target/subscriptions",
                    "{\"filter\":\"t\"}"), 403, "read-only");
            assertThat(c.isConnected()).isTrue();
            assertThat(ops("GET", "/api/v1/clients/target/subscriptions", null).body())
                    .contains("\"subscriptions\":[]");
            // a wrong password is 401 whatever the user
            assertThat(admin.as("viewer", "nope", "GET", "/api/v1/status", null).statusCode()).isEqualTo(401);
        }
    }

    @Test
    @DisplayName("POST login: HttpOnly SameSite=Strict cookie + CSRF token; cookie writes need X-TernMQ-CSRF")
    void loginCookieAndCsrf() {
        HttpResponse<String> r = login("{\"user\":\"ops\",\"password\":\"secret\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        String setCookie = r.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(setCookie).startsWith("ternmq_session=").contains("; HttpOnly", "; SameSite=Strict", "; Path=/")
                .doesNotContain("Secure");
        String cookie = setCookie.substring(0, setCookie.indexOf(';'));
        Matcher m = Pattern.compile("\"csrf\":\"([^\"]+)\"").matcher(r.body());
        assertThat(m.find()).isTrue();
        String csrf = m.group(1);
        assertThat(r.body()).contains("\"user\":\"ops\"", "\"readOnly\":false");

        assertThat(admin.send(admin.request("/api/v1/status").header("Cookie", cookie)).statusCode())
                .isEqualTo(200);
        HttpRequest.BodyPublisher body = HttpRequest.BodyPublishers.ofString("{\"topic\":\"t\",\"payload\":\"x\"}");
        assertError(admin.send(admin.request("/api/v1/publish").header("Cookie", cookie).POST(body)), 403,
                "X-TernMQ-CSRF");
        assertError(admin.send(admin.request("/api/v1/publish").header("Cookie", cookie)
                .header("X-TernMQ-CSRF", csrf + "x").POST(body)), 403, "X-TernMQ-CSRF");
        assertThat(admin.send(admin.request("/api/v1/publish").header("Cookie", cookie)
                .header("X-TernMQ-CSRF", csrf).POST(body)).statusCode()).isEqualTo(200);
        // Basic auth needs no CSRF token (scripts)
        assertThat(ops("POST", "/api/v1/publish", "{\"topic\":\"t\"}").statusCode()).isEqualTo(200);
        // an unknown cookie is no login
        assertThat(admin.send(admin.request("/api/v1/status").header("Cookie", "ternmq_session=forged"))
                .statusCode()).isEqualTo(401);

        // a read-only user's login says so, and its writes stay 403 even with the token
        HttpResponse<String> v = login("{\"user\":\"viewer\",\"password\":\"look\"}");
        assertThat(v.body()).contains("\"readOnly\":true");
        Matcher vm = Pattern.compile("\"csrf\":\"([^\"]+)\"").matcher(v.body());
        assertThat(vm.find()).isTrue();
        String vc = v.headers().firstValue("Set-Cookie").orElseThrow();
        assertError(admin.send(admin.request("/api/v1/publish").header("Cookie", vc.substring(0, vc.indexOf(';')))
                .header("X-TernMQ-CSRF", vm.group(1)).POST(body)), 403, "read-only");
    }

    @Test
    @DisplayName("POST login behind an HTTPS proxy (X-Forwarded-Proto: https): the cookie is Secure")
    void secureCookieOverHttps() {
        HttpResponse<String> r = admin.send(admin.request("/api/v1/login").header("X-Forwarded-Proto", "https")
                .POST(HttpRequest.BodyPublishers.ofString("{\"user\":\"ops\",\"password\":\"secret\"}")));
        assertThat(r.headers().firstValue("Set-Cookie").orElseThrow()).endsWith("; Secure");
    }

    @Test
    @DisplayName("a failed login answers 401 only after auth_failure_delay; a flood of logins gets 429")
    void failedLoginDelayAndFlood() {
        long t0 = System.nanoTime();
        HttpResponse<String> bad = login("{\"user\":\"ops\",\"password\":\"guess\"}");
        long tookMillis = (System.nanoTime() - t0) / 1_000_000;
        assertError(bad, 401, "bad user name or password");
        assertThat(bad.headers().firstValue("Set-Cookie")).isEmpty();
        assertThat(tookMillis).isGreaterThanOrEqualTo(FAILURE_DELAY_MILLIS);
        assertError(login("{\"user\":\"ops\"}"), 400, "password");
        assertError(login("{\"user\":\"ops\",\"password\":"), 400, "bad JSON");
        int answered = 3;
        while (answered < 10) {
            assertThat(login("{\"user\":\"nobody\",\"password\":\"x\"}").statusCode()).isEqualTo(401);
            answered++;
        }
        HttpResponse<String> flood = login("{\"user\":\"ops\",\"password\":\"secret\"}");
        assertError(flood, 429, "too many logins");
        assertThat(flood.headers().firstValue("Retry-After")).isPresent();
        // Basic auth is not a login: scripts keep working
        assertThat(ops("GET", "/api/v1/status", null).statusCode()).isEqualTo(200);
    }

    @Test
    @DisplayName("answers carry Content-Security-Policy default-src 'self' and never CORS headers")
    void headers() {
        HttpResponse<String> r = admin.send(admin.request("/api/v1/status")
                .header("Authorization", AdminHttp.basic("ops", "secret")).header("Origin", "http://evil.example"));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Security-Policy")).hasValue("default-src 'self'");
        assertThat(r.headers().map().keySet()).noneMatch(h -> h.toLowerCase().startsWith("access-control-"));
        HttpResponse<String> preflight = admin.send(admin.request("/api/v1/publish")
                .header("Origin", "http://evil.example").header("Access-Control-Request-Method", "POST")
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
        assertThat(preflight.statusCode()).isIn(401, 405);
        assertThat(preflight.headers().map().keySet()).noneMatch(h -> h.toLowerCase().startsWith("access-control-"));
    }

    @Test
    @DisplayName("bad input: bad JSON, bad topic, limit > 1000, bad values 400; unknown client 404; 405 + Allow")
    void badInput() {
        assertError(ops("POST", "/api/v1/publish", "{\"topic\":"), 400, "bad JSON");
        assertError(ops("POST", "/api/v1/publish", "[1,2]"), 400, "JSON object");
        assertError(ops("POST", "/api/v1/publish", "{\"topic\":\"a/+\"}"), 400, "topic");
        assertError(ops("POST", "/api/v1/publish", "{\"topic\":\"\"}"), 400, "topic");
        assertError(ops("POST", "/api/v1/publish", "{\"topic\":\"$SYS/x\"}"), 400, "$");
        assertError(ops("POST", "/api/v1/publish", "{\"topic\":\"t\",\"qos\":7}"), 400, "qos");
        assertError(ops("POST", "/api/v1/publish", "{\"topic\":\"t\",\"payloadBase64\":\"**\"}"), 400, "base64");
        assertError(ops("POST", "/api/v1/publish", "{\"topic\":\"t\",\"properties\":{\"x\":1}}"), 400,
                "unknown property");
        assertError(ops("GET", "/api/v1/clients?limit=1001", null), 400, "limit");
        assertError(ops("GET", "/api/v1/clients?limit=0", null), 400, "limit");
        assertError(ops("GET", "/api/v1/clients?limit=ten", null), 400, "limit");
        assertError(ops("GET", "/api/v1/clients?connected=maybe", null), 400, "connected");
        assertError(ops("GET", "/api/v1/clients?cursor=***", null), 400, "cursor");
        assertError(ops("GET", "/api/v1/retained?filter=a/%23/b", null), 400, "filter");
        assertError(ops("GET", "/api/v1/retained?limit=5000", null), 400, "limit");
        assertError(ops("DELETE", "/api/v1/clients/nobody?session=maybe", null), 400, "session");
        assertError(ops("GET", "/api/v1/clients/nobody", null), 404, "no client 'nobody'");
        // what the message quotes from the request is escaped as JSON
        assertThat(ops("GET", "/api/v1/clients/a%0A%22b%5C", null).body())
                .isEqualTo("{\"code\":404,\"message\":\"no client 'a\\n\\\"b\\\\'\"}\n");
        assertError(ops("DELETE", "/api/v1/clients/nobody", null), 404, "no client");
        assertError(ops("GET", "/api/v1/clients/%FF%FE", null), 400, "UTF-8");
        String raw = admin.raw("GET /api/v1/clients/%G1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "
                + AdminHttp.basic("ops", "secret") + "\r\nConnection: close\r\n\r\n");
        assertThat(raw).startsWith("HTTP/1.1 400 ").contains("percent-encoding").doesNotContain("Exception");
        String query = admin.raw("GET /api/v1/retained?filter%3&=2 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "
                + AdminHttp.basic("ops", "secret") + "\r\nConnection: close\r\n\r\n");
        assertThat(query).startsWith("HTTP/1.1 400 ").contains("bad percent-encoding in the query");
        assertError(ops("GET", "/api/v1/retained/nothing/here", null), 404, "no retained message");
        assertError(ops("GET", "/api/v1/nothing", null), 404, "no such path");

        HttpResponse<String> post = ops("POST", "/api/v1/status", "{}");
        assertError(post, 405, "not allowed");
        assertThat(post.headers().firstValue("Allow")).hasValue("GET");
        HttpResponse<String> put = ops("PUT", "/api/v1/clients/x", "{}");
        assertError(put, 405, "not allowed");
        assertThat(put.headers().firstValue("Allow")).hasValue("DELETE, GET, POST");
        HttpResponse<String> postOne = ops("POST", "/api/v1/clients/x", "{}");
        assertError(postOne, 405, "not allowed");
        assertThat(postOne.headers().firstValue("Allow")).hasValue("DELETE, GET");
        HttpResponse<String> getPublish = ops("GET", "/api/v1/publish", null);
        assertThat(getPublish.statusCode()).isEqualTo(405);
        assertThat(getPublish.headers().firstValue("Allow")).hasValue("POST");
    }

    @Test
    @DisplayName("a body over 1 MiB gets 413")
    void bodyTooLarge() {
        String big = "{\"topic\":\"t\",\"payload\":\"" + "x".repeat(1024 * 1024) + "\"}";
        assertError(ops("POST", "/api/v1/publish", big), 413, "over 1024 KiB");
        // just under the limit is accepted
        String fits = "{\"topic\":\"t\",\"payload\":\"" + "x".repeat(1024 * 1024 - 100) + "\"}";
        assertThat(ops("POST", "/api/v1/publish", fits).statusCode()).isEqualTo(200);
    }

    @Test
    @DisplayName("config: admin_readonly_users lists users, comma or space separated")
    void readonlyUsersKey() {
        var config = ConfigFileParser.parse("test.conf", List.of("listener 1884 127.0.0.1",
                "listener 9883 127.0.0.1", "protocol http_api", "password_file /etc/ternmq/admin.passwd",
                "admin_readonly_users viewer, auditor  grafana")).build();
        assertThat(config.operations().adminListener().readonlyUsers())
                .containsExactlyInAnyOrder("viewer", "auditor", "grafana");
    }
}
