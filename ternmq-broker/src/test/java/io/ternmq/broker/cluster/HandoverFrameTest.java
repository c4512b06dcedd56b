package io.ternmq.broker.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.MessageIdentity;
import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.session.Adoption;
import io.ternmq.broker.session.SessionSnapshot;
import io.ternmq.broker.store.QueueEntry;
import io.ternmq.broker.store.StoredEntry;
import io.ternmq.codec.MalformedPacketException;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.QoS;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HandoverFrameTest {

    private static final Message MESSAGE = new Message("a/b", QoS.EXACTLY_ONCE, false,
            "payload".getBytes(StandardCharsets.UTF_8), MqttProperties.EMPTY, "publisher", 1_700_000_000_000L);

    /** Writes the frame and reads it back as the receiving link does: length checked and stripped, type read. */
    private static HandoverFrame roundTrip(HandoverFrame f) throws MalformedPacketException {
        ByteBuf b = f.write(ByteBufAllocator.DEFAULT);
        try {
            assertThat(b.readInt()).as("length prefix").isEqualTo(b.readableBytes());
            return HandoverFrame.read(b.readByte(), b);
        } finally {
            b.release();
        }
    }

    @Test
    @DisplayName("request, begin (each status), end, done and carried read back as written")
    void simpleFrames() throws Exception {
        assertThat(roundTrip(new HandoverFrame.Request(7, "client", true)))
                .isEqualTo(new HandoverFrame.Request(7, "client", true));
        assertThat(roundTrip(new HandoverFrame.Begin(8, "c", HandoverFrame.NOTHING, null)))
                .isEqualTo(new HandoverFrame.Begin(8, "c", HandoverFrame.NOTHING, null));
        assertThat(roundTrip(new HandoverFrame.Begin(8, "c", HandoverFrame.STALE, null)))
                .isEqualTo(new HandoverFrame.Begin(8, "c", HandoverFrame.STALE, null));
        assertThat(roundTrip(new HandoverFrame.End(9, "c", 300))).isEqualTo(new HandoverFrame.End(9, "c", 300));
        assertThat(roundTrip(new HandoverFrame.Done(10, "c"))).isEqualTo(new HandoverFrame.Done(10, "c"));
        assertThat(roundTrip(new HandoverFrame.Carried(11, "c"))).isEqualTo(new HandoverFrame.Carried(11, "c"));
    }

    @Test
    @DisplayName("carried with what an adopted session's holder accounted for of the dead run's orphans reads back as "
            + "written; ids travel as ranges; a range running backwards is refused")
    void carriedWithAccountedOrphans() throws Exception {
        assertThat(LinkFrame.VERSION).isGreaterThanOrEqualTo(9);
        long late = Long.MAX_VALUE / 2;
        long[] ranges = AccountedOrphans.ranges(Set.of(3L, 4L, 5L, 9L, late + 1, late + 2));
        assertThat(ranges).containsExactly(3, 5, 9, 9, late + 1, late + 2);
        AccountedOrphans accounted = new AccountedOrphans(java.util.Map.of(7L, 2L),
                java.util.Map.of(7L, ranges), List.of(MessageIdentity.of(MESSAGE), MessageIdentity.of(MESSAGE)));

        HandoverFrame.Carried back = (HandoverFrame.Carried) roundTrip(new HandoverFrame.Carried(11, "c", accounted));

        assertThat(back.generation()).isEqualTo(11);
        assertThat(back.clientId()).isEqualTo("c");
        assertThat(back.accounted().marks()).isEqualTo(java.util.Map.of(7L, 2L));
        assertThat(back.accounted().ids()).containsOnlyKeys(7L);
        assertThat(back.accounted().ids().get(7L)).containsExactly(ranges);
        assertThat(back.accounted().routed()).containsExactly(MessageIdentity.of(MESSAGE), MessageIdentity.of(MESSAGE));

        ByteBuf b = new HandoverFrame.Carried(11, "c", new AccountedOrphans(java.util.Map.of(),
                java.util.Map.of(7L, new long[] {9, 3}), List.of())).write(ByteBufAllocator.DEFAULT);
        b.skipBytes(4);
        byte type = b.readByte();
        try {
            assertThatThrownBy(() -> HandoverFrame.read(type, b)).hasMessageContaining("accounted orphans 9 to 3");
        } finally {
            b.release();
        }
    }

    @Test
    @DisplayName("abort (link version 3 on) reads back as written; a truncated or padded one is refused")
    void abort() throws Exception {
        assertThat(LinkFrame.VERSION).isGreaterThanOrEqualTo(3);
        assertThat(roundTrip(new HandoverFrame.Abort(12, "client"))).isEqualTo(new HandoverFrame.Abort(12, "client"));
        ByteBuf b = new HandoverFrame.Abort(12, "client").write(ByteBufAllocator.DEFAULT);
        b.skipBytes(5);
        byte[] whole = new byte[b.readableBytes()];
        b.readBytes(whole);
        b.release();
        assertThatThrownBy(() -> HandoverFrame.read(LinkFrame.HANDOVER_ABORT,
                Unpooled.wrappedBuffer(whole, 0, whole.length - 1))).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> HandoverFrame.read(LinkFrame.HANDOVER_ABORT,
                Unpooled.wrappedBuffer(whole, new byte[] {0}))).hasMessageContaining("bytes after");
    }

    @Test
    @DisplayName("a session's state keeps every subscription option and identifier, inbound QoS 2 ids (and which a "
            + "dead node had routed), expiry, and where it was adopted from with what its replica held")
    void beginWithState() throws Exception {
        MessageIdentity held = new MessageIdentity("p", 1_700_000_000_001L, "a/b", 42);
        MessageIdentity injected = new MessageIdentity(null, 1_700_000_000_002L, "a/c", -7);
        long until = System.currentTimeMillis() + 600_000;
        SessionSnapshot snap = new SessionSnapshot(3600, 5, 2, List.of(
                new Subscription("a/+", QoS.AT_LEAST_ONCE, true, false, 2, 17),
                new Subscription("$share/g/b/#", QoS.EXACTLY_ONCE, false, true, 1, 0)), List.of(1, 65_535),
                java.util.Map.of(65_535, new io.ternmq.broker.session.DeadNodeInbound("node-x", 1_700_000_000_123L)),
                new Adoption("node-y-run", Set.of(held, injected), until));
        HandoverFrame.Begin back = (HandoverFrame.Begin) roundTrip(
                new HandoverFrame.Begin(11, "client", HandoverFrame.SESSION, snap));
        assertThat(back.status()).isEqualTo(HandoverFrame.SESSION);
        assertThat(back.snapshot()).usingRecursiveComparison().ignoringFields("adoption").isEqualTo(snap);
        Adoption a = back.snapshot().adoption();
        assertThat(a.deadRun()).isEqualTo("node-y-run");
        assertThat(a.replicaQos2()).containsExactlyInAnyOrder(held, injected);
        assertThat(a.knownUntilMillis()).as("the time left travels, not the sender's clock")
                .isBetween(until - 5_000, until + 5_000);
    }

    @Test
    @DisplayName("a session never adopted carries no adoption; one whose replica held too much to carry takes every "
            + "resend as held")
    void beginAdoptionBounds() throws Exception {
        SessionSnapshot plain = new SessionSnapshot(0, 4, 0, List.of(), List.of(), java.util.Map.of(), null);
        assertThat(((HandoverFrame.Begin) roundTrip(new HandoverFrame.Begin(1, "c", HandoverFrame.SESSION, plain)))
                .snapshot().adoption()).isNull();

        Set<MessageIdentity> many = new java.util.HashSet<>();
        for (int i = 0; i <= HandoverFrame.MAX_REPLICA_QOS2; i++) {
            many.add(new MessageIdentity("p", i, "t", i));
        }
        SessionSnapshot big = new SessionSnapshot(0, 5, 0, List.of(), List.of(), java.util.Map.of(),
                new Adoption("run", many, System.currentTimeMillis() + 600_000));
        Adoption back = ((HandoverFrame.Begin) roundTrip(new HandoverFrame.Begin(2, "c", HandoverFrame.SESSION, big)))
                .snapshot().adoption();
        assertThat(back.deadRun()).isEqualTo("run");
        assertThat(back.replicaQos2()).isEmpty();
        assertThat(back.held(MESSAGE, System.currentTimeMillis())).isTrue();
    }

    @Test
    @DisplayName("a queue entry keeps its seq (so its packet id), QoS, PUBREC state, group, identifiers, message")
    void entry() throws Exception {
        QueueEntry qe = new QueueEntry(70_000, 99, QoS.EXACTLY_ONCE, true, new int[] {3, 4}, "g", true, 7);
        HandoverFrame.Entry back = (HandoverFrame.Entry) roundTrip(
                new HandoverFrame.Entry(12, "client", new StoredEntry(qe, MESSAGE)));
        QueueEntry r = back.entry().entry();
        assertThat(r.seq()).isEqualTo(70_000);
        assertThat(r.messageId()).as("the sender's message id stays there").isZero();
        assertThat(r.qos()).isEqualTo(QoS.EXACTLY_ONCE);
        assertThat(r.retain()).isTrue();
        assertThat(r.released()).isTrue();
        assertThat(r.sharedGroup()).isEqualTo("g");
        assertThat(r.subscriptionIds()).containsExactly(3, 4);
        assertThat(r.payloadBytes()).isEqualTo(7);
        assertThat(back.entry().message().topic()).isEqualTo("a/b");
        assertThat(back.entry().message().publisherId()).isEqualTo("publisher");
        assertThat(back.entry().message().createdAtMillis()).isEqualTo(MESSAGE.createdAtMillis());
    }

    @Test
    @DisplayName("a carried delivery keeps QoS, RETAIN, identifiers and no group")
    void carry() throws Exception {
        HandoverFrame.Carry back = (HandoverFrame.Carry) roundTrip(new HandoverFrame.Carry(13, "client",
                new Delivery(MESSAGE, QoS.AT_LEAST_ONCE, false, new int[] {9}, null)));
        assertThat(back.delivery().qos()).isEqualTo(QoS.AT_LEAST_ONCE);
        assertThat(back.delivery().sharedGroup()).isNull();
        assertThat(back.delivery().subscriptionIds()).containsExactly(9);
        assertThat(new String(back.delivery().message().payload(), StandardCharsets.UTF_8)).isEqualTo("payload");
    }

    @Test
    @DisplayName("malformed frames are refused: truncated, trailing bytes, bad status, flag, QoS, generation")
    void malformed() {
        ByteBuf request = new HandoverFrame.Request(7, "client", true).write(ByteBufAllocator.DEFAULT);
        request.skipBytes(5);
        byte[] whole = new byte[request.readableBytes()];
        request.readBytes(whole);
        request.release();
        assertThatThrownBy(() -> HandoverFrame.read(LinkFrame.HANDOVER_REQUEST,
                Unpooled.wrappedBuffer(whole, 0, whole.length - 1))).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> HandoverFrame.read(LinkFrame.HANDOVER_REQUEST,
                Unpooled.wrappedBuffer(whole, new byte[] {0}))).hasMessageContaining("bytes after");
        byte[] badFlag = whole.clone();
        badFlag[badFlag.length - 1] = 2;
        assertThatThrownBy(() -> HandoverFrame.read(LinkFrame.HANDOVER_REQUEST, Unpooled.wrappedBuffer(badFlag)))
                .hasMessageContaining("flag");
        byte[] zeroGeneration = whole.clone();
        java.util.Arrays.fill(zeroGeneration, 0, 8, (byte) 0);
        assertThatThrownBy(() -> HandoverFrame.read(LinkFrame.HANDOVER_REQUEST,
                Unpooled.wrappedBuffer(zeroGeneration))).hasMessageContaining("generation");
        ByteBuf begin = Unpooled.buffer().writeLong(1);
        LinkFrame.writeString(begin, "c");
        begin.writeByte(9);
        assertThatThrownBy(() -> HandoverFrame.read(LinkFrame.HANDOVER_BEGIN, begin))
                .hasMessageContaining("status");
        ByteBuf carry = Unpooled.buffer().writeLong(1);
        LinkFrame.writeString(carry, "c");
        carry.writeByte(3);
        assertThatThrownBy(() -> HandoverFrame.read(LinkFrame.HANDOVER_CARRY, carry))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
