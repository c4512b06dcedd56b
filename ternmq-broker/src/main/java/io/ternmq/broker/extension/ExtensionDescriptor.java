package io.ternmq.broker.extension;

import io.ternmq.extension.api.ExtensionApi;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * An extension's folder as {@code ternmq-extension.properties} describes it.
 *
 * @param priority higher starts first (and its interceptors run first)
 * @param required whether the broker must not run without it
 */
public record ExtensionDescriptor(String id, String version, String apiVersion, int priority, boolean required,
                                  Path folder, List<Path> jars) {
    public static final String FILE = "ternmq-extension.properties";
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final Pattern API_VERSION = Pattern.compile("(\\d+)\\.(\\d+)");

    /** A folder that cannot be used; {@code required} as far as the file said so (false if unreadable). */
    public static final class Invalid extends Exception {
        private final boolean required;

        Invalid(String message, boolean required) {
            super(message);
            this.required = required;
        }

        public boolean required() {
            return required;
        }
    }

    /** Reads {@code folder/ternmq-extension.properties} and lists the folder's jars. */
    public static ExtensionDescriptor read(Path folder) throws Invalid {
        Path file = folder.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new Invalid(folder + ": no " + FILE, false);
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException | IllegalArgumentException e) {
            throw new Invalid(file + ": cannot be read: " + e.getMessage(), false);
        }
        String requiredText = p.getProperty("required", "false").trim();
        if (!requiredText.equals("true") && !requiredText.equals("false")) {
            throw new Invalid(file + ": required: '" + requiredText + "' is not true or false", false);
        }
        boolean required = requiredText.equals("true");
        String id = value(p, file, "id", required);
        if (!ID.matcher(id).matches()) {
            throw new Invalid(file + ": id: '" + id + "' is not a name (letters, digits, '.', '_', '-')", required);
        }
        String version = value(p, file, "version", required);
        String api = value(p, file, "api_version", required);
        if (!API_VERSION.matcher(api).matches()) {
            throw new Invalid(file + ": api_version: '" + api + "' is not major.minor", required);
        }
        if (compare(api, ExtensionApi.VERSION) > 0) {
            throw new Invalid(file + ": api_version: extension '" + id + "' needs extension API " + api
                    + ", newer than this broker's " + ExtensionApi.VERSION, required);
        }
        int priority;
        String priorityText = p.getProperty("priority", "0").trim();
        try {
            priority = Integer.parseInt(priorityText);
        } catch (NumberFormatException e) {
            throw new Invalid(file + ": priority: '" + priorityText + "' is not an integer", required);
        }
        List<Path> jars;
        try (Stream<Path> files = Files.list(folder)) {
            jars = files.filter(f -> f.getFileName().toString().endsWith(".jar")).sorted().toList();
        } catch (IOException e) {
            throw new Invalid(folder + ": cannot be listed: " + e.getMessage(), required);
        }
        if (jars.isEmpty()) {
            throw new Invalid(folder + ": no .jar file", required);
        }
        return new ExtensionDescriptor(id, version, api, priority, required, folder, jars);
    }

    private static String value(Properties p, Path file, String key, boolean required) throws Invalid {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            throw new Invalid(file + ": " + key + ": missing", required);
        }
        return v.trim();
    }

    /** Compares two {@code major.minor} versions. */
    static int compare(String a, String b) {
        String[] x = a.split("\\.");
        String[] y = b.split("\\.");
        int major = Integer.compare(Integer.parseInt(x[0]), Integer.parseInt(y[0]));
        return major != 0 ? major : Integer.compare(Integer.parseInt(x[1]), Integer.parseInt(y[1]));
    }

    @Override
    public String toString() {
        return "extension '" + id + "' " + version + " (" + folder + ")";
    }
}
