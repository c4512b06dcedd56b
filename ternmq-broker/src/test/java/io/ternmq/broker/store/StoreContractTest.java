package io.ternmq.broker.store;

import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.Subscription;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.QoS;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The contract every {@link Store} keeps, run against each implementation by a subclass. What "survives" means
 * differs: {@link #reopen()} gives the same store back for a memory store, and a store reopened from disk for a
 * persistent one.
 */
abstract class StoreContractTest {

    protected Store store;

    /** A fresh, empty store. */
    protected abstract Store open();

    /** The store as a restarted broker would find it. */
    protected abstract Store reopen();

    /** Messages held, once each, after reclaiming unreferenced ones. */
    protected abstract long messageCount();

    @BeforeEach
    void openStore() {
        store = open();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    static Message message(String topic, String payload) {
        return new Message(topic, QoS.AT_LEAST_ONCE, false, payload.getBytes(StandardCharsets.UTF_8),
                MqttProperties.builder().userProperty("k", "v").set(PropertyId.CONTENT_TYPE, "text/plain").build(),
                "publisher", 1_000L);
    }

    static QueueEntry entry(long seq, long messageId) {
        return new QueueEntry(seq, messageId, QoS.AT_LEAST_ONCE, false, new int[] {7}, "", false, 4);
    }

    /** Runs one operation and waits until it is applied. */
    void run(StoreOp op) {
        CountDownLatch done = new CountDownLatch(1);
        store.submit(new StoreOp() {
            @Override
            public void prepare(StoreWriter w) {
                op.prepare(w);
            }

            @Override
            public void applied() {
                op.applied();
                done.countDown();
            }
        });
        try {
            assertThat(done.await(10, TimeUnit.SECONDS)).as("applied").isTrue();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    List<StoredEntry> read(String owner, long from, int max) {
        CompletableFuture<List<StoredEntry>> f = new CompletableFuture<>();
        store.readQueue(owner, from, max, f::complete);
        return f.join();
    }

    static final String OWNER = StoreOwner.of("client", 42);

    @Test
    @DisplayName("queue entries are read back in seq order from a given seq, with their messages")
    void queueReadBack() {
        run(w -> {
            for (int i = 1; i <= 5; i++) {
                long id = w.newMessageId();
                w.putMessage(id, message("t/" + i, "m" + i), 1);
                w.putQueueEntry(OWNER, entry(i * 10L, id));
            }
        });
        List<StoredEntry> all = read(OWNER, 0, 100);
        assertThat(all).extracting(e -> e.entry().seq()).containsExactly(10L, 20L, 30L, 40L, 50L);
        assertThat(all.get(0).message().topic()).isEqualTo("t/1");
        assertThat(all.get(0).message().properties().userProperties()).hasSize(1);
        assertThat(all.get(0).entry().subscriptionIds()).containsExactly(7);
        assertThat(read(OWNER, 25, 2)).extracting(e -> e.entry().seq()).containsExactly(30L, 40L);
        assertThat(read(StoreOwner.of("client", 43), 0, 100)).as("another incarnation's queue").isEmpty();
    }

    @Test
    @DisplayName("a message referenced from 1000 queues is stored once and reclaimed when the last reference goes")
    void payloadStoredOnce() {
        long[] id = new long[1];
        run(w -> {
            id[0] = w.newMessageId();
            for (int i = 0; i < 1000; i++) {
                w.putQueueEntry(StoreOwner.of("c" + i, 1), entry(1, id[0]));
            }
            w.putMessage(id[0], message("fan/out", "x".repeat(1024)), 1000);
        });
        assertThat(messageCount()).isEqualTo(1);
        run(w -> {
            for (int i = 0; i < 999; i++) {
                w.deleteQueueEntry(StoreOwner.of("c" + i, 1), 1, id[0]);
            }
        });
        assertThat(messageCount()).as("one reference left").isEqualTo(1);
        run(w -> w.deleteQueueEntry(StoreOwner.of("c999", 1), 1, id[0]));
        assertThat(messageCount()).isZero();
    }

    @Test
    @DisplayName("the PUBREC state of an entry is stored")
    void releasedState() {
        run(w -> {
            long id = w.newMessageId();
            w.putMessage(id, message("t", "m"), 1);
            w.putQueueEntry(OWNER, new QueueEntry(3, id, QoS.EXACTLY_ONCE, true, new int[0], "", false, 1));
        });
        run(w -> w.markReleased(OWNER, 3));
        StoredEntry e = read(OWNER, 0, 10).get(0);
        assertThat(e.entry().released()).isTrue();
        assertThat(e.entry().retain()).isTrue();
        assertThat(e.entry().qos()).isEqualTo(QoS.EXACTLY_ONCE);
    }

    @Test
    @DisplayName("deleteFirstQueueEntry removes the oldest entry at or after a seq, even one written in the same op")
    void deleteFirst() {
        run(w -> {
            long id = w.newMessageId();
            w.putMessage(id, message("t", "m"), 3);
            w.putQueueEntry(OWNER, entry(5, id));
            w.putQueueEntry(OWNER, entry(6, id));
        });
        QueueEntry[] gone = new QueueEntry[2];
        run(w -> {
            long id = w.newMessageId();
            w.putMessage(id, message("t", "n"), 1);
            w.putQueueEntry(OWNER, entry(4, id));
            gone[0] = w.deleteFirstQueueEntry(OWNER, 4);
            gone[1] = w.deleteFirstQueueEntry(OWNER, 6);
        });
        assertThat(gone[0].seq()).isEqualTo(4);
        assertThat(gone[1].seq()).isEqualTo(6);
        assertThat(read(OWNER, 0, 10)).extracting(e -> e.entry().seq()).containsExactly(5L);
    }

    @Test
    @DisplayName("operations are prepared and applied in submission order, from many threads at once")
    void singleOrder() throws Exception {
        AtomicLong counter = new AtomicLong();
        List<Long> prepared = Collections.synchronizedList(new ArrayList<>());
        List<Long> applied = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(4 * 500);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            threads.add(new Thread(() -> {
                for (int i = 0; i < 500; i++) {
                    long[] mine = new long[1];
                    store.submit(new StoreOp() {
                        @Override
                        public void prepare(StoreWriter w) {
                            mine[0] = counter.incrementAndGet();
                            prepared.add(mine[0]);
                        }

                        @Override
                        public void applied() {
                            applied.add(mine[0]);
                            done.countDown();
                        }
                    });
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        assertThat(done.await(20, TimeUnit.SECONDS)).isTrue();
        assertThat(applied).isEqualTo(prepared).isSorted().hasSize(2000);
    }

    @Test
    @DisplayName("sessions, subscriptions, inbound QoS 2 ids, queue summaries, retained and held messages survive")
    void recovery() {
        Message will = message("will/t", "bye");
        run(w -> {
            w.putSession(new SessionRecord("client", 42, 5, 3600, 1234L, will, 30));
            w.putSubscription(OWNER, new Subscription("a/+/c", QoS.EXACTLY_ONCE, true, true, 2, 99));
            w.putInboundQos2(OWNER, 77);
            long id = w.newMessageId();
            w.putMessage(id, message("q", "1234"), 3);
            w.putQueueEntry(OWNER, entry(8, id));
            w.putQueueEntry(OWNER, entry(9, id));
            w.putRetained(message("r/1", "kept"));
            w.putRetained(message("r/2", "cleared"));
            w.deleteRetained("r/2");
            w.putHeld("$share/g/h", 3, id);
        });
        store = reopen();
        Recovered r = store.recover();
        assertThat(r.dropped).isEmpty();
        assertThat(r.sessions).hasSize(1);
        Recovered.StoredSession s = r.sessions.get(0);
        assertThat(s.record().epoch()).isEqualTo(42);
        assertThat(s.record().protocolLevel()).isEqualTo(5);
        assertThat(s.record().expiryInterval()).isEqualTo(3600);
        assertThat(s.record().disconnectedAtMillis()).isEqualTo(1234L);
        assertThat(s.record().will().topic()).isEqualTo("will/t");
        assertThat(s.record().willDelaySeconds()).isEqualTo(30);
        assertThat(s.subscriptions()).containsExactly(
                new Subscription("a/+/c", QoS.EXACTLY_ONCE, true, true, 2, 99));
        assertThat(s.inboundQos2()).containsExactly(77);
        assertThat(s.queuedCount()).isEqualTo(2);
        assertThat(s.queuedBytes()).isEqualTo(8);
        assertThat(s.firstSeq()).isEqualTo(8);
        assertThat(s.nextSeq()).isEqualTo(10);
        assertThat(r.retained).extracting(Message::topic).containsExactly("r/1");
        assertThat(r.held).singleElement().satisfies(h -> {
            assertThat(h.group()).isEqualTo("$share/g/h");
            assertThat(h.message().topic()).isEqualTo("q");
        });
    }

    @Test
    @DisplayName("delayed messages are kept with their due time until deleted; ids only grow, across a reopen too")
    void delayedMessages() {
        long[] ids = new long[3];
        run(w -> {
            for (int i = 0; i < 3; i++) {
                ids[i] = w.newDelayedId();
                w.putDelayed(ids[i], 5_000L + i, message("later/" + i, "d" + i));
            }
        });
        assertThat(ids[1]).isGreaterThan(ids[0]);
        run(w -> w.deleteDelayed(ids[1]));
        store = reopen();
        Recovered r = store.recover();
        assertThat(r.delayed).extracting(Recovered.DelayedMessage::id).containsExactly(ids[0], ids[2]);
        assertThat(r.delayed).extracting(Recovered.DelayedMessage::dueMillis).containsExactly(5_000L, 5_002L);
        Recovered.DelayedMessage first = r.delayed.get(0);
        assertThat(first.message().topic()).isEqualTo("later/0");
        assertThat(first.message().publisherId()).isEqualTo("publisher");
        assertThat(first.message().properties().userProperties()).isNotEmpty();
        long[] next = new long[1];
        run(w -> next[0] = w.newDelayedId());
        assertThat(next[0]).isGreaterThan(ids[2]);
    }

    @Test
    @DisplayName("deleting a session removes its state but never a newer session of the same client")
    void deleteSessionKeepsNewerIncarnation() {
        String old = StoreOwner.of("client", 1);
        String newer = StoreOwner.of("client", 2);
        run(w -> {
            w.putSession(new SessionRecord("client", 1, 4, 60, 0, null, 0));
            w.putSubscription(old, new Subscription("old/#", QoS.AT_LEAST_ONCE));
            long id = w.newMessageId();
            w.putMessage(id, message("old", "x"), 1);
            w.putQueueEntry(old, entry(1, id));
        });
        run(w -> {
            w.putSession(new SessionRecord("client", 2, 4, 60, 0, null, 0));
            w.putSubscription(newer, new Subscription("new/#", QoS.AT_LEAST_ONCE));
            w.deleteSession("client", old);
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> read(old, 0, 10).isEmpty());
        assertThat(messageCount()).isZero();
        store = reopen();
        Recovered r = store.recover();
        assertThat(r.sessions).singleElement().satisfies(s -> {
            assertThat(s.record().epoch()).isEqualTo(2);
            assertThat(s.subscriptions()).extracting(Subscription::filter).containsExactly("new/#");
        });
    }

    @Test
    @DisplayName("a session with a large queue is deleted, and its messages reclaimed, slice by slice")
    void largeQueuePurged() {
        String owner = StoreOwner.of("big", 1);
        run(w -> {
            w.putSession(new SessionRecord("big", 1, 4, 60, 0, null, 0));
            for (int i = 1; i <= 5000; i++) {
                long id = w.newMessageId();
                w.putMessage(id, message("t", "m" + i), 1);
                w.putQueueEntry(owner, entry(i, id));
            }
        });
        run(w -> w.deleteSession("big", owner));
        await().atMost(Duration.ofSeconds(20)).until(() -> read(owner, 0, 10).isEmpty() && messageCount() == 0);
    }
}
