package io.ternmq.broker.protocol;

import io.ternmq.broker.store.RocksStore;
import io.ternmq.broker.store.StoredEntry;
import io.ternmq.broker.store.SyncGate;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A persistent session's queue in a RocksDB store with {@code fsync} durability, the store's sync held back: what
 * the session reads from its stored queue stops at the last entry the store said is durable. An entry written and
 * not yet synced is readable; sent before its sync and then lost in a crash, a QoS 2 message would be given twice
 * (the publisher sends it again, unacknowledged).
 */
class StoredQueueSyncTest {
    private static final int SYNCED = 300; // more than a session keeps in memory (256): the rest is read in pages
    private Path dir;

    @AfterEach
    void deleteDirectory() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    private static Publish publish(int id, String payload) {
        return new Publish("t", QoS.AT_LEAST_ONCE, false, false, id, payload.getBytes(StandardCharsets.UTF_8),
                MqttProperties.EMPTY);
    }

    private static int queued(RocksStore store, String key) {
        CompletableFuture<List<StoredEntry>> f = new CompletableFuture<>();
        store.readQueue(key, 0, 1000, f::complete);
        return f.join().size();
    }

    @Test
    @DisplayName("fsync: an entry written but not yet synced is not sent from a page read; it goes once synced")
    void pageReadsStopAtTheLastDurableEntry() throws IOException {
        dir = Files.createTempDirectory("ternmq-queue-sync-");
        SyncGate gate = new SyncGate();
        RocksStore store = gate.open(dir);
        // closed in reverse: the gate opens first, so that a failing test's store can close
        try (ProtocolHarness h = new ProtocolHarness(b -> b.maxInflightMessages(1), store); SyncGate opened = gate) {
            ProtocolHarness.FakeChannel sub = h.open().send(new Connect(MqttVersion.MQTT_3_1_1, "sub", false, 60,
                    null, null, null, MqttProperties.EMPTY));
            assertThat(sub.next(Connack.class).reasonCode()).isZero();
            sub.send(new Subscribe(1, List.of(new TopicSubscription("t", QoS.AT_LEAST_ONCE)), MqttProperties.EMPTY));
            sub.next(Suback.class);
            ProtocolHarness.FakeChannel pub = h.open().send(new Connect(MqttVersion.MQTT_3_1_1, "pub", true, 60,
                    null, null, null, MqttProperties.EMPTY));
            assertThat(pub.next(Connack.class).reasonCode()).isZero();
            for (int i = 1; i <= SYNCED; i++) {
                pub.send(publish(i, "m" + i));
            }
            for (int i = 1; i <= SYNCED; i++) {
                assertThat(pub.next(Puback.class).packetId()).isEqualTo(i); // acknowledged: synced
            }

            gate.shut();
            pub.send(publish(SYNCED + 1, "unsynced"));
            String key = h.sessions.get("sub").storedQueue().key();
            await().atMost(Duration.ofSeconds(10)).until(() -> queued(store, key) == SYNCED + 1); // written

            // acknowledging one by one: the session reads the rest of its queue in pages, up to the written one
            for (int i = 1; i <= SYNCED; i++) {
                Publish p = sub.next(Publish.class);
                assertThat(new String(p.payload(), StandardCharsets.UTF_8)).isEqualTo("m" + i);
                sub.send(new Puback(p.packetId(), ReasonCode.SUCCESS, MqttProperties.EMPTY));
            }
            assertThat(sub.available()).as("nothing sent before its sync").isZero();
            assertThat(pub.available()).as("nor acknowledged").isZero();

            gate.open();
            Publish last = sub.next(Publish.class);
            assertThat(new String(last.payload(), StandardCharsets.UTF_8)).isEqualTo("unsynced");
            assertThat(pub.next(Puback.class).packetId()).isEqualTo(SYNCED + 1);
        }
    }
}
