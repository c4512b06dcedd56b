package io.ternmq.broker.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * The sample extension as its module builds it ({@code ternmq-extension-sample/target/extension/sample}: its jar,
 * the picocli it bundles, {@code ternmq-extension.properties}), copied into a broker's {@code extensions/} folder.
 * The reactor builds that module before this one; a run of this module alone needs it built first.
 */
public final class SampleExtensionFolder {
    private static final Path BUILT = Path.of("..", "ternmq-extension-sample", "target", "extension", "sample");

    private SampleExtensionFolder() {
    }

    /** Copies the built sample to {@code extensionsDir/name}. @return that folder */
    public static Path copyInto(Path extensionsDir, String name) {
        if (!Files.isRegularFile(BUILT.resolve("ternmq-extension.properties"))) {
            throw new IllegalStateException(BUILT.toAbsolutePath().normalize() + " is not built: run ./mvnw -o -pl "
                    + "ternmq-extension-api,ternmq-extension-sample package (./mvnw verify builds it first)");
        }
        Path target = extensionsDir.resolve(name);
        try {
            Files.createDirectories(target);
            try (Stream<Path> files = Files.list(BUILT)) {
                for (Path f : files.toList()) {
                    Files.copy(f, target.resolve(f.getFileName()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return target;
    }

    /** Sets keys of the folder's {@code ternmq-extension.properties}. */
    public static void describe(Path folder, Map<String, String> values) {
        edit(folder.resolve("ternmq-extension.properties"), values);
    }

    /** Sets the sample's own options ({@code sample.properties}). */
    public static void options(Path folder, Map<String, String> values) {
        edit(folder.resolve("sample.properties"), values);
    }

    private static void edit(Path file, Map<String, String> values) {
        try {
            Properties p = new Properties();
            if (Files.exists(file)) {
                try (var in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                    p.load(in);
                }
            }
            values.forEach(p::setProperty);
            try (var out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
                p.store(out, null);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
