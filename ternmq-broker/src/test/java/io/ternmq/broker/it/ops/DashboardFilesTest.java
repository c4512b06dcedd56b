package io.ternmq.broker.it.ops;

import io.ternmq.broker.config.AdminListenerConfig;
import io.ternmq.broker.security.PasswordFile;
import io.ternmq.broker.security.PasswordHash;
import io.ternmq.broker.testing.AdminHttp;
import io.ternmq.broker.testing.TestBroker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The dashboard's files on the admin listener, over HTTP (the browser tests, DashboardBrowserTest, use them):
 * what is served, with which types and headers, and that nothing else is.
 */
class DashboardFilesTest {
    @TempDir
    Path dir;
    private TestBroker broker;
    private AdminHttp admin;

    @BeforeEach
    void start() throws IOException {
        Path passwd = dir.resolve("passwd");
        PasswordFile pf = PasswordFile.empty();
        pf.put(new PasswordFile.Entry("ops", PasswordHash.hash("secret".toCharArray(), 1000), null));
        pf.save(passwd);
        broker = TestBroker.start(b -> b.adminListener(new AdminListenerConfig("127.0.0.1", 0, passwd, false)));
        admin = new AdminHttp(broker);
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    private HttpResponse<String> get(String path) {
        return admin.send(admin.request(path));
    }

    @Test
    @DisplayName("GET / is the page, without credentials, under default-src 'self'; every file it names is served")
    void pageAndItsFiles() {
        HttpResponse<String> page = get("/");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
        assertThat(page.headers().firstValue("Content-Security-Policy")).hasValue("default-src 'self'");
        assertThat(page.body()).doesNotContain("style=", "<style", "http://", "https://", "//cdn");
        Matcher refs = Pattern.compile("(?:src|href)=\"(/ui/[^\"]+)\"").matcher(page.body());
        int n = 0;
        while (refs.find()) {
            HttpResponse<String> f = get(refs.group(1));
            assertThat(f.statusCode()).as(refs.group(1)).isEqualTo(200);
            n++;
        }
        assertThat(n).isGreaterThanOrEqualTo(5); // icon, two style sheets, uPlot, app.js
        HttpResponse<String> js = get("/ui/app.js");
        assertThat(js.headers().firstValue("Content-Type")).hasValue("text/javascript; charset=utf-8");
        assertThat(js.body()).contains("import ");
        assertThat(get("/ui/pages/overview.js").body()).contains("metrics/history");
        assertThat(get("/ui/app.css").headers().firstValue("Content-Type")).hasValue("text/css; charset=utf-8");
        assertThat(get("/ui/favicon.svg").headers().firstValue("Content-Type")).hasValue("image/svg+xml");
    }

    @Test
    @DisplayName("other paths under /ui/ are 404 (no file system behind them); POST / is 405")
    void nothingElse() {
        for (String path : new String[] {"/ui/nope.js", "/ui/../index.html", "/ui/%2e%2e/app.js", "/ui/index.html",
                "/ui/pages", "/index.html", "/ui//app.js"}) {
            HttpResponse<String> r = get(path);
            assertThat(r.statusCode()).as(path).isEqualTo(404);
            assertThat(r.body()).startsWith("{\"code\":404,");
        }
        HttpResponse<String> post = admin.as("ops", "secret", "POST", "/", "{}");
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("Allow")).hasValue("GET");
    }
}
