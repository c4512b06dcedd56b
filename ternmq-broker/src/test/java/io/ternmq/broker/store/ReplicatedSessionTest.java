package io.ternmq.broker.store;

import io.ternmq.broker.message.Subscription;
import io.ternmq.codec.QoS;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A store with a mirror: each operation's session writes, recorded by {@link MirroringWriter}, applied to a
 * {@link ReplicatedSession} as the cluster's replica map does, give back the session as the store holds it.
 */
class ReplicatedSessionTest {
    private final MemoryStore store = new MemoryStore();
    private final Map<String, ReplicatedSession> replicas = new HashMap<>();
    private final List<Runnable> released = new ArrayList<>();
    /** Each group's clients named first (see {@link StoreMirror#copy}). */
    private final List<java.util.Set<String>> firsts = new ArrayList<>();

    ReplicatedSessionTest() {
        // the replica map's part, applied at once; acknowledgements run when released, as the cluster's would
        store.mirrorTo((logs, first) -> {
            firsts.add(first);
            logs.forEach((clientId, log) -> {
                ReplicatedSession s = replicas.computeIfAbsent(clientId, k -> new ReplicatedSession());
                if (!s.apply(log)) {
                    replicas.remove(clientId);
                }
            });
            return applied -> released.add(applied);
        });
    }

    private void run(Consumer<StoreWriter> writes) {
        store.submit(writes::accept);
    }

    private static final String OWNER = StoreOwner.of("c", 7);

    private static SessionRecord record(long epoch, String willTopic) {
        return new SessionRecord("c", epoch, 5, 600, 0,
                willTopic == null ? null : StoreContractTest.message(willTopic, "gone"), 30);
    }

    @Test
    @DisplayName("a group that stores a QoS 2 packet id names its publisher's copy first; one that stores none, none")
    void publisherFirst() {
        String sub = StoreOwner.of("sub", 1);
        run(w -> {
            w.putInboundQos2(OWNER, 42);
            w.inboundCreated(OWNER, 42, 1000);
            w.putQueueEntry(sub, new QueueEntry(1, 9, QoS.EXACTLY_ONCE, false, new int[0], "", false, 1));
            w.putMessage(9, StoreContractTest.message("t", "m"), 1);
        });
        run(w -> w.putQueueEntry(sub, new QueueEntry(2, 9, QoS.EXACTLY_ONCE, false, new int[0], "", false, 1)));
        assertThat(firsts).containsExactly(java.util.Set.of("c"), java.util.Set.of());
    }

    @Test
    @DisplayName("record with will and delay, subscriptions, inbound QoS 2 ids and queue entries (seqs, PUBREC state, "
            + "messages) come back from the replica; acknowledged entries are gone from it")
    void replicaFollowsTheStore() throws IOException {
        run(w -> w.putSession(record(7, "will/c")));
        run(w -> {
            w.putSubscription(OWNER, new Subscription("a/#", QoS.EXACTLY_ONCE, true, false, 1, 9));
            w.putSubscription(OWNER, new Subscription("b", QoS.AT_LEAST_ONCE, false, false, 0, 0));
            w.deleteSubscription(OWNER, "b");
            w.putInboundQos2(OWNER, 17);
            w.putInboundQos2(OWNER, 18);
            w.deleteInboundQos2(OWNER, 18);
        });
        run(w -> {
            for (long seq = 1; seq <= 3; seq++) {
                long id = w.newMessageId();
                // entries first, as a publish writes them, then the message
                w.putQueueEntry(OWNER, new QueueEntry(seq, id, seq == 3 ? QoS.EXACTLY_ONCE : QoS.AT_LEAST_ONCE,
                        false, new int[] {9}, "", false, 4));
                w.putMessage(id, StoreContractTest.message("a/" + seq, "m" + seq), 1);
            }
        });
        run(w -> w.markReleased(OWNER, 3));
        run(w -> w.deleteQueueEntry(OWNER, 1, 1));
        assertThat(released).as("each operation waited for its copy").hasSize(5);

        ReplicatedSession copy = replicas.get("c");
        ReplicatedSession.Import in = copy.toImport("c");
        assertThat(in.record().will().topic()).isEqualTo("will/c");
        assertThat(in.record().willDelaySeconds()).isEqualTo(30);
        assertThat(in.record().expiryInterval()).isEqualTo(600);
        assertThat(in.subscriptions()).extracting(Subscription::filter).containsExactly("a/#");
        assertThat(in.subscriptions().get(0).subscriptionId()).isEqualTo(9);
        assertThat(in.inboundQos2()).containsExactly(17);
        assertThat(in.entries()).extracting(e -> e.entry().seq()).containsExactly(2L, 3L);
        assertThat(in.entries()).extracting(e -> e.entry().released()).containsExactly(false, true);
        assertThat(in.entries()).extracting(e -> e.message().topic()).containsExactly("a/2", "a/3");

        // its own binary form (migration between members, reads) keeps all of it
        ReplicatedSession again = ReplicatedSession.read(new DataInputStream(new ByteArrayInputStream(
                copy.toBytes())));
        assertThat(again.toImport("c").entries()).extracting(e -> e.entry().seq()).containsExactly(2L, 3L);
        assertThat(again.toImport("c").record().will().topic()).isEqualTo("will/c");
    }

    @Test
    @DisplayName("forward marks: per stream the highest forwarded id the queue took, kept after the entry is "
            + "delivered, carried by the binary form, and gone with the incarnation")
    void forwardMarks() throws IOException {
        run(w -> w.putSession(record(7, null)));
        for (long fwd : new long[] {5, 9}) {
            run(w -> {
                long id = w.newMessageId();
                w.putQueueEntry(OWNER, new QueueEntry(fwd, id, QoS.AT_LEAST_ONCE, false, new int[0], "", false, 2));
                w.forwardMark(OWNER, 42L, fwd);
                w.putMessage(id, StoreContractTest.message("f/" + fwd, "m"), 1);
            });
        }
        run(w -> {
            long id = w.newMessageId();
            w.putQueueEntry(OWNER, new QueueEntry(10, id, QoS.AT_LEAST_ONCE, false, new int[0], "", false, 2));
            w.forwardMark(OWNER, 43L, 3);
            w.putMessage(id, StoreContractTest.message("g", "m"), 1);
        });
        run(w -> w.deleteQueueEntry(OWNER, 9, 2)); // delivered: its mark stays
        assertThat(replicas.get("c").toImport("c").forwardMarks()).isEqualTo(Map.of(42L, 9L, 43L, 3L));
        ReplicatedSession again = ReplicatedSession.read(new DataInputStream(new ByteArrayInputStream(
                replicas.get("c").toBytes())));
        assertThat(again.toImport("c").forwardMarks()).isEqualTo(Map.of(42L, 9L, 43L, 3L));

        run(w -> {
            w.deleteSession("c", OWNER);
            w.putSession(record(8, null));
        });
        assertThat(replicas.get("c").toImport("c").forwardMarks()).isEmpty();
    }

    @Test
    @DisplayName("a stale copy's deletion (another node holds the session now) goes from the store, not the replica, "
            + "which is the holder's")
    void staleCopyLeavesTheReplica() {
        run(w -> w.putSession(record(7, null)));
        run(w -> w.deleteStaleCopy("c", OWNER));
        assertThat(replicas.get("c")).isNotNull();
        assertThat(replicas.get("c").toImport("c").record().epoch()).isEqualTo(7);
        run(w -> w.deleteSession("c", OWNER));
        assertThat(replicas.get("c")).isNull();
    }

    @Test
    @DisplayName("a QoS 2 message that left the queue (completed) is remembered, the latest 256, in the binary form "
            + "too; a QoS 1 message is not")
    void completedQos2() throws IOException {
        run(w -> w.putSession(record(7, null)));
        for (long seq = 1; seq <= 300; seq++) {
            long s = seq;
            run(w -> {
                long id = w.newMessageId();
                w.putQueueEntry(OWNER, new QueueEntry(s, id, s == 300 ? QoS.AT_LEAST_ONCE : QoS.EXACTLY_ONCE, false,
                        new int[0], "", false, 2));
                w.putMessage(id, StoreContractTest.message("q/" + s, "m"), 1);
            });
            run(w -> w.deleteQueueEntry(OWNER, s, 2));
        }
        run(w -> {
            long id = w.newMessageId();
            w.putQueueEntry(OWNER, new QueueEntry(301, id, QoS.EXACTLY_ONCE, false, new int[0], "", false, 2));
            w.putMessage(id, StoreContractTest.message("q/301", "m"), 1);
        });
        java.util.Set<String> completed = new java.util.HashSet<>();
        ReplicatedSession again = ReplicatedSession.read(new DataInputStream(new ByteArrayInputStream(
                replicas.get("c").toBytes())));
        for (ReplicatedSession.Import in : List.of(replicas.get("c").toImport("c"), again.toImport("c"))) {
            completed.clear();
            in.completedQos2().forEach(m -> completed.add(m.topic()));
            assertThat(completed).hasSize(256).contains("q/299", "q/44").doesNotContain("q/43", "q/300", "q/301");
            assertThat(in.entries()).extracting(e -> e.message().topic()).containsExactly("q/301");
        }
    }

    @Test
    @DisplayName("a new incarnation replaces the old; the old one's late writes and its deletion leave it alone; "
            + "deleting the current one removes the replica")
    void incarnations() {
        run(w -> w.putSession(record(7, null)));
        run(w -> w.putSubscription(OWNER, new Subscription("old", QoS.AT_LEAST_ONCE, false, false, 0, 0)));
        String newOwner = StoreOwner.of("c", 8);
        run(w -> {
            w.deleteSession("c", OWNER); // Clean Start: the old session goes and the new one starts, in one group
            w.putSession(record(8, null));
            w.putSubscription(newOwner, new Subscription("new", QoS.AT_LEAST_ONCE, false, false, 0, 0));
        });
        run(w -> w.putSubscription(OWNER, new Subscription("late", QoS.AT_LEAST_ONCE, false, false, 0, 0)));
        run(w -> w.deleteSession("c", OWNER));
        assertThat(replicas.get("c").toImport("c").subscriptions()).extracting(Subscription::filter)
                .containsExactly("new");
        run(w -> w.deleteSession("c", newOwner));
        assertThat(replicas).doesNotContainKey("c");
    }

    @Test
    @DisplayName("an entry deleted before its put arrives (updates reordered) is not resurrected")
    void deleteBeforePut() {
        run(w -> w.putSession(record(7, null)));
        ReplicatedSession copy = replicas.get("c");
        run(w -> w.deleteQueueEntry(OWNER, 5, 0));
        run(w -> {
            long id = w.newMessageId();
            w.putMessage(id, StoreContractTest.message("t", "m"), 1);
            w.putQueueEntry(OWNER, new QueueEntry(5, id, QoS.AT_LEAST_ONCE, false, new int[0], "", false, 1));
        });
        assertThat(copy.queued()).isZero();
    }

    @Test
    @DisplayName("a copy holding only its record (its collections not made yet) goes through its binary form, as when "
            + "its partition migrates, and takes the writes that follow")
    void recordOnlyCopyMigrates() throws IOException {
        run(w -> w.putSession(record(7, "will/c")));
        ReplicatedSession migrated = ReplicatedSession.read(new DataInputStream(new ByteArrayInputStream(
                replicas.get("c").toBytes())));
        ReplicatedSession.Import copy = migrated.toImport("c");
        assertThat(migrated.hasRecord()).isTrue();
        assertThat(copy.record().will().topic()).isEqualTo("will/c");
        assertThat(copy.subscriptions()).isEmpty();
        assertThat(copy.entries()).isEmpty();
        assertThat(copy.inboundQos2()).isEmpty();
        assertThat(copy.forwardMarks()).isEmpty();
        assertThat(copy.inboundCreated()).isEmpty();
        replicas.put("c", migrated);
        run(w -> {
            w.deleteSubscription(OWNER, "never-subscribed");
            w.putSubscription(OWNER, new Subscription("a/+", QoS.AT_LEAST_ONCE, false, false, 0, 0));
        });
        assertThat(migrated.toImport("c").subscriptions()).extracting(Subscription::filter).containsExactly("a/+");
        assertThat(ReplicatedSession.read(new DataInputStream(new ByteArrayInputStream(migrated.toBytes())))
                .toImport("c").subscriptions()).extracting(Subscription::filter).containsExactly("a/+");
    }

    /** Another node's store copying into the same replicas (a claimant's, in a handover). */
    private Consumer<Consumer<StoreWriter>> otherNode() {
        MemoryStore other = new MemoryStore();
        other.mirrorTo((logs, first) -> {
            logs.forEach((clientId, log) -> {
                ReplicatedSession s = replicas.computeIfAbsent(clientId, k -> new ReplicatedSession());
                if (!s.apply(log)) {
                    replicas.remove(clientId);
                }
            });
            return applied -> released.add(applied);
        });
        return writes -> other.submit(writes::accept);
    }

    private static void entry(StoreWriter w, String owner, long seq, String topic) {
        long id = w.newMessageId();
        w.putMessage(id, StoreContractTest.message(topic, "m"), 1);
        w.putQueueEntry(owner, new QueueEntry(seq, id, QoS.AT_LEAST_ONCE, false, new int[0], "", false, 1));
    }

    /** What a claimant's import writes: the session under its own incarnation, marked as a claim. */
    private static void claimantImports(StoreWriter w, String owner, long epoch) {
        w.claimed(owner);
        w.putSession(record(epoch, null));
        w.putSubscription(owner, new Subscription("a", QoS.AT_LEAST_ONCE, false, false, 0, 0));
        entry(w, owner, 1, "m1");
    }

    private List<String> adoptedTopics() {
        return replicas.get("c").adoptable().toImport("c").entries().stream().map(e -> e.message().topic()).toList();
    }

    private static final String CLAIMED = StoreOwner.of("c", 9);

    /** The holder's session (incarnation 7: subscription a, m1 queued), and a claimant (9) that imported it. */
    private Consumer<Consumer<StoreWriter>> handedOver() {
        run(w -> {
            w.putSession(record(7, null));
            w.putSubscription(OWNER, new Subscription("a", QoS.AT_LEAST_ONCE, false, false, 0, 0));
            entry(w, OWNER, 1, "m1");
        });
        Consumer<Consumer<StoreWriter>> claimant = otherNode();
        claimant.accept(w -> claimantImports(w, CLAIMED, 9));
        return claimant;
    }

    @Test
    @DisplayName("a handover given up (the claimant deletes what it imported): the replica is the holder's again, "
            + "with what the holder wrote meanwhile and after; until then a node adopting takes the holder's")
    void claimGivenUp() throws IOException {
        Consumer<Consumer<StoreWriter>> claimant = handedOver();
        run(w -> entry(w, OWNER, 2, "m2")); // arrived while moving: stored here, carried there
        claimant.accept(w -> entry(w, CLAIMED, 2, "m2"));
        assertThat(replicas.get("c").epoch()).isEqualTo(9);
        assertThat(replicas.get("c").adoptable().epoch()).isEqualTo(7);
        assertThat(adoptedTopics()).containsExactly("m1", "m2");
        ReplicatedSession migrated = ReplicatedSession.read(new DataInputStream(new ByteArrayInputStream(
                replicas.get("c").toBytes())));
        assertThat(migrated.adoptable().epoch()).as("the binary form keeps both").isEqualTo(7);
        assertThat(migrated.epoch()).isEqualTo(9);

        claimant.accept(w -> w.deleteSession("c", CLAIMED)); // it lost its claim
        run(w -> entry(w, OWNER, 3, "m3"));
        assertThat(replicas.get("c").epoch()).isEqualTo(7);
        assertThat(adoptedTopics()).containsExactly("m1", "m2", "m3");
        assertThat(replicas.get("c").toImport("c").subscriptions()).extracting(Subscription::filter)
                .containsExactly("a");
    }

    @Test
    @DisplayName("a handover whose claim committed: the holder's incarnation goes, its late writes and its deletion "
            + "leave the claimant's alone")
    void claimHeld() {
        Consumer<Consumer<StoreWriter>> claimant = handedOver();
        claimant.accept(w -> w.held(CLAIMED));
        assertThat(replicas.get("c").adoptable().epoch()).isEqualTo(9);
        run(w -> entry(w, OWNER, 2, "late"));
        run(w -> w.deleteSession("c", OWNER)); // the old holder drops its copy
        assertThat(replicas.get("c").epoch()).isEqualTo(9);
        assertThat(adoptedTopics()).containsExactly("m1");
        claimant.accept(w -> w.deleteSession("c", CLAIMED));
        assertThat(replicas).doesNotContainKey("c");
    }

    @Test
    @DisplayName("the holder's client comes back to it during the move (its record written again): the holder's "
            + "incarnation is the replica again, whatever the claimant does then")
    void holderTakesBack() {
        Consumer<Consumer<StoreWriter>> claimant = handedOver();
        run(w -> w.putSession(record(7, null)));
        run(w -> entry(w, OWNER, 2, "m2"));
        claimant.accept(w -> entry(w, CLAIMED, 3, "carried"));
        claimant.accept(w -> w.deleteSession("c", CLAIMED));
        assertThat(replicas.get("c").epoch()).isEqualTo(7);
        assertThat(adoptedTopics()).containsExactly("m1", "m2");
    }

    @Test
    @DisplayName("a later claim while one is pending: the holder's incarnation stays displaced, the earlier claim's "
            + "is dropped (its deletion changes nothing), the later one's commit makes it the replica")
    void laterClaim() {
        Consumer<Consumer<StoreWriter>> first = handedOver();
        Consumer<Consumer<StoreWriter>> second = otherNode();
        String later = StoreOwner.of("c", 11);
        second.accept(w -> claimantImports(w, later, 11));
        first.accept(w -> w.deleteSession("c", CLAIMED));
        assertThat(replicas.get("c").epoch()).isEqualTo(11);
        assertThat(replicas.get("c").adoptable().epoch()).isEqualTo(7);
        second.accept(w -> w.held(later));
        assertThat(replicas.get("c").adoptable().epoch()).isEqualTo(11);
        assertThat(adoptedTopics()).containsExactly("m1");
    }

    @Test
    @DisplayName("an adoption's import carries the record of the dead runs it was adopted from in its own group: the "
            + "replica never holds the session without it")
    void adoptionImportCarriesItsRuns() {
        StoredQueue q = new StoredQueue(store, "c", 7, new StoredQueue.Owner() {
            @Override
            public void stored(StoredEntry entry) {
            }

            @Override
            public void refused() {
            }

            @Override
            public void overflowed() {
            }

            @Override
            public void resume(Runnable then) {
                then.run();
            }
        });
        int groups = firsts.size();
        store.submit(new SessionImport(q, record(7, null), List.of(), List.of(), Map.of(), List.of(), false,
                (w, key) -> StoredQueue.writeOrphans(w, key, "run-1", Map.of(5L, 7L), Map.of(5L, new long[] {9, 9})),
                () -> { }));
        assertThat(firsts).as("one group").hasSize(groups + 1);
        ReplicatedSession.Import in = replicas.get("c").toImport("c");
        assertThat(in.record().epoch()).isEqualTo(7);
        assertThat(in.orphans()).containsOnlyKeys("run-1");
        assertThat(in.orphans().get("run-1").get(5L)).containsExactly(9L);
        assertThat(in.forwardMarks()).containsEntry(5L, 7L);
    }
}
