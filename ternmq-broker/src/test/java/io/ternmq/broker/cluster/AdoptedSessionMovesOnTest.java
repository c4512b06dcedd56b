package io.ternmq.broker.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.DefaultEventExecutor;
import io.ternmq.broker.config.SharedSubscriptionStrategy;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.retain.MemoryRetainedStore;
import io.ternmq.broker.routing.Router;
import io.ternmq.broker.routing.SubscriptionTree;
import io.ternmq.broker.session.Adoption;
import io.ternmq.broker.session.LocalSessionRegistry;
import io.ternmq.broker.session.Session;
import io.ternmq.broker.session.SessionSnapshot;
import io.ternmq.broker.store.MemoryStore;
import io.ternmq.broker.store.QueueEntry;
import io.ternmq.broker.store.QueueLimits;
import io.ternmq.broker.store.ReplicatedSession;
import io.ternmq.broker.store.SessionRecord;
import io.ternmq.broker.store.StoredEntry;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.QoS;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Late orphans of a dead run (copies routed to it while it lived that leave their publisher's node only once their
 * packet id is durable, seconds later under replication stalls) for a session adopted from it that moved on to
 * another node meanwhile: its new holder gives them, each once, and neither those its adopter gave it nor a message
 * routing gave it at the adopter (a chaos run lost 48 QoS 2 messages at a session adopted, then handed on 1 s later:
 * they reached only the adopter, which dropped them). And a session of a dead run that nobody could adopt (its
 * replica was missing), restored by its node when it came back: it gets the orphans the members kept for it (a
 * chaos run lost 24 QoS 1 messages so). Nodes' orphan bookkeeping, sessions and stores, in this JVM; every orphan
 * reaches each of them, as the data link sends it to every member.
 */
class AdoptedSessionMovesOnTest {
    private static final String RUN = "run-of-x";
    private static final long STREAM = 7;
    private static final long FENCE = 5;
    private final List<DefaultEventExecutor> loops = new ArrayList<>();

    /** One node: its store, routing, sessions and orphans; its links go nowhere. */
    private final class Node implements OrphanedForwards.Node {
        final String id;
        final String other;
        final MemoryStore store = new MemoryStore();
        final QueueLimits limits = new QueueLimits(1000, -1, true, false, 20);
        final Router router = new Router(new SubscriptionTree(SharedSubscriptionStrategy.ROUND_ROBIN, 1000),
                new MemoryRetainedStore(), store, limits, -1, -1, new BrokerMetrics());
        final LocalSessionRegistry local = new LocalSessionRegistry(limits, new BrokerMetrics(), router, m -> { },
                store);
        final OrphanedForwards orphans = new OrphanedForwards(this, null, router, new BrokerMetrics());
        final DefaultEventExecutor loop = new DefaultEventExecutor();
        /** The cluster's copy of each session this node stores, as the replica map applies its writes. */
        final Map<String, ReplicatedSession> replicas = new java.util.concurrent.ConcurrentHashMap<>();

        Node(String id, String other) {
            this.id = id;
            this.other = other;
            loops.add(loop);
            store.mirrorTo((logs, first) -> {
                logs.forEach((client, log) -> replicas.computeIfAbsent(client, k -> new ReplicatedSession())
                        .apply(log));
                return applied -> applied.run();
            });
        }

        @Override
        public String nodeId() {
            return id;
        }

        @Override
        public Set<String> memberIds() {
            return Set.of(other);
        }

        @Override
        public boolean isMember(String node) {
            return node.equals(other);
        }

        @Override
        public RemoteNode member(String node) {
            return null;
        }

        @Override
        public boolean send(String to, ByteBuf frame) {
            frame.release();
            return true;
        }

        @Override
        public void later(Runnable task, long seconds) {
            // nothing here outlives the test
        }

        @Override
        public boolean isClosing() {
            return false;
        }
    }

    @AfterEach
    void stop() {
        loops.forEach(DefaultEventExecutor::shutdownGracefully);
    }

    private static Message message(String payload) {
        return new Message("t/a", QoS.EXACTLY_ONCE, false, payload.getBytes(StandardCharsets.UTF_8),
                MqttProperties.EMPTY, "pub", 1000 + payload.hashCode());
    }

    /** An orphan of the dead run, as the sender's ORPHAN frames bring it to every member. */
    private static void orphan(long id, Message m, Node... nodes) {
        for (Node n : nodes) {
            n.orphans.received("sender", RUN, STREAM, id, m, false);
        }
    }

    /** The payloads of a session's queue, in order. */
    private static List<String> queue(Session s) throws Exception {
        CompletableFuture<List<String>> out = new CompletableFuture<>();
        s.storedQueue().read(1, 100, entries -> out.complete(entries.stream()
                .map(e -> new String(e.message().payload(), StandardCharsets.UTF_8)).toList()));
        return out.get(5, TimeUnit.SECONDS);
    }

    /** Node {@code self} (beside {@code other}) once node x's run {@link #RUN} died. */
    private Node afterXDied(String self, String other) {
        Node n = new Node(self, other);
        n.orphans.nodeLeft("x", RUN, null);
        return n;
    }

    /** The replica of session "sub" with one subscription and nothing queued. */
    private static ReplicatedSession.Import replicaOf(Subscription sub) {
        return new ReplicatedSession.Import(new SessionRecord("sub", 1, 5, 600, 0, null, 0), List.of(sub), List.of(),
                List.of(), Map.of(), Map.of(), Map.of(), Set.of());
    }

    /** {@code adopter} adopts session "sub" from x's replica {@code in}, with the orphans {@code adopted} it lacks. */
    private static Session adoptFromX(Node adopter, ReplicatedSession.Import in, AdoptedOrphans adopted) {
        AtomicReference<Session> made = new AtomicReference<>();
        adopter.local.adopt(FENCE, in.record(), in.subscriptions(), List.of(), adopted.entries, adopter.loop,
                new Adoption(RUN, Set.of(), System.currentTimeMillis() + 60_000), Map.of(), s -> {
                    made.set(s);
                    adopter.orphans.made(adopted, s, adopter.local);
                });
        return made.get();
    }

    /** Node {@code next} adopts session "sub" from the replica of its adopter (run-of-a), which died too. */
    private static Session adoptFromAdopter(Node next, ReplicatedSession.Import copy, AdoptedOrphans again,
                                            List<AdoptedOrphans> earlier) {
        AtomicReference<Session> made = new AtomicReference<>();
        next.local.adopt(FENCE + 1, copy.record(), copy.subscriptions(), List.of(), copy.entries(), next.loop,
                new Adoption("run-of-a", Set.of(), System.currentTimeMillis() + 60_000), Map.of(), s -> {
                    made.set(s);
                    next.orphans.made(again, s, next.local);
                    earlier.forEach(e -> next.orphans.made(e, s, next.local));
                });
        return made.get();
    }

    @Test
    @DisplayName("late orphans of a session that moved on from its adopter go to it at its new holder, once; not "
            + "those its adopter gave it, nor one routing gave it there")
    void lateOrphansFollowTheSession() throws Exception {
        Node adopter = afterXDied("a", "b");
        Node next = afterXDied("b", "a");
        Subscription sub = new Subscription("t/#", QoS.EXACTLY_ONCE);
        Message m1 = message("m1");
        orphan(1, m1, adopter, next);

        // the adopter imports the replica with the orphans so far
        ReplicatedSession.Import in = replicaOf(sub);
        AdoptedOrphans adopted = adopter.orphans.entriesFor("x", "sub", in);
        assertThat(adopted.entries).hasSize(1);
        Session a = adoptFromX(adopter, in, adopted);
        Message m2 = message("m2");
        orphan(2, m2, adopter, next); // a late orphan while the session is at its adopter: given there
        await().atMost(Duration.ofSeconds(5)).until(() -> queue(a), q -> q.equals(List.of("m1", "m2")));
        Message routed = message("routed");
        adopter.orphans.noting(routed).test(a); // forwarded to the adopter, routing gave it the session there

        // the session moves on: the adopter says what it accounted for
        AtomicReference<AccountedOrphans> accounted = new AtomicReference<>();
        adopter.local.handedOver("sub", FENCE, Runnable::run, s -> {
            accounted.set(adopter.orphans.handedOn(s));
            return () -> { };
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> accounted.get() != null);
        Message m3 = message("m3");
        orphan(3, m3, adopter, next); // after the adopter handed the session on, before the next holder heard

        SessionSnapshot snapshot = new SessionSnapshot(600, 5, 0, List.of(sub), List.of(), Map.of(),
                new Adoption(RUN, Set.of(), System.currentTimeMillis() + 60_000));
        List<StoredEntry> entries = List.of(
                new StoredEntry(new QueueEntry(1, 0, QoS.EXACTLY_ONCE, false, new int[0], "", false, 2), m1),
                new StoredEntry(new QueueEntry(2, 0, QoS.EXACTLY_ONCE, false, new int[0], "", false, 2), m2));
        CompletableFuture<Void> imported = new CompletableFuture<>();
        Session b = next.local.importSession("sub", FENCE + 1, snapshot, entries, next.loop,
                () -> imported.complete(null));
        next.orphans.movedHere(b, snapshot, next.local);
        imported.get(5, TimeUnit.SECONDS);
        next.orphans.takeOver(b, accounted.get()); // with the adopter's Carried frame

        orphan(4, message("m4"), adopter, next);
        orphan(5, routed, adopter, next); // the routed one's orphan: the session has it
        orphan(6, message("m6"), adopter, next);
        await().atMost(Duration.ofSeconds(5)).until(() -> queue(b), q -> q.size() >= 5);
        assertThat(queue(b)).containsExactly("m1", "m2", "m3", "m4", "m6");
    }

    @Test
    @DisplayName("a session of a node's dead run restored from its store for lack of a replica gets the orphans the "
            + "members kept for it that it lacks, and later ones; not one its queue holds, nor one not for it")
    void restoredWithoutReplicaTakesTheOrphans() throws Exception {
        Node back = new Node("x", "a"); // the dead node, back on its data; "a" kept the orphans of its earlier run
        Subscription sub = new Subscription("t/#", QoS.EXACTLY_ONCE);
        Message stored = message("stored");
        orphan(1, stored, back); // forwarded to it before it died, unconfirmed, and in its store
        orphan(Long.MAX_VALUE / 2 + 1, message("after"), back); // routed to its run after the death
        back.orphans.received("sender", RUN, STREAM, Long.MAX_VALUE / 2 + 2, new Message("other", QoS.AT_LEAST_ONCE,
                false, new byte[] {1}, MqttProperties.EMPTY, "pub", 1), false);
        back.orphans.earlierRun("a", RUN); // after the orphans, as the member sends them

        List<StoredEntry> queued = List.of(
                new StoredEntry(new QueueEntry(1, 0, QoS.EXACTLY_ONCE, false, new int[0], "", false, 6), stored));
        AtomicReference<Session> restored = new AtomicReference<>();
        back.local.adopt(FENCE, new SessionRecord("sub", 1, 5, 600, 0, null, 0), List.of(sub), List.of(), queued,
                back.loop, null, Map.of(), restored::set);
        Session s = restored.get();
        CompletableFuture<Integer> given = new CompletableFuture<>();
        s.submit(() -> given.complete(back.orphans.restoredWithoutReplica(s, queued, back.local)));
        assertThat(given.get(5, TimeUnit.SECONDS)).isEqualTo(1);
        orphan(Long.MAX_VALUE / 2 + 3, message("later"), back); // still routed to the earlier run meanwhile

        await().atMost(Duration.ofSeconds(5)).until(() -> queue(s), q -> q.size() >= 3);
        assertThat(queue(s)).containsExactly("stored", "after", "later");
    }

    @Test
    @DisplayName("what the members route to a session restored without a replica waits behind the orphans it takes "
            + "(their publishers too), and a message both routed to it and kept as an orphan joins its queue once")
    void restoredWithoutReplicaTakesTheOrphansFirst() throws Exception {
        Node back = new Node("x", "a");
        Subscription sub = new Subscription("t/#", QoS.EXACTLY_ONCE);
        orphan(Long.MAX_VALUE / 2 + 1, message("after"), back); // routed to its run after the death
        AtomicReference<Session> restored = new AtomicReference<>();
        back.local.adopt(FENCE, new SessionRecord("sub", 1, 5, 600, 0, null, 0), List.of(sub), List.of(), List.of(),
                back.loop, null, Map.of(), restored::set);
        Session s = restored.get();
        back.local.holdRestored(); // as the node does before its data links come up

        // the member forwards the next two to the node's new run, which routes them to the restored session, and
        // keeps them as orphans of its dead run: the first's orphan comes before the orphans are given, the second's
        // after
        java.util.concurrent.atomic.AtomicInteger confirmed = new java.util.concurrent.atomic.AtomicInteger();
        Message both = message("both");
        back.router.publishForwarded(both, 9, 1, back.loop, (matched, quota) -> confirmed.incrementAndGet());
        orphan(Long.MAX_VALUE / 2 + 2, both, back);
        Message late = message("late");
        back.router.publishForwarded(late, 9, 2, back.loop, (matched, quota) -> confirmed.incrementAndGet());
        back.orphans.earlierRun("a", RUN);

        CompletableFuture<Integer> given = new CompletableFuture<>();
        s.submit(() -> given.complete(back.orphans.restoredWithoutReplica(s, List.of(), back.local)));
        assertThat(given.get(5, TimeUnit.SECONDS)).isEqualTo(2);
        orphan(Long.MAX_VALUE / 2 + 3, late, back);
        await().atMost(Duration.ofSeconds(5)).until(() -> queue(s), q -> q.size() >= 3);
        assertThat(confirmed).hasValue(0); // held: not yet stored

        CompletableFuture<Void> registered = new CompletableFuture<>();
        s.submit(() -> s.storedQueue().barrier(() -> registered.complete(null)));
        registered.get(5, TimeUnit.SECONDS);
        back.local.endHold(s); // registered (RestoredSessions#register)
        await().atMost(Duration.ofSeconds(5)).until(() -> confirmed.get() == 2);
        CompletableFuture<Void> settled = new CompletableFuture<>();
        s.submit(() -> s.storedQueue().barrier(() -> settled.complete(null)));
        settled.get(5, TimeUnit.SECONDS);
        assertThat(queue(s)).containsExactly("after", "both", "late");
    }

    @Test
    @DisplayName("a message orphaned for two dead runs of one session (its node died, then its adopter) goes to it "
            + "once")
    void orphanOfTwoRunsGivenOnce() throws Exception {
        Node adopter = afterXDied("a", "c");
        Node next = afterXDied("c", "a");
        Subscription sub = new Subscription("t/#", QoS.EXACTLY_ONCE);
        ReplicatedSession.Import in = replicaOf(sub);
        AdoptedOrphans adopted = adopter.orphans.entriesFor("x", "sub", in);
        adoptFromX(adopter, in, adopted);
        await().atMost(Duration.ofSeconds(5)).until(() -> adopter.replicas.get("sub") != null
                && adopter.replicas.get("sub").toImport("sub").orphans().containsKey(RUN));

        // the adopter dies: the next adopts the session from the adopter's replica, with a record of x's run
        next.orphans.nodeLeft("a", "run-of-a", null);
        ReplicatedSession.Import copy = adopter.replicas.get("sub").toImport("sub");
        AdoptedOrphans again = next.orphans.entriesFor("a", "sub", copy);
        List<AdoptedOrphans> earlier = next.orphans.earlierRuns("a", "sub", copy);
        Session c = adoptFromAdopter(next, copy, again, earlier);

        // routed to x's run, then to a's run (where the session had gone), confirmed by neither: an orphan of each
        Message both = message("both");
        orphan(1, both, next);
        next.orphans.received("sender", "run-of-a", 9, 1, both, false);
        orphan(2, message("after"), next);
        await().atMost(Duration.ofSeconds(5)).until(() -> queue(c), q -> q.size() >= 2);
        CompletableFuture<Void> settled = new CompletableFuture<>();
        c.submit(() -> c.storedQueue().barrier(() -> settled.complete(null)));
        settled.get(5, TimeUnit.SECONDS);
        assertThat(queue(c)).containsExactly("both", "after");
    }

    @Test
    @DisplayName("an orphan the session's replica held (a QoS 2 message it completed) is not given at its adoption, "
            + "whether of the dead run or of an earlier one whose record of what was accounted for never landed")
    void orphanTheReplicaHeldIsNotGiven() {
        Node next = afterXDied("c", "a");
        next.orphans.nodeLeft("a", "run-of-a", null);
        Subscription sub = new Subscription("t/#", QoS.EXACTLY_ONCE);
        Message completed = message("completed");
        Message lacking = message("lacking");
        orphan(1, completed, next); // of x's run
        orphan(2, lacking, next);
        next.orphans.received("sender", "run-of-a", 9, 1, completed, false);
        ReplicatedSession.Import in = new ReplicatedSession.Import(new SessionRecord("sub", 1, 5, 600, 0, null, 0),
                List.of(sub), List.of(), List.of(), Map.of(), Map.of(), Map.of(RUN, Map.of()),
                Set.of(io.ternmq.broker.message.MessageIdentity.of(completed)));

        AdoptedOrphans latest = next.orphans.entriesFor("a", "sub", in);
        assertThat(latest.entries).isEmpty(); // run-of-a's orphan: completed
        List<AdoptedOrphans> earlier = next.orphans.earlierRuns("a", "sub", in);
        assertThat(earlier).hasSize(1);
        assertThat(earlier.get(0).early).extracting(d -> new String(d.message().payload(), StandardCharsets.UTF_8))
                .containsExactly("lacking");
    }

    @Test
    @DisplayName("an adopted or handed-over session's inbound QoS 2 ids that a dead node had routed keep their "
            + "messages' creation times in its new replica: should its new node die too, the next adopter still routes "
            + "the publisher's resends to who lacks them")
    void inboundCreationTimesOutliveTheAdopter() throws Exception {
        Node adopter = afterXDied("a", "c");
        ReplicatedSession.Import in = new ReplicatedSession.Import(new SessionRecord("pub", 1, 5, 600, 0, null, 0),
                List.of(), List.of(7, 8), List.of(), Map.of(), Map.of(7, 1234L), Map.of(), Set.of());
        CompletableFuture<Session> made = new CompletableFuture<>();
        adopter.local.adopt(FENCE, in.record(), in.subscriptions(), in.inboundQos2(), in.entries(), adopter.loop,
                new Adoption(RUN, Set.of(), System.currentTimeMillis() + 60_000), in.inboundCreated(), made::complete);
        made.get(5, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(5)).until(() -> adopter.replicas.containsKey("pub"));
        ReplicatedSession.Import copy = adopter.replicas.get("pub").toImport("pub");
        assertThat(copy.inboundQos2()).containsExactlyInAnyOrder(7, 8);
        assertThat(copy.inboundCreated()).isEqualTo(Map.of(7, 1234L));

        // handed over to another node, with the dead node's routing of id 7 still to be resent
        Node next = afterXDied("b", "a");
        SessionSnapshot snapshot = new SessionSnapshot(600, 5, 0, List.of(), List.of(7, 8),
                Map.of(7, new io.ternmq.broker.session.DeadNodeInbound(RUN, 1234L)), null);
        CompletableFuture<Void> imported = new CompletableFuture<>();
        next.local.importSession("pub", FENCE + 1, snapshot, List.of(), next.loop, () -> imported.complete(null));
        imported.get(5, TimeUnit.SECONDS);
        assertThat(next.replicas.get("pub").toImport("pub").inboundCreated()).isEqualTo(Map.of(7, 1234L));
    }

    @Test
    @DisplayName("late orphans of a dead run for a session whose adopter died too go to it at its next adopter, "
            + "which reads from the replica which of them the first adopter accounted for")
    void lateOrphansOutliveTheAdopter() throws Exception {
        Node adopter = afterXDied("a", "c");
        Node next = afterXDied("c", "a");
        Subscription sub = new Subscription("t/#", QoS.EXACTLY_ONCE);
        orphan(1, message("m1"), adopter, next);
        ReplicatedSession.Import in = replicaOf(sub);
        AdoptedOrphans adopted = adopter.orphans.entriesFor("x", "sub", in);
        Session a = adoptFromX(adopter, in, adopted);
        orphan(2, message("m2"), adopter, next); // given at the adopter
        Message routed = message("routed");
        adopter.orphans.noting(routed).test(a); // forwarded to the adopter, routing gave it the session there
        adopter.router.deliverStored(a, new io.ternmq.broker.message.Delivery(routed, QoS.EXACTLY_ONCE, false,
                new int[0]));
        orphan(3, routed, adopter, next);
        await().atMost(Duration.ofSeconds(5)).until(() -> queue(a), q -> q.equals(List.of("m1", "m2", "routed")));
        // the session's client took m1 and m2 (acknowledged): they leave the queue, and its replica's
        CompletableFuture<Void> acked = new CompletableFuture<>();
        a.submit(() -> a.storedQueue().read(1, 2, entries -> {
            entries.forEach(e -> a.storedQueue().remove(e.entry().seq(), e.entry().messageId(),
                    e.entry().payloadBytes()));
            a.storedQueue().barrier(() -> acked.complete(null));
        }));
        acked.get(5, TimeUnit.SECONDS);

        // the adopter dies: the next adopts the session from the adopter's replica
        next.orphans.nodeLeft("a", "run-of-a", null);
        // as the map holds it after a migration: serialized and read back
        ReplicatedSession.Import copy = ReplicatedSession.read(new java.io.DataInputStream(
                new java.io.ByteArrayInputStream(adopter.replicas.get("sub").toBytes()))).toImport("sub");
        assertThat(copy.orphans()).containsOnlyKeys(RUN);
        AdoptedOrphans again = next.orphans.entriesFor("a", "sub", copy);
        List<AdoptedOrphans> earlier = next.orphans.earlierRuns("a", "sub", copy);
        orphan(4, message("m4"), next); // late, after the adopter died
        Session c = adoptFromAdopter(next, copy, again, earlier);
        orphan(5, message("m5"), next);

        await().atMost(Duration.ofSeconds(5)).until(() -> queue(c), q -> q.size() >= 3);
        assertThat(queue(c)).containsExactly("routed", "m4", "m5");
    }

    @Test
    @DisplayName("a QoS 2 message given to an adopted session as an orphan is not given to it again when its publisher "
            + "sends it again after its own node died (it lacks it not)")
    void orphanGivenIsNotResentToIt() throws Exception {
        Node adopter = afterXDied("a", "b");
        Subscription sub = new Subscription("t/#", QoS.EXACTLY_ONCE);
        Message m = message("m");
        orphan(1, m, adopter);
        ReplicatedSession.Import in = replicaOf(sub);
        AdoptedOrphans adopted = adopter.orphans.entriesFor("x", "sub", in);
        Session made = adoptFromX(adopter, in, adopted);
        await().atMost(Duration.ofSeconds(5)).until(() -> queue(made), q -> q.equals(List.of("m")));

        Qos2Resends resends = new Qos2Resends(adopter.orphans);
        assertThat(resends.lacking(m, 7, "publisher-run").test(made)).as("given as an orphan").isFalse();
        assertThat(resends.lacking(message("other"), 8, "publisher-run").test(made)).isTrue();
    }
}
