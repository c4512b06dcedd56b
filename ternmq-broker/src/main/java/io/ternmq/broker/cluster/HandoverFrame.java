package io.ternmq.broker.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.MessageCodec;
import io.ternmq.broker.message.MessageIdentity;
import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.session.Adoption;
import io.ternmq.broker.session.SessionSnapshot;
import io.ternmq.broker.store.QueueEntry;
import io.ternmq.broker.store.StoredEntry;
import io.ternmq.codec.MalformedPacketException;
import io.ternmq.codec.QoS;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The data-link frames of a session moving from its holder node to the node its client connected to. Each names
 * the client id and the fencing generation of the claim it serves. A message, where a frame has one, comes last
 * (MessageCodec's form takes the rest of the frame).
 * <pre>
 * HANDOVER_REQUEST gen:long clientId:str cleanStart:byte                         claimant to holder
 * HANDOVER_BEGIN   gen clientId status:byte [snapshot]                            holder: NOTHING, STALE or SESSION
 *                  snapshot = expiry:long level:byte inflight:int
 *                             n:int (filter:str qos:byte noLocal:byte rap:byte rh:byte subId:int)*
 *                             n:int (packetId:short)*                             inbound QoS 2 ids
 * HANDOVER_ENTRY   gen clientId seq:long qos:byte retain:byte released:byte group:str ids message
 * HANDOVER_END     gen clientId entries:int
 * HANDOVER_CARRY   gen clientId qos:byte retain:byte group:str ids message        arrived after the snapshot
 * HANDOVER_DONE    gen clientId                                                   claimant: stored, committed
 * HANDOVER_ABORT   gen clientId                                                   either side: this handover stops
 * HANDOVER_CARRIED gen clientId accounted:byte [orphans]                          holder, after DONE: carried all
 *                  orphans = n:int (stream:long mark:long)* n:int (stream:long k:int (first:long last:long)*)*
 *                            n:int (publisher:str created:long topic:str payloadHash:int)*
 *                            which of the dead run's orphans an adopted session's holder accounted for
 * ids = n:short (id:int)*
 * </pre>
 */
sealed interface HandoverFrame {
    byte NOTHING = 0;
    byte STALE = 1;
    byte SESSION = 2;

    long generation();

    String clientId();

    /** The whole frame, length and type included. */
    ByteBuf write(ByteBufAllocator alloc);

    record Request(long generation, String clientId, boolean cleanStart) implements HandoverFrame {
        @Override
        public ByteBuf write(ByteBufAllocator alloc) {
            return LinkFrame.finish(head(alloc, LinkFrame.HANDOVER_REQUEST, this, 1).writeByte(cleanStart ? 1 : 0));
        }
    }

    /** @param snapshot with status SESSION only; else null */
    record Begin(long generation, String clientId, byte status, SessionSnapshot snapshot) implements HandoverFrame {
        @Override
        public ByteBuf write(ByteBufAllocator alloc) {
            ByteBuf b = head(alloc, LinkFrame.HANDOVER_BEGIN, this, 64).writeByte(status);
            if (status == SESSION) {
                b.writeLong(snapshot.expiryInterval()).writeByte(snapshot.protocolLevel())
                        .writeInt(snapshot.inflight());
                b.writeInt(snapshot.subscriptions().size());
                for (Subscription s : snapshot.subscriptions()) {
                    LinkFrame.writeString(b, s.filter());
                    b.writeByte(s.qos().value()).writeByte(s.noLocal() ? 1 : 0)
                            .writeByte(s.retainAsPublished() ? 1 : 0).writeByte(s.retainHandling())
                            .writeInt(s.subscriptionId());
                }
                b.writeInt(snapshot.inboundQos2().size());
                for (int id : snapshot.inboundQos2()) {
                    b.writeShort(id);
                }
                b.writeInt(snapshot.deadNodeInbound().size());
                for (java.util.Map.Entry<Integer, io.ternmq.broker.session.DeadNodeInbound> e
                        : snapshot.deadNodeInbound().entrySet()) {
                    b.writeShort(e.getKey());
                    LinkFrame.writeString(b, e.getValue().deadNode());
                    b.writeLong(e.getValue().createdAtMillis());
                }
                writeAdoption(b, snapshot.adoption());
            }
            return LinkFrame.finish(b);
        }
    }

    /** One stored queue entry; its message id is this side's and is not sent. */
    record Entry(long generation, String clientId, StoredEntry entry) implements HandoverFrame {
        @Override
        public ByteBuf write(ByteBufAllocator alloc) {
            QueueEntry e = entry.entry();
            ByteBuf b = head(alloc, LinkFrame.HANDOVER_ENTRY, this, 96 + entry.message().payload().length)
                    .writeLong(e.seq()).writeByte(e.qos().value()).writeByte(e.retain() ? 1 : 0)
                    .writeByte(e.released() ? 1 : 0);
            LinkFrame.writeString(b, e.sharedGroup());
            writeIds(b, e.subscriptionIds());
            MessageCodec.write(entry.message(), b);
            return LinkFrame.finish(b);
        }
    }

    record End(long generation, String clientId, int entries) implements HandoverFrame {
        @Override
        public ByteBuf write(ByteBufAllocator alloc) {
            return LinkFrame.finish(head(alloc, LinkFrame.HANDOVER_END, this, 4).writeInt(entries));
        }
    }

    record Carry(long generation, String clientId, Delivery delivery) implements HandoverFrame {
        @Override
        public ByteBuf write(ByteBufAllocator alloc) {
            ByteBuf b = head(alloc, LinkFrame.HANDOVER_CARRY, this, 96 + delivery.message().payload().length)
                    .writeByte(delivery.qos().value()).writeByte(delivery.retain() ? 1 : 0);
            LinkFrame.writeString(b, delivery.sharedGroup() == null ? "" : delivery.sharedGroup());
            writeIds(b, delivery.subscriptionIds());
            MessageCodec.write(delivery.message(), b);
            return LinkFrame.finish(b);
        }
    }

    record Done(long generation, String clientId) implements HandoverFrame {
        @Override
        public ByteBuf write(ByteBufAllocator alloc) {
            return LinkFrame.finish(head(alloc, LinkFrame.HANDOVER_DONE, this, 0));
        }
    }

    /**
     * The former holder, after Done, no longer routes to the session and has carried everything routed to it before:
     * what the claimant routed to it meanwhile joins its queue now, after the carried messages.
     */
    record Carried(long generation, String clientId, AccountedOrphans accounted) implements HandoverFrame {
        /** A holder that keeps no record of the dead run's orphans for it (or the session was never adopted). */
        Carried(long generation, String clientId) {
            this(generation, clientId, null);
        }

        @Override
        public ByteBuf write(ByteBufAllocator alloc) {
            AccountedOrphans a = accounted;
            ByteBuf b = head(alloc, LinkFrame.HANDOVER_CARRIED, this, a == null ? 1 : 64 + 24 * a.marks().size()
                    + a.ids().values().stream().mapToInt(ids -> 12 + 8 * ids.length).sum() + 64 * a.routed().size());
            b.writeByte(a == null ? 0 : 1);
            if (a != null) {
                b.writeInt(a.marks().size());
                a.marks().forEach((stream, mark) -> b.writeLong(stream).writeLong(mark));
                b.writeInt(a.ids().size());
                a.ids().forEach((stream, ids) -> {
                    b.writeLong(stream).writeInt(ids.length);
                    for (long id : ids) {
                        b.writeLong(id);
                    }
                });
                b.writeInt(a.routed().size());
                for (MessageIdentity m : a.routed()) {
                    writeIdentity(b, m);
                }
            }
            return LinkFrame.finish(b);
        }
    }

    /** The handover of that claim stops: the holder keeps (and resumes) the session, the claimant refuses. */
    record Abort(long generation, String clientId) implements HandoverFrame {
        @Override
        public ByteBuf write(ByteBufAllocator alloc) {
            return LinkFrame.finish(head(alloc, LinkFrame.HANDOVER_ABORT, this, 0));
        }
    }

    private static ByteBuf head(ByteBufAllocator alloc, byte type, HandoverFrame f, int bodyHint) {
        ByteBuf b = LinkFrame.start(alloc, type, 16 + f.clientId().length() * 3 + bodyHint)
                .writeLong(f.generation());
        LinkFrame.writeString(b, f.clientId());
        return b;
    }

    private static void writeIds(ByteBuf b, int[] ids) {
        b.writeShort(ids.length);
        for (int id : ids) {
            b.writeInt(id);
        }
    }

    private static int[] readIds(ByteBuf b) {
        int[] ids = new int[b.readUnsignedShort()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = b.readInt();
        }
        return ids;
    }

    /**
     * At most this many of an adopted session's replica-held QoS 2 identities travel with it (about 1 MiB); past it,
     * every resend is taken as held, as it is once the set is forgotten: no duplicate, at the risk of a message the
     * replica lacked.
     */
    static final int MAX_REPLICA_QOS2 = 16_384;

    /** The most orphans one range of a Carried frame may stand for: far more than a dead node's link ever held. */
    static final long MAX_RANGE = 1L << 24;

    private static void writeAdoption(ByteBuf b, Adoption a) {
        LinkFrame.writeString(b, a == null ? "" : a.deadRun());
        if (a == null) {
            return;
        }
        boolean fits = a.replicaQos2().size() <= MAX_REPLICA_QOS2;
        b.writeLong(fits ? Math.max(0, a.knownUntilMillis() - System.currentTimeMillis()) : 0);
        b.writeInt(fits ? a.replicaQos2().size() : 0);
        if (fits) {
            for (MessageIdentity m : a.replicaQos2()) {
                LinkFrame.writeString(b, m.publisherId() == null ? "" : m.publisherId());
                b.writeLong(m.createdAtMillis());
                LinkFrame.writeString(b, m.topic());
                b.writeInt(m.payloadHash());
            }
        }
    }

    private static void writeIdentity(ByteBuf b, MessageIdentity m) {
        LinkFrame.writeString(b, m.publisherId() == null ? "" : m.publisherId());
        b.writeLong(m.createdAtMillis());
        LinkFrame.writeString(b, m.topic());
        b.writeInt(m.payloadHash());
    }

    private static MessageIdentity readIdentity(ByteBuf b) {
        String publisher = LinkFrame.readString(b);
        return new MessageIdentity(publisher.isEmpty() ? null : publisher, b.readLong(), LinkFrame.readString(b),
                b.readInt());
    }

    private static AccountedOrphans readAccounted(ByteBuf b) {
        int n = b.readInt();
        if (n < 0 || n > b.readableBytes() / 16) {
            throw new IllegalArgumentException("orphan mark count " + n);
        }
        java.util.Map<Long, Long> marks = new java.util.HashMap<>(n * 2);
        for (int i = 0; i < n; i++) {
            marks.put(b.readLong(), b.readLong());
        }
        int streams = b.readInt();
        if (streams < 0 || streams > b.readableBytes() / 12) {
            throw new IllegalArgumentException("orphan stream count " + streams);
        }
        java.util.Map<Long, long[]> ids = new java.util.HashMap<>(streams * 2);
        for (int i = 0; i < streams; i++) {
            long stream = b.readLong();
            int k = b.readInt();
            if (k < 0 || k % 2 != 0 || k > b.readableBytes() / 8) {
                throw new IllegalArgumentException("accounted orphan range bound count " + k);
            }
            long[] these = new long[k];
            for (int j = 0; j < k; j++) {
                these[j] = b.readLong();
                if (j % 2 == 1 && (these[j] < these[j - 1] || these[j] - these[j - 1] > MAX_RANGE)) {
                    throw new IllegalArgumentException("accounted orphans " + these[j - 1] + " to " + these[j]);
                }
            }
            ids.put(stream, these);
        }
        int notes = b.readInt();
        if (notes < 0 || notes > AccountedOrphans.MAX_NOTES || notes > b.readableBytes() / 16) {
            throw new IllegalArgumentException("routed note count " + notes);
        }
        List<MessageIdentity> routed = new ArrayList<>(notes);
        for (int i = 0; i < notes; i++) {
            routed.add(readIdentity(b));
        }
        return new AccountedOrphans(marks, ids, routed);
    }

    private static Adoption readAdoption(ByteBuf b) {
        String run = LinkFrame.readString(b);
        if (run.isEmpty()) {
            return null;
        }
        long knownFor = b.readLong();
        int n = b.readInt();
        if (knownFor < 0 || n < 0 || n > MAX_REPLICA_QOS2 || n > b.readableBytes() / 16) {
            throw new IllegalArgumentException("adoption: " + n + " replica-held messages known for " + knownFor
                    + " ms");
        }
        Set<MessageIdentity> held = new HashSet<>(n * 2);
        for (int i = 0; i < n; i++) {
            String publisher = LinkFrame.readString(b);
            held.add(new MessageIdentity(publisher.isEmpty() ? null : publisher, b.readLong(),
                    LinkFrame.readString(b), b.readInt()));
        }
        return new Adoption(run, held, knownFor == 0 ? 0 : System.currentTimeMillis() + knownFor);
    }

    private static boolean flag(ByteBuf b) {
        byte v = b.readByte();
        if (v != 0 && v != 1) {
            throw new IllegalArgumentException("flag byte " + v + " is neither 0 nor 1");
        }
        return v == 1;
    }

    /**
     * Reads a handover frame of {@code type} (the type byte read already).
     *
     * @throws IllegalArgumentException, IndexOutOfBoundsException, MalformedPacketException if it is malformed
     */
    static HandoverFrame read(byte type, ByteBuf b) throws MalformedPacketException {
        long generation = b.readLong();
        if (generation <= 0) {
            throw new IllegalArgumentException("generation " + generation + " is not positive");
        }
        String clientId = LinkFrame.readString(b);
        HandoverFrame f = switch (type) {
            case LinkFrame.HANDOVER_REQUEST -> new Request(generation, clientId, flag(b));
            case LinkFrame.HANDOVER_BEGIN -> readBegin(generation, clientId, b);
            case LinkFrame.HANDOVER_ENTRY -> {
                long seq = b.readLong();
                QoS qos = QoS.of(b.readByte());
                boolean retain = flag(b);
                boolean released = flag(b);
                String group = LinkFrame.readString(b);
                int[] ids = readIds(b);
                Message m = MessageCodec.read(b);
                if (seq <= 0 || qos == QoS.AT_MOST_ONCE) {
                    throw new IllegalArgumentException("queue entry seq " + seq + " at QoS " + qos.value());
                }
                yield new Entry(generation, clientId, new StoredEntry(new QueueEntry(seq, 0, qos, retain, ids, group,
                        released, m.payload().length), m));
            }
            case LinkFrame.HANDOVER_END -> {
                int n = b.readInt();
                if (n < 0) {
                    throw new IllegalArgumentException("entry count " + n);
                }
                yield new End(generation, clientId, n);
            }
            case LinkFrame.HANDOVER_CARRY -> {
                QoS qos = QoS.of(b.readByte());
                boolean retain = flag(b);
                String group = LinkFrame.readString(b);
                int[] ids = readIds(b);
                Message m = MessageCodec.read(b);
                yield new Carry(generation, clientId, new Delivery(m, qos, retain, ids,
                        group.isEmpty() ? null : group));
            }
            case LinkFrame.HANDOVER_DONE -> new Done(generation, clientId);
            case LinkFrame.HANDOVER_ABORT -> new Abort(generation, clientId);
            case LinkFrame.HANDOVER_CARRIED -> new Carried(generation, clientId, flag(b) ? readAccounted(b) : null);
            default -> throw new IllegalArgumentException("frame type " + type + " is no handover frame");
        };
        if (b.isReadable()) {
            throw new IllegalArgumentException(b.readableBytes() + " bytes after a handover frame of type " + type);
        }
        return f;
    }

    private static Begin readBegin(long generation, String clientId, ByteBuf b) {
        byte status = b.readByte();
        if (status == NOTHING || status == STALE) {
            return new Begin(generation, clientId, status, null);
        }
        if (status != SESSION) {
            throw new IllegalArgumentException("handover status " + status);
        }
        long expiry = b.readLong();
        int level = b.readUnsignedByte();
        int inflight = b.readInt();
        int n = b.readInt();
        if (n < 0 || n > b.readableBytes() / 10) {
            throw new IllegalArgumentException("subscription count " + n);
        }
        List<Subscription> subs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String filter = LinkFrame.readString(b);
            QoS qos = QoS.of(b.readByte());
            boolean noLocal = flag(b);
            boolean rap = flag(b);
            int rh = b.readUnsignedByte();
            if (rh > 2) {
                throw new IllegalArgumentException("retain handling " + rh);
            }
            subs.add(new Subscription(filter, qos, noLocal, rap, rh, b.readInt()));
        }
        int q = b.readInt();
        if (q < 0 || q > b.readableBytes() / 2) {
            throw new IllegalArgumentException("inbound QoS 2 id count " + q);
        }
        List<Integer> ids = new ArrayList<>(q);
        for (int i = 0; i < q; i++) {
            ids.add(b.readUnsignedShort());
        }
        int d = b.readInt();
        if (d < 0 || d > b.readableBytes() / 12) {
            throw new IllegalArgumentException("dead node's inbound QoS 2 count " + d);
        }
        java.util.Map<Integer, io.ternmq.broker.session.DeadNodeInbound> dead = new java.util.HashMap<>(d * 2);
        for (int i = 0; i < d; i++) {
            int id = b.readUnsignedShort();
            dead.put(id, new io.ternmq.broker.session.DeadNodeInbound(LinkFrame.readString(b), b.readLong()));
        }
        Adoption adoption = readAdoption(b);
        if (inflight < 0) {
            throw new IllegalArgumentException("in-flight count " + inflight);
        }
        return new Begin(generation, clientId, SESSION, new SessionSnapshot(expiry, level, inflight, subs, ids,
                dead, adoption));
    }
}
