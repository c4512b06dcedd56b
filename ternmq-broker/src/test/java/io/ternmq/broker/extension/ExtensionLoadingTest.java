package io.ternmq.broker.extension;

import io.ternmq.broker.config.ConfigException;
import io.ternmq.broker.testing.SampleExtensionFolder;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.extension.api.ExtensionMain;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Reading extension folders, their class loaders, and starting them by priority, against a real broker service. */
class ExtensionLoadingTest {
    @TempDir
    Path dir;
    private TestBroker broker;
    private Extensions extensions;

    @AfterEach
    void cleanUp() {
        if (extensions != null) {
            extensions.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    private Extensions start() {
        broker = TestBroker.start();
        extensions = Extensions.start(dir, 10, broker.broker().service());
        return extensions;
    }

    @Test
    @DisplayName("a missing extensions_dir means no extension, and nothing to run")
    void missingDirectory() {
        broker = TestBroker.start();
        Extensions none = Extensions.start(dir.resolve("absent"), 10, broker.broker().service());
        assertThat(none.interceptors()).isSameAs(Interceptors.NONE);
        assertThat(none.stats()).isEmpty();
    }

    @Test
    @DisplayName("the class loader sees the extension's jars first, the API and SLF4J from the broker, nothing else")
    void classLoaderIsolation() throws Exception {
        Path folder = SampleExtensionFolder.copyInto(dir, "sample");
        ExtensionDescriptor d = ExtensionDescriptor.read(folder);
        URL[] urls = d.jars().stream().map(p -> {
            try {
                return p.toUri().toURL();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).toArray(URL[]::new);
        try (ExtensionClassLoader loader = new ExtensionClassLoader("sample", urls)) {
            assertThat(loader.loadClass(ExtensionMain.class.getName())).isSameAs(ExtensionMain.class);
            assertThat(loader.loadClass(org.slf4j.Logger.class.getName())).isSameAs(org.slf4j.Logger.class);
            Class<?> picocli = loader.loadClass("picocli.CommandLine");
            assertThat(picocli).isNotSameAs(picocli.CommandLine.class);
            assertThat(picocli.getClassLoader()).isSameAs(loader);
            assertThat(picocli.getField("VERSION").get(null)).isEqualTo("4.6.2");
            for (String hidden : new String[]{"io.netty.channel.Channel", "io.ternmq.broker.Broker",
                    "io.ternmq.codec.Publish", "org.rocksdb.RocksDB", "ch.qos.logback.classic.Logger"}) {
                assertThatThrownBy(() -> loader.loadClass(hidden)).as(hidden)
                        .isInstanceOf(ClassNotFoundException.class);
            }
            assertThat(loader.loadClass("javax.crypto.Cipher")).as("the JDK's other modules").isNotNull();
        }
    }

    @Test
    @DisplayName("extensions start by priority, highest first; a DISABLED folder is skipped")
    void priorityAndDisabled() throws Exception {
        SampleExtensionFolder.describe(SampleExtensionFolder.copyInto(dir, "a"), Map.of("id", "low", "priority", "1"));
        SampleExtensionFolder.describe(SampleExtensionFolder.copyInto(dir, "b"), Map.of("id", "high",
                "priority", "50"));
        Path off = SampleExtensionFolder.copyInto(dir, "c");
        SampleExtensionFolder.describe(off, Map.of("id", "off", "priority", "99"));
        Files.writeString(off.resolve(Extensions.DISABLED), "");
        start();
        assertThat(extensions.stats()).extracting(ExtensionStats::id).containsExactly("high", "low");
        assertThat(extensions.interceptors().publishInbound.size()).isEqualTo(2);
        assertThat(extensions.interceptors().connectInbound.size()).isEqualTo(2);
    }

    @Test
    @DisplayName("two folders with one id: the second is refused")
    void duplicateId() {
        SampleExtensionFolder.copyInto(dir, "a");
        SampleExtensionFolder.copyInto(dir, "b");
        start();
        assertThat(extensions.stats()).extracting(ExtensionStats::id).containsExactly("sample");
    }

    @Test
    @DisplayName("descriptor problems name the file and key; a required extension's stop the broker")
    void descriptorProblems() {
        Path folder = SampleExtensionFolder.copyInto(dir, "sample");
        SampleExtensionFolder.describe(folder, Map.of("priority", "high"));
        assertThatThrownBy(() -> ExtensionDescriptor.read(folder)).hasMessageContaining("ternmq-extension.properties")
                .hasMessageContaining("priority: 'high' is not an integer");
        SampleExtensionFolder.describe(folder, Map.of("priority", "1", "api_version", "1"));
        assertThatThrownBy(() -> ExtensionDescriptor.read(folder)).hasMessageContaining("api_version: '1' is not "
                + "major.minor");
        SampleExtensionFolder.describe(folder, Map.of("api_version", "0.9", "required", "true"));
        broker = TestBroker.start();
        assertThatThrownBy(() -> Extensions.start(dir, 10, broker.broker().service()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("needs extension API 0.9, newer than this broker's "
                        + io.ternmq.extension.api.ExtensionApi.VERSION);
    }

    @Test
    @DisplayName("registrations count only once start returned, and only during start")
    void registrationOnlyDuringStart() throws Exception {
        ExtensionDescriptor d = ExtensionDescriptor.read(SampleExtensionFolder.copyInto(dir, "sample"));
        Interceptors.Builder failed = new Interceptors.Builder();
        BrokerExtensionContext threw = new BrokerExtensionContext(d, new ExtensionStats("x", 10), null, null, failed);
        threw.addPublishInbound((c, o) -> { });
        threw.discard();
        assertThat(failed.build().publishInbound).as("an extension whose start threw leaves nothing").isNull();

        Interceptors.Builder chains = new Interceptors.Builder();
        BrokerExtensionContext ok = new BrokerExtensionContext(d, new ExtensionStats("x", 10), null, null, chains);
        ok.addPublishInbound((c, o) -> { });
        ok.commit();
        assertThatThrownBy(() -> ok.addPublishInbound((c, o) -> { })).isInstanceOf(IllegalStateException.class);
        assertThat(chains.build().publishInbound.size()).isEqualTo(1);
    }
}
