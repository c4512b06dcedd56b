package io.ternmq.broker.admin;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.stream.Stream;

/**
 * The dashboard: {@code GET /} answers its page, {@code GET /ui/...} its scripts, styles and the vendored uPlot,
 * all from the broker jar's resources ({@code io/ternmq/broker/admin/dashboard/}), read once at start into memory
 * (a request never touches a file, so no path can reach outside them). No credentials: the files hold no data;
 * the page logs in and every API call is checked. The page obeys the listener's {@code default-src 'self'}: no
 * inline script or style, nothing from elsewhere.
 */
final class DashboardRoute implements AdminRoute {
    static final String ASSETS = "/ui/";
    private static final String RESOURCES = "dashboard";

    record Asset(String contentType, byte[] bytes) {
    }

    private final Map<String, Asset> assets;
    private final boolean page;

    private DashboardRoute(Map<String, Asset> assets, boolean page) {
        this.assets = assets;
        this.page = page;
    }

    /** The two routes, {@code /} and {@code /ui/}, over the files read once here. */
    static DashboardRoute[] load() {
        Map<String, Asset> assets = read();
        if (!assets.containsKey("index.html")) {
            throw new IllegalStateException("the dashboard's index.html is missing from the broker's resources");
        }
        return new DashboardRoute[] {new DashboardRoute(assets, true), new DashboardRoute(assets, false)};
    }

    private static Map<String, Asset> read() {
        URL index = DashboardRoute.class.getResource(RESOURCES + "/index.html");
        if (index == null) {
            return Map.of();
        }
        Map<String, Asset> found = new HashMap<>();
        try {
            URI uri = index.toURI();
            if (uri.getScheme().equals("jar")) {
                FileSystem jar;
                try {
                    jar = FileSystems.getFileSystem(uri);
                } catch (FileSystemNotFoundException e) {
                    jar = FileSystems.newFileSystem(uri, Map.of());
                }
                collect(jar.provider().getPath(uri).getParent(), found);
            } else {
                collect(Path.of(uri).getParent(), found);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the dashboard's files: " + e.getMessage(), e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        return Map.copyOf(found);
    }

    private static void collect(Path dir, Map<String, Asset> into) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                String name = dir.relativize(f).toString().replace('\\', '/');
                into.put(name, new Asset(contentType(name), Files.readAllBytes(f)));
            }
        }
    }

    static String contentType(String name) {
        String ext = name.substring(name.lastIndexOf('.') + 1);
        return switch (ext) {
            case "html" -> "text/html; charset=utf-8";
            case "js", "mjs" -> "text/javascript; charset=utf-8";
            case "css" -> "text/css; charset=utf-8";
            case "svg" -> "image/svg+xml";
            case "json" -> "application/json";
            default -> "text/plain; charset=utf-8";
        };
    }

    @Override
    public String path() {
        return page ? "/" : ASSETS;
    }

    @Override
    public boolean prefix() {
        return !page;
    }

    @Override
    public Access access() {
        return Access.PUBLIC;
    }

    @Override
    public CompletionStage<FullHttpResponse> handle(AdminRequest request) {
        String name = page ? "index.html" : String.join("/", request.tail());
        Asset a = assets.get(name);
        if (a == null || name.equals("index.html") && !page) {
            throw AdminException.notFound("no such file: " + ASSETS + name);
        }
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                Unpooled.wrappedBuffer(a.bytes()));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, a.contentType());
        return CompletableFuture.completedFuture(r);
    }
}
