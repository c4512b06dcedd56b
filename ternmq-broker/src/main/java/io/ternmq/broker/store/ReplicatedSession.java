package io.ternmq.broker.store;

import io.ternmq.broker.message.MessageIdentity;
import io.ternmq.broker.message.Subscription;
import io.ternmq.codec.QoS;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A copy of one client's stored session, kept by another node: its record (with the will and its delay), its
 * subscriptions, inbound QoS 2 ids and queue (each entry with its message, seq and PUBREC state), of one incarnation
 * (epoch). It changes only by {@link #apply}ing the logs a {@link MirroringWriter} records, so that the copy follows
 * the store's own writes, group by group; {@link #toImport} turns it back into what a node imports when it adopts
 * the session. Applying a log is idempotent (puts and deletes by key), so a log may be applied twice.
 *
 * <p>Not thread-safe: its keeper (the cluster's replica map) applies one log at a time.
 */
public final class ReplicatedSession {
    static final byte PUT_RECORD = 1;
    static final byte DELETE = 2;
    static final byte PUT_SUBSCRIPTION = 3;
    static final byte DELETE_SUBSCRIPTION = 4;
    static final byte PUT_ENTRY = 5;
    static final byte RELEASE_ENTRY = 6;
    static final byte DELETE_ENTRY = 7;
    static final byte PUT_INBOUND_QOS2 = 8;
    static final byte DELETE_INBOUND_QOS2 = 9;
    static final byte FORWARD_MARK = 10;
    static final byte INBOUND_CREATED = 11;
    static final byte ORPHANS_ACCOUNTED = 12;
    /**
     * The node a session is handed to stores it under a new incarnation (this op's epoch) before its claim commits:
     * the incarnation held until then is kept aside ({@link #displaced}), since the handover may still be given up.
     */
    static final byte CLAIM = 13;
    /** The claim of this op's incarnation committed: the incarnation it displaced goes. */
    static final byte HELD = 14;

    /** Dead runs whose orphans a copy keeps account of at most (the oldest go: their orphans stop after minutes). */
    private static final int MAX_ORPHAN_RUNS = 4;

    /** Streams whose marks a copy keeps at most (the oldest go: streams end with their sending node's link). */
    private static final int MAX_MARKS = 64;

    /** How many deletions of entries not (yet) here are remembered, so that a late put of one is ignored. */
    private static final int MAX_TOMBSTONES = 1024;

    /** How many QoS 2 messages that left the queue a copy remembers at most (the oldest go). */
    private static final int MAX_COMPLETED = 256;

    // Every collection is made at its first element (null until then): the cluster holds a copy of every persistent
    // session on its owner and each backup, and an idle session's copy has a subscription or two and nothing else;
    // its five empty collections and a 16-slot subscription table cost 344 of its 1,007 bytes (docs/benchmarks.md).
    private long epoch;
    private byte[] record;
    private Map<String, byte[]> subscriptions;
    private Set<Integer> inboundQos2;
    /** When each inbound QoS 2 message (by packet id) was received, where the publishing node recorded it. */
    private Map<Integer, Long> inboundCreated;
    private TreeMap<Long, Entry> queue;
    private Set<Long> tombstones;
    /**
     * Per stream of confirmed forwarded messages (another node's link to the one holding the session), the highest
     * id whose message this session's queue took: which of that stream's unconfirmed messages the session has, should
     * its node die before confirming them.
     */
    private Map<Long, Long> forwardMarks;
    /**
     * Per dead run the session was adopted from, per stream, the orphans of that run its holders accounted for
     * (given to it, in its queue, or not for it): what a later adopter must not give it again.
     */
    private Map<String, Map<Long, Set<Long>>> orphans;
    /**
     * The latest QoS 2 messages that left the queue (completed by the subscriber, or dropped): a publisher whose node
     * died with this session sends again those it got no PUBREC for, and the session had them (a chaos run gave one
     * twice, its subscriber's PUBCOMP 1 ms before the death).
     */
    private LinkedHashSet<MessageIdentity> completedQos2;
    /**
     * While a handover's claim has not committed ({@link #CLAIM} until {@link #HELD}): the incarnation of the node
     * that still holds the session, which goes on writing to it (what arrives during the move) and gets it back if
     * the claimant gives up (its deletion) or its client comes back to it (its record). A claimant that gave up used
     * to delete the copy, leaving the holder's later writes on a copy without the rest. Null otherwise.
     */
    private ReplicatedSession displaced;

    private static final class Entry {
        byte[] entry;
        byte[] message;
        boolean released;
    }

    /** What a node imports when it adopts a replicated session. */
    /** @param orphans per dead run it was adopted from, the orphans accounted for ({@link StoreWriter#orphansAccounted}) */
    /** @param completedQos2 the latest QoS 2 messages that left its queue */
    public record Import(SessionRecord record, List<Subscription> subscriptions, List<Integer> inboundQos2,
                         List<StoredEntry> entries, Map<Long, Long> forwardMarks,
                         Map<Integer, Long> inboundCreated, Map<String, Map<Long, Set<Long>>> orphans,
                         Set<MessageIdentity> completedQos2) {
    }

    /**
     * Applies one group's writes of this client's session, in order. Writes of another incarnation are ignored,
     * except a record, which starts a new one (the client's session was made afresh, or moved to another node), and
     * those of the incarnation a claim displaced ({@link #CLAIM}).
     *
     * @return false if nothing is left (the session was deleted): the copy can go
     */
    public boolean apply(byte[] log) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(log))) {
            while (in.available() > 0) {
                byte code = in.readByte();
                long opEpoch = in.readLong();
                long number = in.readLong();
                byte[] data = readBytes(in);
                byte[] message = code == PUT_ENTRY ? readBytes(in) : null;
                if (code == CLAIM) {
                    claim(opEpoch);
                    continue;
                }
                if (code == HELD) {
                    if (opEpoch == epoch) {
                        displaced = null;
                    }
                    continue;
                }
                if (displaced != null && opEpoch != epoch && opEpoch == displaced.epoch) {
                    if (code == PUT_RECORD) {
                        takeBack(); // its client came back to the holder: the move did not happen
                    } else if (code == DELETE) {
                        displaced = null; // the holder ended its session
                        continue;
                    } else {
                        displaced.applyOp(code, number, data, message);
                        continue;
                    }
                }
                if (opEpoch != epoch) {
                    if (code == PUT_RECORD || record == null) {
                        if (code == PUT_RECORD) {
                            displaced = null; // a new holder (adoption, a fresh session) replaces both
                        }
                        reset(opEpoch);
                    } else {
                        continue; // an ended incarnation's leftovers
                    }
                }
                if (code == DELETE && displaced != null) {
                    takeBack(); // the claimant gave up: the holder's incarnation is the copy again
                    continue;
                }
                applyOp(code, number, data, message);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return record != null || !isEmpty(queue) || !isEmpty(subscriptions) || !isEmpty(inboundQos2)
                || displaced != null;
    }

    /** One write of this incarnation. */
    private void applyOp(byte code, long number, byte[] data, byte[] message) throws IOException {
        switch (code) {
            case PUT_RECORD -> record = data;
            case DELETE -> reset(0); // a new incarnation may follow in the same log
            case PUT_SUBSCRIPTION -> subscriptions().put(StoreCodec.subscription(data).filter(), data);
            case DELETE_SUBSCRIPTION -> {
                if (subscriptions != null) {
                    subscriptions.remove(StoreCodec.string(data));
                }
            }
            case PUT_ENTRY -> {
                if (message != null && (tombstones == null || !tombstones.remove(number))) {
                    Entry e = new Entry();
                    e.entry = data;
                    e.message = message;
                    queue().put(number, e);
                }
            }
            case RELEASE_ENTRY -> {
                Entry e = queue == null ? null : queue.get(number);
                if (e != null) {
                    e.released = true;
                }
            }
            case DELETE_ENTRY -> {
                Entry gone = queue == null ? null : queue.remove(number);
                if (gone != null) {
                    completed(number, gone);
                } else if (tombstones == null || tombstones.size() < MAX_TOMBSTONES) {
                    tombstones().add(number);
                }
            }
            case PUT_INBOUND_QOS2 -> inboundQos2().add((int) number);
            case DELETE_INBOUND_QOS2 -> {
                if (inboundQos2 != null) {
                    inboundQos2.remove((int) number);
                }
                if (inboundCreated != null) {
                    inboundCreated.remove((int) number);
                }
            }
            case INBOUND_CREATED -> inboundCreated().put((int) number, stream(data));
            case FORWARD_MARK -> forwardMarks().merge(stream(data), number, Math::max);
            case ORPHANS_ACCOUNTED -> accountOrphans(data, number);
            default -> throw new StoreException("replicated session log: unknown write " + code);
        }
    }

    /**
     * A claimant stores the session under {@code claimEpoch}: a live incarnation of another epoch is kept aside until
     * the claim commits or is given up; a provisional one of an earlier claim (never committed) is dropped.
     */
    private void claim(long claimEpoch) {
        if (claimEpoch == epoch) {
            return;
        }
        if (displaced == null && record != null) {
            ReplicatedSession held = new ReplicatedSession();
            held.takeStateOf(this);
            displaced = held;
        }
        LinkedHashSet<MessageIdentity> completed = completedQos2;
        reset(claimEpoch);
        completedQos2 = completed == null ? null : new LinkedHashSet<>(completed);
    }

    /** The displaced incarnation is the copy again. */
    private void takeBack() {
        ReplicatedSession held = displaced;
        displaced = null;
        takeStateOf(held);
    }

    private void takeStateOf(ReplicatedSession o) {
        epoch = o.epoch;
        record = o.record;
        subscriptions = o.subscriptions;
        inboundQos2 = o.inboundQos2;
        inboundCreated = o.inboundCreated;
        queue = o.queue;
        tombstones = o.tombstones;
        forwardMarks = o.forwardMarks;
        orphans = o.orphans;
        completedQos2 = o.completedQos2;
    }

    /**
     * The incarnation a node adopts if the session's holder died: while a handover's claim has not committed, the
     * holder's (it has everything the claimant got, and what arrived since); else this one.
     */
    public ReplicatedSession adoptable() {
        return displaced != null ? displaced : this;
    }

    private void completed(long seq, Entry gone) {
        if (StoreCodec.entry(seq, gone.entry).qos() != QoS.EXACTLY_ONCE) {
            return;
        }
        completed(MessageIdentity.of(StoreCodec.message(gone.message)));
    }

    private void completed(MessageIdentity m) {
        if (completedQos2 == null) {
            completedQos2 = new LinkedHashSet<>();
        }
        completedQos2.add(m);
        if (completedQos2.size() > MAX_COMPLETED) {
            completedQos2.remove(completedQos2.iterator().next());
        }
    }

    private static boolean isEmpty(Map<?, ?> m) {
        return m == null || m.isEmpty();
    }

    private static boolean isEmpty(Set<?> s) {
        return s == null || s.isEmpty();
    }

    private static int size(Map<?, ?> m) {
        return m == null ? 0 : m.size();
    }

    private static int size(Set<?> s) {
        return s == null ? 0 : s.size();
    }

    private Map<String, byte[]> subscriptions() {
        if (subscriptions == null) {
            subscriptions = new LinkedHashMap<>(2); // most sessions subscribe one or two filters
        }
        return subscriptions;
    }

    private Set<Integer> inboundQos2() {
        if (inboundQos2 == null) {
            inboundQos2 = new HashSet<>();
        }
        return inboundQos2;
    }

    private Map<Integer, Long> inboundCreated() {
        if (inboundCreated == null) {
            inboundCreated = new java.util.HashMap<>();
        }
        return inboundCreated;
    }

    private TreeMap<Long, Entry> queue() {
        if (queue == null) {
            queue = new TreeMap<>();
        }
        return queue;
    }

    private Set<Long> tombstones() {
        if (tombstones == null) {
            tombstones = new HashSet<>();
        }
        return tombstones;
    }

    /** An ORPHANS_ACCOUNTED write's data: the run, then ranges. */
    static byte[] orphanBytes(String run, long[] ranges) {
        ByteArrayOutputStream b = new ByteArrayOutputStream(16 + run.length() + 8 * ranges.length);
        try (DataOutputStream d = new DataOutputStream(b)) {
            d.writeUTF(run);
            d.writeInt(ranges.length);
            for (long r : ranges) {
                d.writeLong(r);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.toByteArray();
    }

    private void accountOrphans(byte[] data, long stream) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
        String run = in.readUTF();
        if (orphans == null) {
            orphans = new LinkedHashMap<>(2, 0.75f, false) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Map<Long, Set<Long>>> eldest) {
                    return size() > MAX_ORPHAN_RUNS;
                }
            };
        }
        Set<Long> ids = orphans.computeIfAbsent(run, k -> new java.util.HashMap<>())
                .computeIfAbsent(stream, k -> new HashSet<>());
        for (int i = in.readInt(); i >= 2; i -= 2) {
            long first = in.readLong();
            long last = in.readLong();
            for (long id = first; id <= last && id - first < 1 << 24; id++) {
                ids.add(id);
            }
        }
    }

    private Map<Long, Long> forwardMarks() {
        if (forwardMarks == null) {
            forwardMarks = new LinkedHashMap<>(4, 0.75f, false) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<Long, Long> eldest) {
                    return size() > MAX_MARKS;
                }
            };
        }
        return forwardMarks;
    }

    /**
     * A whole session as one log (its record, subscriptions, inbound QoS 2 ids and every queue entry): what a node
     * sends for a session it restored from its store, which the cluster's replicas may not hold (a full restart
     * empties them). Applied to a replica of the same incarnation it adds what is missing, and entries deleted since
     * (tombstones) stay deleted.
     */
    public static byte[] fullLog(SessionRecord record, List<Subscription> subscriptions, List<Integer> inboundQos2,
                                 List<StoredEntry> entries) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        long epoch = record.epoch();
        try (DataOutputStream d = new DataOutputStream(b)) {
            writeOp(d, PUT_RECORD, epoch, 0, StoreCodec.session(record), null);
            for (Subscription s : subscriptions) {
                writeOp(d, PUT_SUBSCRIPTION, epoch, 0, StoreCodec.subscription(s), null);
            }
            for (int id : inboundQos2) {
                writeOp(d, PUT_INBOUND_QOS2, epoch, id, null, null);
            }
            for (StoredEntry e : entries) {
                writeOp(d, PUT_ENTRY, epoch, e.entry().seq(), StoreCodec.entry(e.entry().released()
                        ? new QueueEntry(e.entry().seq(), e.entry().messageId(), e.entry().qos(), e.entry().retain(),
                        e.entry().subscriptionIds(), e.entry().sharedGroup(), false, e.entry().payloadBytes())
                        : e.entry()), StoreCodec.message(e.message()));
                if (e.entry().released()) {
                    writeOp(d, RELEASE_ENTRY, epoch, e.entry().seq(), null, null);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.toByteArray();
    }

    /** One write of a log (the format {@link MirroringWriter} records). */
    static void writeOp(DataOutputStream d, byte code, long epoch, long number, byte[] data, byte[] message)
            throws IOException {
        d.writeByte(code);
        d.writeLong(epoch);
        d.writeLong(number);
        writeBytes(d, data);
        if (code == PUT_ENTRY) {
            writeBytes(d, message);
        }
    }

    private void reset(long newEpoch) {
        epoch = newEpoch;
        record = null;
        subscriptions = null;
        inboundQos2 = null;
        queue = null;
        tombstones = null;
        forwardMarks = null;
        inboundCreated = null;
        orphans = null;
    }

    /** Queue entries held. */
    public int queued() {
        return size(queue);
    }

    /** For a log line: which incarnation it holds, and how much of it. */
    @Override
    public String toString() {
        return "incarnation " + Long.toHexString(epoch) + (record == null ? " without its record" : "") + ", "
                + size(queue) + " queue entries, " + size(subscriptions) + " subscriptions"
                + (displaced == null ? "" : "; a claim displaced " + displaced);
    }

    /** The incarnation (store epoch) it holds, 0 if none. */
    public long epoch() {
        return epoch;
    }

    /** Whether it holds a session (a record was written); a copy without one cannot be adopted. */
    public boolean hasRecord() {
        return record != null;
    }

    /** The session as a node imports it: entries in seq order, messages decoded, PUBREC state kept. */
    public Import toImport(String clientId) {
        SessionRecord r = StoreCodec.session(clientId, record);
        List<Subscription> subs = new ArrayList<>(size(subscriptions));
        for (byte[] s : subscriptions == null ? List.<byte[]>of() : subscriptions.values()) {
            subs.add(StoreCodec.subscription(s));
        }
        List<StoredEntry> entries = new ArrayList<>(size(queue));
        for (Map.Entry<Long, Entry> e : queue == null ? Map.<Long, Entry>of().entrySet() : queue.entrySet()) {
            QueueEntry qe = StoreCodec.entry(e.getKey(), e.getValue().entry);
            if (e.getValue().released) {
                qe = qe.asReleased();
            }
            entries.add(new StoredEntry(qe, StoreCodec.message(e.getValue().message)));
        }
        return new Import(r, subs, inboundQos2 == null ? new ArrayList<>() : new ArrayList<>(inboundQos2), entries,
                forwardMarks == null ? new java.util.HashMap<>() : new java.util.HashMap<>(forwardMarks),
                inboundCreated == null ? new java.util.HashMap<>() : new java.util.HashMap<>(inboundCreated),
                orphanCopy(), completedQos2 == null ? Set.of() : Set.copyOf(completedQos2));
    }

    private Map<String, Map<Long, Set<Long>>> orphanCopy() {
        Map<String, Map<Long, Set<Long>>> out = new LinkedHashMap<>();
        if (orphans != null) {
            orphans.forEach((run, streams) -> {
                Map<Long, Set<Long>> copy = new java.util.HashMap<>();
                streams.forEach((stream, ids) -> copy.put(stream, new HashSet<>(ids)));
                out.put(run, copy);
            });
        }
        return out;
    }

    // ------------------------------------------------------------------ its own binary form (migration, reads)

    public void write(DataOutputStream out) throws IOException {
        out.writeLong(epoch);
        writeBytes(out, record);
        out.writeInt(size(subscriptions));
        if (subscriptions != null) {
            for (byte[] s : subscriptions.values()) {
                writeBytes(out, s);
            }
        }
        out.writeInt(size(inboundQos2));
        if (inboundQos2 != null) {
            for (int id : inboundQos2) {
                out.writeShort(id);
            }
        }
        out.writeInt(size(queue));
        if (queue != null) {
            for (Map.Entry<Long, Entry> e : queue.entrySet()) {
                out.writeLong(e.getKey());
                writeBytes(out, e.getValue().entry);
                writeBytes(out, e.getValue().message);
                out.writeBoolean(e.getValue().released);
            }
        }
        out.writeInt(size(tombstones));
        if (tombstones != null) {
            for (long t : tombstones) {
                out.writeLong(t);
            }
        }
        out.writeInt(size(forwardMarks));
        if (forwardMarks != null) {
            for (Map.Entry<Long, Long> m : forwardMarks.entrySet()) {
                out.writeLong(m.getKey());
                out.writeLong(m.getValue());
            }
        }
        out.writeInt(size(inboundCreated));
        if (inboundCreated != null) {
            for (Map.Entry<Integer, Long> m : inboundCreated.entrySet()) {
                out.writeShort(m.getKey());
                out.writeLong(m.getValue());
            }
        }
        out.writeInt(size(orphans));
        if (orphans != null) {
            for (Map.Entry<String, Map<Long, Set<Long>>> run : orphans.entrySet()) {
                out.writeUTF(run.getKey());
                out.writeInt(run.getValue().size());
                for (Map.Entry<Long, Set<Long>> stream : run.getValue().entrySet()) {
                    out.writeLong(stream.getKey());
                    out.writeInt(stream.getValue().size());
                    for (long id : stream.getValue()) {
                        out.writeLong(id);
                    }
                }
            }
        }
        out.writeInt(completedQos2 == null ? 0 : completedQos2.size());
        if (completedQos2 != null) {
            for (MessageIdentity m : completedQos2) {
                out.writeUTF(m.publisherId());
                out.writeLong(m.createdAtMillis());
                out.writeUTF(m.topic());
                out.writeInt(m.payloadHash());
            }
        }
        out.writeBoolean(displaced != null);
        if (displaced != null) {
            displaced.write(out);
        }
    }

    public static ReplicatedSession read(DataInputStream in) throws IOException {
        ReplicatedSession s = new ReplicatedSession();
        s.epoch = in.readLong();
        s.record = readBytes(in);
        for (int i = in.readInt(); i > 0; i--) {
            byte[] sub = readBytes(in);
            s.subscriptions().put(StoreCodec.subscription(sub).filter(), sub);
        }
        for (int i = in.readInt(); i > 0; i--) {
            s.inboundQos2().add(in.readUnsignedShort());
        }
        for (int i = in.readInt(); i > 0; i--) {
            long seq = in.readLong();
            Entry e = new Entry();
            e.entry = readBytes(in);
            e.message = readBytes(in);
            e.released = in.readBoolean();
            s.queue().put(seq, e);
        }
        for (int i = in.readInt(); i > 0; i--) {
            s.tombstones().add(in.readLong());
        }
        for (int i = in.readInt(); i > 0; i--) {
            s.forwardMarks().put(in.readLong(), in.readLong());
        }
        for (int i = in.readInt(); i > 0; i--) {
            s.inboundCreated().put(in.readUnsignedShort(), in.readLong());
        }
        for (int i = in.readInt(); i > 0; i--) {
            String run = in.readUTF();
            for (int j = in.readInt(); j > 0; j--) {
                long stream = in.readLong();
                int n = in.readInt();
                long[] ranges = new long[2 * n];
                for (int k = 0; k < n; k++) {
                    ranges[2 * k] = ranges[2 * k + 1] = in.readLong();
                }
                s.accountOrphans(orphanBytes(run, ranges), stream);
            }
            if (s.orphans == null || !s.orphans.containsKey(run)) {
                s.accountOrphans(orphanBytes(run, new long[0]), 0);
            }
        }
        for (int i = in.readInt(); i > 0; i--) {
            s.completed(new MessageIdentity(in.readUTF(), in.readLong(), in.readUTF(), in.readInt()));
        }
        if (in.readBoolean()) {
            s.displaced = read(in);
        }
        return s;
    }

    static byte[] streamBytes(long stream) {
        return java.nio.ByteBuffer.allocate(8).putLong(stream).array();
    }

    private static long stream(byte[] data) {
        if (data == null || data.length != 8) {
            throw new StoreException("replicated session log: a forward mark without its stream");
        }
        return java.nio.ByteBuffer.wrap(data).getLong();
    }

    /** The binary form, for tests and callers without a stream. */
    public byte[] toBytes() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(b)) {
            write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.toByteArray();
    }

    private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
        if (b == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(b.length);
            out.write(b);
        }
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            return null;
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }
}
