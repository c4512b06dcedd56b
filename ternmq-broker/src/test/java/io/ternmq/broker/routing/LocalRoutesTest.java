package io.ternmq.broker.routing;

import io.ternmq.broker.config.SharedSubscriptionStrategy;
import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.broker.retain.MemoryRetainedStore;
import io.ternmq.broker.store.MemoryStore;
import io.ternmq.broker.store.QueueLimits;
import io.ternmq.broker.store.StoredQueue;
import io.ternmq.codec.QoS;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class LocalRoutesTest {
    private final List<LocalRoutes.Change> announced = new ArrayList<>();
    private final LocalRoutes routes = new LocalRoutes();

    LocalRoutesTest() {
        routes.announceTo(announced::add);
    }

    @Test
    @DisplayName("a filter's first subscriber announces an add, its last one leaving a remove, numbered in order; "
            + "a shared subscription is a route of its own (the node has members of that group)")
    void firstAndLastSubscriberAnnounce() {
        routes.subscribed("a/+");
        routes.subscribed("$share/g/a/+");
        routes.subscribed("b");
        routes.unsubscribed("a/+");
        routes.unsubscribed("$share/g/a/+");
        routes.unsubscribed("never");
        assertThat(announced).containsExactly(new LocalRoutes.Change(1, "a/+", true),
                new LocalRoutes.Change(2, "$share/g/a/+", true), new LocalRoutes.Change(3, "b", true),
                new LocalRoutes.Change(4, "a/+", false), new LocalRoutes.Change(5, "$share/g/a/+", false));
        List<String> snapshot = new ArrayList<>();
        assertThat(routes.snapshot(snapshot::add)).isEqualTo(5);
        assertThat(snapshot).containsExactly("b");
    }

    @Test
    @DisplayName("a SUBACK waits until every peer acknowledged the filter's add; a peer that leaves is not waited for")
    void waitsForEveryPeer() {
        AtomicInteger acknowledged = new AtomicInteger();
        routes.whenPeersHave(List.of("x"), acknowledged::incrementAndGet);
        assertThat(acknowledged).as("no peers, no local filter: at once").hasValue(1);

        routes.peerJoined("n2");
        routes.peerJoined("n3");
        routes.subscribed("x");
        routes.whenPeersHave(List.of("x"), acknowledged::incrementAndGet);
        assertThat(acknowledged).hasValue(1);
        routes.acknowledged("n2", 1);
        assertThat(acknowledged).as("n3 has not acknowledged").hasValue(1);
        routes.peerLeft("n3");
        assertThat(acknowledged).as("n3 left").hasValue(2);

        // a second subscriber of x waits for the still unacknowledged add of x
        routes.peerJoined("n4");
        routes.whenPeersHave(List.of("x"), acknowledged::incrementAndGet);
        assertThat(acknowledged).hasValue(2);
        routes.acknowledged("n4", 1);
        assertThat(acknowledged).hasValue(3);
    }

    @Test
    @DisplayName("the router announces a session's subscriptions, never another node's proxy subscriptions "
            + "(which would travel back to that node as this node's routes)")
    void proxySubscriptionsAreNotAnnounced() {
        Router router = new Router(new SubscriptionTree(SharedSubscriptionStrategy.ROUND_ROBIN, 1000),
                new MemoryRetainedStore(), new MemoryStore(), new QueueLimits(1000, -1, true, false, 20), -1, -1,
                new BrokerMetrics(), routes);
        router.subscribe(new Target("client", false),
                new Subscription("local/#", QoS.AT_LEAST_ONCE, false, false, 0, 0));
        Target node = new Target("$node/n2", true);
        router.subscribe(node, new Subscription("remote/#", QoS.EXACTLY_ONCE, false, true, 2, 0));
        router.unsubscribe(node, "remote/#");
        assertThat(announced).containsExactly(new LocalRoutes.Change(1, "local/#", true));
    }

    /** A subscriber of no consequence: a session of this node, or ({@code isNode}) another node. */
    record Target(String clientId, boolean isNode) implements DeliveryTarget {
        @Override
        public void deliver(Delivery delivery) {
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
    }
}
