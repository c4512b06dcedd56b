package io.ternmq.broker.session;

import io.ternmq.broker.message.Delivery;
import io.ternmq.broker.message.Message;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.QoS;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class DeliveryHoldTest {

    private static Delivery delivery(String payload, long createdAt) {
        return delivery("pub", payload, createdAt);
    }

    private static Delivery delivery(String publisher, String payload, long createdAt) {
        Message m = new Message("t", QoS.AT_LEAST_ONCE, false, payload.getBytes(StandardCharsets.UTF_8),
                MqttProperties.EMPTY, publisher, createdAt);
        return new Delivery(m, QoS.AT_LEAST_ONCE, false, new int[0]);
    }

    private static List<String> payloads(List<DeliveryHold.Waiting> ws) {
        return ws.stream().map(w -> new String(w.delivery().message().payload(), StandardCharsets.UTF_8)).toList();
    }

    @Test
    @DisplayName("what waited comes out in order, less what was carried as well (told stored at once); then it holds "
            + "no more")
    void releaseInOrderLessCarried() {
        DeliveryHold hold = new DeliveryHold();
        List<String> stored = new ArrayList<>();
        assertThat(hold.hold(delivery("other", "a", 1), () -> stored.add("a"))).isTrue();
        assertThat(hold.hold(delivery("b", 2), () -> stored.add("b"))).isTrue();
        assertThat(hold.hold(delivery("c", 3), () -> stored.add("c"))).isTrue();
        assertThat(hold.carried(delivery("b", 2).message())).isEmpty(); // another decoded copy of the same message
        assertThat(hold.carried(delivery("b", 9).message())).isEmpty(); // a different message (another time)

        List<DeliveryHold.Waiting> out = new ArrayList<>();
        assertThat(hold.release(out::add)).isEqualTo(2);

        assertThat(out).extracting(w -> new String(w.delivery().message().payload(), StandardCharsets.UTF_8))
                .containsExactly("a", "c");
        assertThat(stored).containsExactly("b");
        assertThat(hold.hold(delivery("d", 4), () -> { })).isFalse();
        assertThat(hold.release(out::add)).isZero();
    }

    @Test
    @DisplayName("a delivery routed while what waited is being stored is told to store itself only once all of it "
            + "was: it cannot overtake them")
    void routedDuringReleaseWaitsForIt() throws Exception {
        DeliveryHold hold = new DeliveryHold();
        hold.hold(delivery("a", 1), () -> { });
        hold.hold(delivery("b", 2), () -> { });
        List<String> order = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicReference<Thread> router = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean held = new java.util.concurrent.atomic.AtomicBoolean(true);

        hold.release(w -> {
            String p = new String(w.delivery().message().payload(), StandardCharsets.UTF_8);
            order.add(p);
            if (p.equals("a")) { // another thread routes a newer message to the session now
                Thread t = new Thread(() -> {
                    held.set(hold.hold(delivery("c", 3), () -> { }));
                    order.add("c");
                });
                router.set(t);
                t.start();
                org.awaitility.Awaitility.await().until(() -> t.getState() == Thread.State.BLOCKED);
            }
        });
        router.get().join(10_000);

        assertThat(held).as("the hold is over: the router stores it itself").isFalse();
        assertThat(order).containsExactly("a", "b", "c");
    }

    @Test
    @DisplayName("a carried message whose routed copy waits: the messages of its publisher waiting before that copy, "
            + "and not carried themselves, are handed out to go before it (and not stored again should they come by the "
            + "other path too); other publishers' stay")
    void olderOfItsPublisherGoFirst() {
        DeliveryHold hold = new DeliveryHold();
        List<String> stored = new ArrayList<>();
        hold.hold(delivery("1", 1), () -> stored.add("1")); // a resend: routed here only
        hold.hold(delivery("other", "x", 1), () -> stored.add("x"));
        hold.hold(delivery("2", 2), () -> stored.add("2"));
        hold.hold(delivery("3", 3), () -> stored.add("3"));
        hold.hold(delivery("4", 4), () -> stored.add("4"));

        assertThat(payloads(hold.carried(delivery("2", 2).message()))).containsExactly("1");
        assertThat(payloads(hold.carried(delivery("3", 3).message()))).isEmpty();
        assertThat(hold.carried(delivery("1", 1).message())).as("1 came by both paths after all: stored already")
                .isNull();
        assertThat(payloads(hold.carried(delivery("9", 9).message()))).as("not waiting here: nothing known")
                .isEmpty();

        List<DeliveryHold.Waiting> out = new ArrayList<>();
        assertThat(hold.release(out::add)).isEqualTo(2);
        assertThat(payloads(out)).containsExactly("x", "4");
        assertThat(stored).containsExactly("2", "3");
    }
}
