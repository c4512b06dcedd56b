package io.ternmq.jmh;

import io.ternmq.broker.config.Durability;
import io.ternmq.broker.Broker;
import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.session.Session;
import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.store.QueueEntry;
import io.ternmq.broker.store.RocksStore;
import io.ternmq.broker.store.SessionRecord;
import io.ternmq.broker.store.StoreOp;
import io.ternmq.broker.store.StoreOwner;
import io.ternmq.broker.store.StoreWriter;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.QoS;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Recovery time and heap of a broker started on a big store. Fills a RocksDB store directly (sessions with one
 * subscription each, queued messages, retained messages), then starts a broker on it and reports how long start-up
 * took and how much heap the broker holds after a full GC, next to an empty broker's.
 *
 * <pre>
 * java -Xmx4g -cp ternmq-jmh/target/ternmq-jmh.jar io.ternmq.jmh.StoreScale SESSIONS QUEUED_PER_SESSION RETAINED
 * </pre>
 */
public final class StoreScale {
    private static final int BATCH = 20_000;
    private static final int DISTINCT_MESSAGES = 1000;

    private StoreScale() {
    }

    public static void main(String[] args) throws Exception {
        int sessions = Integer.parseInt(args[0]);
        int queuedPerSession = Integer.parseInt(args[1]);
        int retained = Integer.parseInt(args[2]);
        Path dir = Files.createTempDirectory("ternmq-scale-");
        try {
            long emptyHeap = heapOfBrokerOn(Files.createTempDirectory("ternmq-empty-"), null);
            long t0 = System.nanoTime();
            fill(dir.resolve("store"), sessions, queuedPerSession, retained);
            System.out.printf("filled %,d sessions, %,d queued messages, %,d retained in %,d ms (%,d MB on disk)%n",
                    sessions, (long) sessions * queuedPerSession, retained, (System.nanoTime() - t0) / 1_000_000,
                    size(dir) / 1_000_000);
            long[] startMillis = new long[1];
            long heap = heapOfBrokerOn(dir, startMillis);
            System.out.printf("RESULT sessions=%d queued=%d retained=%d startMs=%d heapMB=%.1f emptyHeapMB=%.1f%n",
                    sessions, (long) sessions * queuedPerSession, retained, startMillis[0], heap / 1e6,
                    emptyHeap / 1e6);
        } finally {
            delete(dir);
        }
    }

    /** Starts a broker on {@code dataDir}, and returns the heap used after a full GC. */
    private static long heapOfBrokerOn(Path dataDir, long[] startMillis) throws Exception {
        long t0 = System.nanoTime();
        Broker broker = Broker.start(BrokerConfig.builder().listener("127.0.0.1", 0).dataDir(dataDir)
                .logLevel("info").build());
        if (startMillis != null) {
            startMillis[0] = (System.nanoTime() - t0) / 1_000_000;
        }
        try {
            for (int i = 0; i < 3; i++) {
                System.gc();
                Thread.sleep(200); // let the GC and the session restore tasks settle before measuring
            }
            return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        } finally {
            broker.close();
            if (startMillis == null) {
                delete(dataDir);
            }
        }
    }

    private static void fill(Path storeDir, int sessions, int queuedPerSession, int retained) throws Exception {
        try (RocksStore store = new RocksStore(storeDir, Durability.NONE, 1000)) {
            long[] messageIds = new long[DISTINCT_MESSAGES];
            submit(store, w -> {
                for (int m = 0; m < DISTINCT_MESSAGES; m++) {
                    messageIds[m] = w.newMessageId();
                    long refs = ((long) sessions * queuedPerSession) / DISTINCT_MESSAGES + 1;
                    w.putMessage(messageIds[m], message("queued/" + m), (int) refs);
                }
            });
            int perBatch = Math.max(1, BATCH / Math.max(1, queuedPerSession));
            for (int from = 0; from < sessions; from += perBatch) {
                int start = from;
                int end = Math.min(sessions, from + perBatch);
                submit(store, w -> {
                    for (int s = start; s < end; s++) {
                        String id = "client-" + s;
                        String owner = StoreOwner.of(id, s + 1L);
                        w.putSession(new SessionRecord(id, s + 1L, 4, Session.NEVER_EXPIRES, 1L, null, 0));
                        w.putSubscription(owner, new Subscription("site/" + s + "/#", QoS.AT_LEAST_ONCE));
                        for (int q = 1; q <= queuedPerSession; q++) {
                            long messageId = messageIds[(s + q) % DISTINCT_MESSAGES];
                            w.putQueueEntry(owner, new QueueEntry(q, messageId, QoS.AT_LEAST_ONCE, false,
                                    new int[0], "", false, 64));
                        }
                    }
                });
            }
            for (int from = 0; from < retained; from += BATCH) {
                int start = from;
                int end = Math.min(retained, from + BATCH);
                submit(store, w -> {
                    for (int r = start; r < end; r++) {
                        w.putRetained(new Message("retained/" + (r % 1000) + "/" + r, QoS.AT_LEAST_ONCE, true,
                                new byte[64], MqttProperties.EMPTY, "filler", System.currentTimeMillis()));
                    }
                });
            }
        }
    }

    private static Message message(String topic) {
        return new Message(topic, QoS.AT_LEAST_ONCE, false, new byte[64], MqttProperties.EMPTY, "filler",
                System.currentTimeMillis());
    }

    private static void submit(RocksStore store, StoreOp op) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        store.submit(new StoreOp() {
            @Override
            public void prepare(StoreWriter w) {
                op.prepare(w);
            }

            @Override
            public void applied() {
                done.countDown();
            }
        });
        if (!done.await(10, TimeUnit.MINUTES)) {
            throw new IllegalStateException("store write did not finish");
        }
    }

    private static long size(Path dir) throws Exception {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
    }

    private static void delete(Path dir) throws Exception {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }
}
