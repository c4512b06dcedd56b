package io.ternmq.broker.testing;

import io.ternmq.broker.Broker;
import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.config.ConfigFileParser;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * A real broker started the way {@code ternmq} starts it, {@link Broker#start(BrokerConfig)}: each listener with its
 * configured authentication, authorization and TLS. In-memory storage, a temporary data directory.
 */
public final class SecureBroker implements AutoCloseable {
    private final Broker broker;

    private SecureBroker(Broker broker) {
        this.broker = broker;
    }

    /** From a builder: add listeners with {@code b.listener(address, 0, settings -> ...)}. */
    public static SecureBroker start(Consumer<BrokerConfig.Builder> customizer) {
        try {
            BrokerConfig.Builder b = BrokerConfig.builder().dataDir(Files.createTempDirectory("ternmq-sec-"))
                    .storageType("memory").sysIntervalSeconds(0);
            customizer.accept(b);
            return new SecureBroker(Broker.start(b.build()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** From configuration file lines, as ternmq -c would read them (data_dir and storage.type are added). */
    public static SecureBroker fromConfig(String... lines) {
        try {
            Path dir = Files.createTempDirectory("ternmq-sec-");
            // no $SYS unless the lines ask for it, as TestBroker
            List<String> all = new java.util.ArrayList<>(List.of("data_dir " + dir, "storage.type memory",
                    "sys_interval 0"));
            all.addAll(List.of(lines));
            return new SecureBroker(Broker.start(ConfigFileParser.parse("test.conf", all).build()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public Broker broker() {
        return broker;
    }

    /** The bound port of the listener at this index. */
    public int port(int listener) {
        return broker.addresses().get(listener).getPort();
    }

    public int port() {
        return port(0);
    }

    @Override
    public void close() {
        broker.close();
    }
}
