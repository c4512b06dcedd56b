package io.ternmq.broker.protocol;

import io.ternmq.broker.session.Session;
import io.ternmq.broker.session.SessionHandover;
import io.ternmq.broker.session.SessionSnapshot;
import io.ternmq.broker.store.StoredEntry;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The holder's side of a cluster handover that stops before the other node has the session (its data link refused a
 * frame, or the claimant gave up): the session stays here, is no longer moving, and its client resumes it with every
 * message, including those published after the stop.
 */
class HandoverStopTest {

    /** What the cluster's data link would be handed; takes {@code room} queue entries, then refuses (backlog full). */
    private static final class Link implements SessionHandover {
        final int room;
        final AtomicInteger entries = new AtomicInteger();
        final List<Integer> ends = new CopyOnWriteArrayList<>();
        final List<StoredEntry> carried = new CopyOnWriteArrayList<>();
        /** While set, the link says it is backed up. */
        volatile boolean backedUp;
        final AtomicInteger congestionAsked = new AtomicInteger();

        Link(int room) {
            this.room = room;
        }

        @Override
        public boolean begin(SessionSnapshot snapshot) {
            return true;
        }

        @Override
        public boolean entry(StoredEntry entry) {
            return entries.incrementAndGet() <= room;
        }

        @Override
        public boolean end(int n) {
            ends.add(n);
            return true;
        }

        @Override
        public boolean carry(StoredEntry entry) {
            carried.add(entry);
            return true;
        }

        @Override
        public void superseded() {
        }

        @Override
        public boolean congested() {
            congestionAsked.incrementAndGet();
            return backedUp;
        }
    }

    private static final MqttProperties PERSISTENT = RawV5.props(PropertyId.SESSION_EXPIRY_INTERVAL, 300L);

    private static ProtocolHarness.FakeChannel connect(ProtocolHarness h, String id, boolean cleanStart,
                                                       boolean present) {
        ProtocolHarness.FakeChannel c = h.open().send(RawV5.connect(id, cleanStart, 60, PERSISTENT));
        Connack ack = c.next(Connack.class);
        assertThat(ack.reasonCode()).isZero();
        assertThat(ack.sessionPresent()).as("session present").isEqualTo(present);
        return c;
    }

    private static void publish(ProtocolHarness.FakeChannel pub, int from, int to) {
        for (int i = from; i < to; i++) {
            pub.send(new Publish("q/" + i, QoS.AT_LEAST_ONCE, false, false, i + 1,
                    ("m" + i).getBytes(StandardCharsets.UTF_8), MqttProperties.EMPTY));
        }
        for (int i = from; i < to; i++) {
            assertThat(pub.next(Puback.class).packetId()).isEqualTo(i + 1); // stored, in order
        }
    }

    /** An offline persistent session "sub" subscribed to q/# with {@code queued} QoS 1 messages in its queue. */
    private static ProtocolHarness.FakeChannel offlineWithQueue(ProtocolHarness h, int queued) {
        ProtocolHarness.FakeChannel sub = connect(h, "sub", true, false);
        sub.send(new Subscribe(1, List.of(new TopicSubscription("q/#", QoS.AT_LEAST_ONCE)), MqttProperties.EMPTY));
        sub.next(Suback.class);
        sub.send(new Disconnect(0));
        sub.awaitClosed();
        ProtocolHarness.FakeChannel pub = connect(h, "pub", true, false);
        publish(pub, 0, queued);
        return pub;
    }

    /** The client resumes the session and gets messages q/0 .. q/(n-1), in order. */
    private static void resumesWithAll(ProtocolHarness h, int n) {
        ProtocolHarness.FakeChannel sub = connect(h, "sub", false, true);
        List<String> topics = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Publish p = sub.next(Publish.class);
            topics.add(p.topic());
            sub.send(new Puback(p.packetId()));
        }
        assertThat(topics).containsExactlyElementsOf(java.util.stream.IntStream.range(0, n).mapToObj(i -> "q/" + i)
                .toList());
    }

    @Test
    @DisplayName("the data link refuses a queue entry: the move stops, no End is sent, later messages are queued here "
            + "(not carried), and the client resumes with all of them")
    void linkRefusesAnEntry() {
        try (ProtocolHarness h = new ProtocolHarness(b -> { })) {
            ProtocolHarness.FakeChannel pub = offlineWithQueue(h, 5);
            Link link = new Link(2);
            h.sessions.handOver("sub", 7, false, link, () -> { }, () -> { });
            await().atMost(Duration.ofSeconds(5)).until(() -> link.entries.get() >= 3);
            publish(pub, 5, 8);
            h.loop.submit(() -> { }).syncUninterruptibly();
            // the session is no longer moving: what arrives is queued here, nothing is carried
            h.loop.submit(() -> { }).syncUninterruptibly();
            assertThat(link.ends).as("End frames").isEmpty();
            assertThat(link.entries.get()).as("entries offered").isEqualTo(3);
            resumesWithAll(h, 8);
            assertThat(link.carried).as("carried after the stop").isEmpty();
        }
    }

    @Test
    @DisplayName("the claimant aborts after the whole queue was sent: the session resumes here with every message, "
            + "later ones are no longer carried")
    void claimantAborts() {
        try (ProtocolHarness h = new ProtocolHarness(b -> { })) {
            ProtocolHarness.FakeChannel pub = offlineWithQueue(h, 5);
            Link link = new Link(Integer.MAX_VALUE);
            h.sessions.handOver("sub", 7, false, link, () -> { }, () -> { });
            await().atMost(Duration.ofSeconds(5)).until(() -> link.ends.equals(List.of(5)));
            h.sessions.handoverAborted("sub", 6); // an older claim's abort changes nothing
            publish(pub, 5, 6);
            await().atMost(Duration.ofSeconds(5)).until(() -> link.carried.size() == 1);
            h.sessions.handoverAborted("sub", 7);
            publish(pub, 6, 9);
            h.loop.submit(() -> { }).syncUninterruptibly();
            resumesWithAll(h, 9);
            assertThat(link.carried).as("carried: only what came before the abort").hasSize(1);
        }
    }

    @Test
    @DisplayName("the export reads no page while the data link is backed up, and all of the queue once it drained")
    void exportWaitsForABackedUpLink() {
        try (ProtocolHarness h = new ProtocolHarness(b -> { })) {
            offlineWithQueue(h, 300);
            Link link = new Link(Integer.MAX_VALUE);
            link.backedUp = true;
            h.sessions.handOver("sub", 7, false, link, () -> { }, () -> { });
            await().atMost(Duration.ofSeconds(5)).until(() -> link.congestionAsked.get() >= 3);
            assertThat(link.entries.get()).as("entries sent while the link is backed up").isZero();
            link.backedUp = false;
            await().atMost(Duration.ofSeconds(5)).until(() -> link.ends.equals(List.of(300)));
            assertThat(link.entries.get()).isEqualTo(300);
        }
    }
}
