package io.ternmq.broker.routing;

import io.ternmq.broker.config.SharedSubscriptionStrategy;
import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.retain.MemoryRetainedStore;
import io.ternmq.broker.store.MemoryStore;
import io.ternmq.broker.store.QueueLimits;
import io.ternmq.broker.store.StoreMirror;
import io.ternmq.broker.store.StoredEntry;
import io.ternmq.broker.store.StoredQueue;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.QoS;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A session adopted from a dead node whose routes are still kept, on the node its publisher is connected to: a QoS 2
 * message published before the session was routed here reaches it as an orphan, given once the message's packet id is
 * durable; one published after reaches it by routing. The second must not overtake the first (a chaos run saw it).
 */
class AdoptedSessionOrderTest {
    private final MemoryStore store = new MemoryStore();
    /** Group copies not yet confirmed: each confirmation applies its group (then the next may be confirmed). */
    private final Deque<Runnable> unconfirmed = new ArrayDeque<>();
    private final QueueLimits limits = new QueueLimits(1000, -1, true, false, 20);
    private final List<String> stored = new ArrayList<>();

    private final StoredQueue.Owner recording = new StoredQueue.Owner() {
        @Override
        public void stored(StoredEntry entry) {
            stored.add(new String(entry.message().payload(), StandardCharsets.UTF_8));
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
    };

    private final Router router;
    private final Adopted session;
    private final DeadNode dead;
    private final StoredQueue publisher;

    AdoptedSessionOrderTest() {
        store.mirrorTo(new StoreMirror() {
            @Override
            public Copy copy(Map<String, byte[]> logs, java.util.Set<String> first) {
                return applied -> unconfirmed.add(applied);
            }
        });
        router = new Router(new SubscriptionTree(SharedSubscriptionStrategy.ROUND_ROBIN, 1000),
                new MemoryRetainedStore(), store, limits, -1, -1, new BrokerMetrics());
        session = new Adopted(new StoredQueue(store, "sub", 1, recording));
        dead = new DeadNode(router, session);
        publisher = new StoredQueue(store, "pub", 1, recording);
        router.subscribe(dead, subscription());
    }

    private static Subscription subscription() {
        return new Subscription("t", QoS.EXACTLY_ONCE, false, false, 0, 0);
    }

    /** The publisher's QoS 2 message with packet id {@code packetId} (also its creation time). */
    private void publish(String payload, int packetId) {
        Message m = new Message("t", QoS.EXACTLY_ONCE, false, payload.getBytes(StandardCharsets.UTF_8),
                MqttProperties.EMPTY, "pub", packetId);
        router.publish(m, new Router.Origin(publisher, packetId, null), (matched, quota) -> { });
    }

    /** The store confirms every group copy, in order. */
    private void confirmAll() {
        while (!unconfirmed.isEmpty()) {
            unconfirmed.poll().run();
        }
    }

    @Test
    @DisplayName("a QoS 2 message routed to an adopted session follows the publisher's earlier message that reaches it "
            + "as an orphan")
    void routedAfterOrphan() {
        // published before the adopted session is routed here: only the dead node's kept route matches
        publish("first", 1);
        router.subscribe(session, subscription());
        // published before the first one's packet id is durable (the store confirms nothing yet)
        publish("second", 2);
        // the dead node's kept routes go: no orphan any more, but the second still waits for its packet id
        router.unsubscribe(dead, "t");
        publish("third", 3);
        confirmAll();
        publish("fourth", 4);
        confirmAll();

        assertThat(dead.orphaned).containsExactly("first", "second");
        assertThat(stored).as("the adopted session's queue, in the publisher's order, each once")
                .containsExactly("first", "second", "third", "fourth");
    }

    @Test
    @DisplayName("a QoS 2 message routed to an adopted session after the dead node's routes went follows the "
            + "publisher's earlier message that still goes to it as an orphan")
    void routedAfterRoutesWentFollowsOrphan() {
        publish("first", 1);
        router.unsubscribe(dead, "t");
        router.subscribe(session, subscription());
        publish("second", 2);
        confirmAll();

        assertThat(dead.orphaned).containsExactly("first");
        assertThat(stored).containsExactly("first", "second");
    }

    @Test
    @DisplayName("a QoS 2 message routed to an adopted session follows the publisher's earlier message routed to its "
            + "node while it lived, which died before that message's packet id was durable (its copy an orphan then)")
    void routedAfterCopyForANodeThatDiedSince() {
        dead.gone = false; // alive when "first" is routed to it: its copy waits for the packet id
        publish("first", 1);
        dead.gone = true; // dies: its session is adopted here, and a new run of it has no routes
        router.subscribe(session, subscription());
        router.unsubscribe(dead, "t");
        publish("second", 2);
        confirmAll();

        assertThat(dead.orphaned).containsExactly("first");
        assertThat(stored).as("a chaos run saw 29112 ahead of 29067-29111").containsExactly("first", "second");
    }

    /** A session of this node adopted from the dead node. */
    record Adopted(StoredQueue storedQueue) implements DeliveryTarget {
        @Override
        public String clientId() {
            return "sub";
        }

        @Override
        public void deliver(Delivery delivery) {
        }

        @Override
        public boolean isOnline() {
            return false;
        }

        @Override
        public boolean wantsBackpressure() {
            return false;
        }

        @Override
        public boolean isAdopted() {
            return true;
        }
    }

    /**
     * The dead node's kept route: what is routed to it is an orphan, which the adopter here gives to the adopted session
     * unless the publish reached that session by routing too (as OrphanedForwards pairs them).
     */
    static final class DeadNode implements DeliveryTarget {
        private final Router router;
        private final Adopted session;
        final List<String> orphaned = new ArrayList<>();
        /** Left the cluster (its routes kept); a copy routed to it while it lived becomes an orphan when it leaves. */
        boolean gone = true;

        DeadNode(Router router, Adopted session) {
            this.router = router;
            this.session = session;
        }

        @Override
        public String clientId() {
            return "$node/dead";
        }

        @Override
        public void deliver(Delivery delivery) {
        }

        @Override
        public void deliver(Delivery delivery, Runnable held) {
            orphaned.add(new String(delivery.message().payload(), StandardCharsets.UTF_8));
            if (!(held instanceof Router.NodeCopies copies && copies.wentTo(session))) {
                router.deliverStored(session, delivery);
            }
            held.run();
        }

        @Override
        public StoredQueue storedQueue() {
            return null;
        }

        @Override
        public boolean isOnline() {
            return true;
        }

        @Override
        public boolean wantsBackpressure() {
            return false;
        }

        @Override
        public boolean isNode() {
            return true;
        }

        @Override
        public boolean isDeparted() {
            return gone;
        }
    }
}
