package io.ternmq.broker.metrics;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version and git commit this broker was built from (Maven writes them into {@code build.properties}). */
public final class BuildInfo {
    private static final Properties PROPERTIES = load();

    private BuildInfo() {
    }

    /** The project version, e.g. {@code 0.1.0-SNAPSHOT}; "unknown" if the build did not say. */
    public static String version() {
        return value("version");
    }

    /** The git commit, or "unknown" if the build was not given one ({@code -Dternmq.commit}). */
    public static String commit() {
        return value("commit");
    }

    private static String value(String key) {
        String v = PROPERTIES.getProperty(key, "");
        // an unfiltered copy (an IDE's build) still holds the placeholder
        return v.isBlank() || v.startsWith("${") ? "unknown" : v;
    }

    private static Properties load() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("/io/ternmq/broker/build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // left empty: "unknown"
        }
        return p;
    }
}
