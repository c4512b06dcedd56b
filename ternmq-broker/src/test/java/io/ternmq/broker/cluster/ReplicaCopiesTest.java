package io.ternmq.broker.cluster;

import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.store.StoreMirror;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The store's groups on their way to the replica map, with the map's part played by the test. */
class ReplicaCopiesTest {
    /** Client ids in the order their updates were sent, and each update's completion. */
    private final List<String> sent = new CopyOnWriteArrayList<>();
    private final Map<String, CompletableFuture<Object>> pending = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicBoolean safe = new AtomicBoolean(true);
    private final BrokerMetrics metrics = new BrokerMetrics();
    private final ReplicaCopies copies = new ReplicaCopies((clientId, update) -> {
        sent.add(clientId);
        CompletableFuture<Object> f = new CompletableFuture<>();
        pending.put(clientId + "#" + sent.stream().filter(clientId::equals).count(), f);
        return f;
    }, failure -> failure instanceof java.util.concurrent.TimeoutException, safe::get, metrics);

    @AfterEach
    void stop() {
        copies.close();
    }

    private static Map<String, byte[]> logs(String... clients) {
        Map<String, byte[]> out = new java.util.HashMap<>();
        for (String c : clients) {
            out.put(c, new byte[] {1});
        }
        return out;
    }

    @Test
    @DisplayName("a QoS 2 publisher's copy (its packet id) is confirmed before its subscribers' copies are sent; the "
            + "group is acknowledged once all are")
    void publisherFirst() {
        AtomicInteger acknowledged = new AtomicInteger();
        StoreMirror.Copy c = copies.copy(logs("pub", "sub-1", "sub-2"), Set.of("pub"));
        c.then(acknowledged::incrementAndGet);
        assertThat(sent).containsExactly("pub");

        pending.get("pub#1").complete(null);
        assertThat(sent).containsExactlyInAnyOrder("pub", "sub-1", "sub-2");
        assertThat(sent.get(0)).isEqualTo("pub");
        pending.get("sub-1#1").complete(null);
        assertThat(acknowledged).hasValue(0);
        pending.get("sub-2#1").complete(null);
        await().atMost(Duration.ofSeconds(5)).until(() -> acknowledged.get() == 1);
    }

    @Test
    @DisplayName("two flushes under way: the later one's subscriber copies leave after the earlier one's, whichever "
            + "publisher copy is confirmed first; a flush naming no publisher waits for them too")
    void deferredCopiesLeaveInFlushOrder() {
        copies.copy(logs("pub", "sub"), Set.of("pub")).then(() -> { });
        copies.copy(logs("pub", "sub"), Set.of("pub")).then(() -> { });
        assertThat(sent).containsExactly("pub", "pub");

        pending.get("pub#2").complete(null); // the later flush's publisher copy first
        assertThat(sent).as("its subscriber copy waits for the earlier flush's").containsExactly("pub", "pub");
        pending.get("pub#1").complete(null);
        assertThat(sent).containsExactly("pub", "pub", "sub", "sub");
        pending.get("sub#1").complete(null); // the earlier flush done: a third starts, naming no publisher
        copies.copy(logs("sub"), Set.of()).then(() -> { });
        assertThat(sent).containsExactly("pub", "pub", "sub", "sub", "sub");
    }

    @Test
    @DisplayName("a publisher's copy not confirmed: its subscribers' copies are not sent and the group is not "
            + "acknowledged; later groups go on")
    void publisherFailedNothingElseSent() {
        AtomicInteger acknowledged = new AtomicInteger();
        copies.copy(logs("pub", "sub-1"), Set.of("pub")).then(acknowledged::incrementAndGet);
        pending.get("pub#1").completeExceptionally(new IllegalStateException("backup indeterminate"));
        assertThat(sent).containsExactly("pub");

        AtomicInteger later = new AtomicInteger();
        copies.copy(logs("other"), Set.of()).then(later::incrementAndGet);
        pending.get("other#1").complete(null);
        await().atMost(Duration.ofSeconds(5)).until(() -> later.get() == 1);
        assertThat(sent).containsExactly("pub", "other");
        assertThat(acknowledged).hasValue(0);
    }

    @Test
    @DisplayName("after a member left, groups confirmed wait until every partition's backups are in sync again; one "
            + "confirmed before goes at once")
    void afterADeathWaitForTheBackups() {
        AtomicInteger before = new AtomicInteger();
        AtomicInteger after = new AtomicInteger();
        copies.copy(logs("a"), Set.of()).then(before::incrementAndGet);
        pending.get("a#1").complete(null);
        await().atMost(Duration.ofSeconds(5)).until(() -> before.get() == 1);

        safe.set(false);
        copies.memberLeft();
        copies.copy(logs("b"), Set.of()).then(after::incrementAndGet);
        pending.get("b#1").complete(null); // confirmed by the partition's owner, which may have no backup yet
        await().during(Duration.ofMillis(400)).atMost(Duration.ofSeconds(5)).until(() -> after.get() == 0);
        assertThat(metrics.acknowledgementsAwaitBackups).hasValue(1);
        safe.set(true);
        await().atMost(Duration.ofSeconds(5)).until(() -> after.get() == 1);
        assertThat(metrics.acknowledgementsAwaitBackups).hasValue(0);
    }

    @Test
    @DisplayName("a group one of whose copies needed another try waits for the backups to be in sync")
    void retriedWaitsForTheBackups() {
        safe.set(false);
        AtomicInteger acknowledged = new AtomicInteger();
        copies.copy(logs("a"), Set.of()).then(acknowledged::incrementAndGet);
        pending.get("a#1").completeExceptionally(new java.util.concurrent.TimeoutException("indeterminate"));
        await().atMost(Duration.ofSeconds(5)).until(() -> pending.containsKey("a#2"));
        pending.get("a#2").complete(null);
        await().during(Duration.ofMillis(400)).atMost(Duration.ofSeconds(5)).until(() -> acknowledged.get() == 0);
        safe.set(true);
        await().atMost(Duration.ofSeconds(5)).until(() -> acknowledged.get() == 1);
    }

    @Test
    @DisplayName("without a publisher named first, every copy of a group goes at once")
    void allAtOnce() {
        AtomicInteger acknowledged = new AtomicInteger();
        copies.copy(logs("a", "b"), Set.of()).then(acknowledged::incrementAndGet);
        assertThat(sent).containsExactlyInAnyOrder("a", "b");
        pending.values().forEach(f -> f.complete(null));
        await().atMost(Duration.ofSeconds(5)).until(() -> acknowledged.get() == 1);
    }
}
