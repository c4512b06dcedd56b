package io.ternmq.broker.store;

import io.ternmq.broker.message.Subscription;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One session's state in the store: its queue (numbered by {@code seq} in the store's single order), its record,
 * subscriptions and inbound QoS 2 ids, all kept under its {@link StoreOwner} key. Every store operation a session
 * makes on its own state is built here; routing adds to the queue through {@link PublishTransaction}. The store's
 * writer thread touches only this object, never the session: durable entries, refusals and continuations go back
 * through the {@link Owner}, which hands them to the session's loop.
 *
 * <p>The counters are shared: the writer assigns seqs and counts what it stores (in the store's order), the owner
 * loop counts what leaves, and routing on any loop reads them to decide whether publishers must wait.
 */
public final class StoredQueue {

    /** The session this queue belongs to, as the store's threads reach it. Each call hands work to its loop. */
    public interface Owner {
        /** An entry is durable; called in seq order. */
        void stored(StoredEntry entry);

        /**
         * A QoS 1 entry of a queue that {@link #sendsWhileWriting() sends while writing}: numbered and in the batch
         * the writer is writing now, not durable yet ({@link #stored} follows). Called in seq order, from the writer
         * thread, before the write; whatever the owner submits from now on is written after it.
         */
        default void writing(StoredEntry entry) {
        }

        /** A delivery was refused for the queue's limits. */
        void refused();

        /** One entry more than the limits allow was stored: the oldest queued one must go. */
        void overflowed();

        /** Continues with {@code then} on the session's loop. */
        void resume(Runnable then);
    }

    private final Store store;
    private final String clientId;
    private final long epoch;
    private final String key;
    private final Owner owner;
    /** Bounds of this queue's own, or null for the broker's. */
    private final QueueLimits limits;

    private final AtomicLong nextSeq = new AtomicLong(1);
    private final AtomicLong count = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    /** Entries of this queue in flight: limits bound what waits, as in Mosquitto, so they are not counted there. */
    private final AtomicInteger inflight = new AtomicInteger();
    /**
     * Deliveries routed here and waiting in the store's queue, not yet counted (or refused) by its writer: they count
     * towards congestion too, or a group commit could land more at once than the queue bound leaves.
     */
    private final AtomicInteger unstored = new AtomicInteger();
    /** Set when the session ends: its state is being purged, and nothing more is queued for it. */
    private volatile boolean closed;
    /** Owner loop only: after a restart, which entries may have been sent before it; null when none can have been. */
    private RecoveredWindow recoveredWindow;

    /**
     * @param epoch tells this incarnation of the client's session from earlier ones still being purged
     */
    public StoredQueue(Store store, String clientId, long epoch, Owner owner) {
        this(store, clientId, epoch, owner, null);
    }

    /** @param limits this queue's own bounds (a bridge's); null: the broker's, which routing applies */
    public StoredQueue(Store store, String clientId, long epoch, Owner owner, QueueLimits limits) {
        this.limits = limits;
        this.store = store;
        this.clientId = clientId;
        this.epoch = epoch;
        this.key = StoreOwner.of(clientId, epoch);
        this.owner = owner;
    }

    /** This queue's own bounds (a bridge's), or null when the broker's apply. */
    public QueueLimits limits() {
        return limits;
    }

    /**
     * Whether its owner hears of QoS 1 entries while they are being written ({@link Owner#writing}): a bridge's
     * queue, which forwards a QoS 1 message without waiting for the sync (docs/bridges.md, "Latency").
     */
    public boolean sendsWhileWriting() {
        return limits != null && limits.bridge();
    }

    /** The incarnation of the client's session this queue belongs to. */
    public long epoch() {
        return epoch;
    }

    /** The {@link StoreOwner} key of this session's state. */
    public String key() {
        return key;
    }

    // ------------------------------------------------------------------ counters (any thread)

    /** Entries waiting to be sent (not in flight), as limits count them. */
    public long queued() {
        return count.get() - inflight.get();
    }

    public long bytes() {
        return bytes.get();
    }

    public int inflight() {
        return inflight.get();
    }

    /** Deliveries handed to the store for this queue that its writer has not taken yet. */
    public int unstored() {
        return unstored.get();
    }

    /** All stored entries, in flight or not. */
    public long count() {
        return count.get();
    }

    /**
     * After recovery: the queue holds {@code entries} entries of {@code payloadBytes} from {@code firstSeq} to
     * {@code next - 1}. The broker sent a queue in order, at most a window ahead of its oldest unacknowledged entry,
     * so the first entries (as many as {@code window}, the largest a client may have had) may have gone out already.
     */
    public void recovered(long entries, long payloadBytes, long firstSeq, long next, int window) {
        count.set(entries);
        bytes.set(payloadBytes);
        nextSeq.set(Math.max(next, 1));
        recoveredWindow = entries == 0 ? null : new RecoveredWindow((int) Math.min(entries, window), firstSeq, next);
    }

    /**
     * The session forgot its in-memory window (a handover to another node started, then stopped) and reads its queue
     * from the store again: the first {@code entries} entries met were in flight, so they go out again with DUP.
     * Owner loop.
     */
    public void resendFromStore(int entries, long nextSeq) {
        recoveredWindow = entries == 0 ? null : new RecoveredWindow(entries, 1, nextSeq);
    }

    /**
     * Whether an entry, met in seq order, held a place of the recovered queue inside the in-flight window, so that it
     * may have been sent before the restart. Whether it really was nobody knows (sending is not stored), and a
     * re-delivery must carry DUP 1 [MQTT-3.3.1-1]. Each place counts once, however often the entry is read. Owner
     * loop.
     */
    public boolean mayHaveBeenSent(long seq) {
        return recoveredWindow != null && recoveredWindow.holds(seq);
    }

    /** After a restart: which of the recovered queue's entries may have been sent before it. */
    private static final class RecoveredWindow {
        /** Places of the recovered queue still to be counted into the in-flight window. */
        private int left;
        /** Entries below this seq were inside the in-flight window when the broker stopped. */
        private long end;
        /** Entries from this seq on were stored after the restart: never sent before it. */
        private final long nextSeq;

        RecoveredWindow(int left, long firstSeq, long nextSeq) {
            this.left = left;
            this.end = firstSeq;
            this.nextSeq = nextSeq;
        }

        boolean holds(long seq) {
            if (seq < end) {
                return true;
            }
            if (left == 0 || seq >= nextSeq) {
                return false;
            }
            left--;
            end = seq + 1;
            return true;
        }
    }

    /** An entry of this queue was sent and awaits its acknowledgement (owner loop). */
    public void sent() {
        inflight.incrementAndGet();
    }

    /** An entry of this queue left the in-flight window, acknowledged or not (owner loop). */
    public void acknowledged() {
        inflight.decrementAndGet();
    }

    /** Nothing of this queue is in flight any more: the session forgot its window (owner loop). */
    public void windowCleared() {
        inflight.set(0);
    }

    // ------------------------------------------------------------------ the writer's side (store's thread)

    void submitted() {
        unstored.incrementAndGet();
    }

    /** The writer took (counted, refused or skipped) a delivery announced by {@link #submitted}. */
    void taken() {
        unstored.decrementAndGet();
    }

    boolean isClosed() {
        return closed;
    }

    boolean overLimits(QueueLimits limits, int payloadBytes) {
        return queued() >= limits.maxQueuedMessages()
                || (limits.maxQueuedBytes() > 0 && bytes.get() + payloadBytes > limits.maxQueuedBytes());
    }

    long nextSeq() {
        return nextSeq.getAndIncrement();
    }

    void counted(int payloadBytes) {
        count.incrementAndGet();
        bytes.addAndGet(payloadBytes);
    }

    Owner owner() {
        return owner;
    }

    // ------------------------------------------------------------------ the owner's operations (owner loop)

    /** Makes the session's record durable; {@code then} (may be null) continues on the owner loop. */
    public void putRecord(SessionRecord record, Runnable then) {
        write(w -> w.putSession(record), then);
    }

    /** Subscription changes; {@code then} continues on the owner loop once they are durable. */
    public void storeSubscriptions(List<Subscription> added, List<String> removed, Runnable then) {
        write(w -> {
            added.forEach(s -> w.putSubscription(key, s));
            removed.forEach(f -> w.deleteSubscription(key, f));
        }, then);
    }

    /** The PUBREC of an outbound QoS 2 entry: after a restart only its PUBREL is resent. */
    public void markReleased(long seq, Runnable then) {
        write(w -> w.markReleased(key, seq), then);
    }

    /** An entry is done with (acknowledged, expired, dropped, too large): out of the queue and the counters. */
    public void remove(long seq, long messageId, int payloadBytes) {
        count.decrementAndGet();
        bytes.addAndGet(-payloadBytes);
        store.submit(w -> w.deleteQueueEntry(key, seq, messageId));
    }

    /** Drops the oldest entry from {@code fromSeq} on (the oldest not in the session's memory). */
    public void removeOldest(long fromSeq) {
        store.submit(w -> {
            QueueEntry gone = w.deleteFirstQueueEntry(key, fromSeq);
            if (gone != null) {
                count.decrementAndGet();
                bytes.addAndGet(-gone.payloadBytes());
            }
        });
    }

    /** Reads up to {@code max} entries from {@code fromSeq} on; {@code then} gets them on the owner loop. */
    public void read(long fromSeq, int max, Consumer<List<StoredEntry>> then) {
        store.readQueue(key, fromSeq, max, entries -> owner.resume(() -> then.accept(entries)));
    }

    /**
     * PUBREL: the inbound QoS 2 id is forgotten; {@code then} continues once that is durable, and until it does the
     * PUBCOMP must wait, or a crash could make a new message with the same id look like a resend.
     */
    public void releaseInboundQos2(int packetId, Runnable then) {
        write(w -> w.deleteInboundQos2(key, packetId), then);
    }

    /** {@code then} continues on the owner loop once every write submitted before is durable. */
    public void barrier(Runnable then) {
        write(w -> { }, then);
    }

    /**
     * A session handed over here, whose claim committed: its replica drops the incarnation of the node it came from
     * ({@link StoreWriter#held}); {@code then} continues on the owner loop once that is durable.
     */
    public void held(Runnable then) {
        write(w -> w.held(key), then);
    }

    /** Submits writes; {@code then} (may be null) continues on the owner loop once they are durable. */
    private void write(java.util.function.Consumer<StoreWriter> writes, Runnable then) {
        store.submit(new StoreOp() {
            @Override
            public void prepare(StoreWriter w) {
                writes.accept(w);
            }

            @Override
            public void applied() {
                if (then != null) {
                    owner.resume(then);
                }
            }
        });
    }

    /**
     * In a cluster, for its replica only: the session was adopted from the dead run {@code run}, whose replica had
     * forward marks {@code marks}, and of that run's orphans its holder accounted for {@code ranges} (per stream,
     * first and last of each range). Any thread; after the writes submitted before.
     */
    public void recordOrphans(String run, Map<Long, Long> marks, Map<Long, long[]> ranges) {
        if (closed) {
            return;
        }
        write(w -> writeOrphans(w, key, run, marks, ranges), null);
    }

    /** {@link #recordOrphans}'s writes, for the session stored under {@code key}. */
    public static void writeOrphans(StoreWriter w, String key, String run, Map<Long, Long> marks,
                                    Map<Long, long[]> ranges) {
        marks.forEach((stream, mark) -> w.forwardMark(key, stream, mark));
        w.orphansAccounted(key, run, 0, new long[0]); // the run, even with nothing accounted yet
        ranges.forEach((stream, r) -> w.orphansAccounted(key, run, stream, r));
    }

    /** The session ended: its record (if still this incarnation's) and everything under its key go. */
    public void delete() {
        closed = true;
        store.submit(w -> w.deleteSession(clientId, key));
    }

    /** A stale copy of a session another node holds now goes from this store ({@link StoreWriter#deleteStaleCopy}). */
    public void deleteStaleCopy() {
        closed = true;
        store.submit(w -> w.deleteStaleCopy(clientId, key));
    }
}
