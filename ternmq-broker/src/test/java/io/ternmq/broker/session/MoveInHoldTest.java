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

class MoveInHoldTest {

    private static Delivery delivery(String payload, long createdAt) {
        Message m = new Message("t", QoS.AT_LEAST_ONCE, false, payload.getBytes(StandardCharsets.UTF_8),
                MqttProperties.EMPTY, "pub", createdAt);
        return new Delivery(m, QoS.AT_LEAST_ONCE, false, new int[0]);
    }

    @Test
    @DisplayName("what waited comes out in order, less what was carried as well (told stored at once); then it holds "
            + "no more")
    void releaseInOrderLessCarried() {
        MoveInHold hold = new MoveInHold();
        List<String> stored = new ArrayList<>();
        assertThat(hold.hold(delivery("a", 1), () -> stored.add("a"))).isTrue();
        assertThat(hold.hold(delivery("b", 2), () -> stored.add("b"))).isTrue();
        assertThat(hold.hold(delivery("c", 3), () -> stored.add("c"))).isTrue();
        hold.carried(delivery("b", 2).message()); // another decoded copy of the same message
        hold.carried(delivery("b", 9).message()); // a different message (another time)

        List<MoveInHold.Waiting> out = hold.release();

        assertThat(out).extracting(w -> new String(w.delivery().message().payload(), StandardCharsets.UTF_8))
                .containsExactly("a", "c");
        assertThat(stored).containsExactly("b");
        assertThat(hold.hold(delivery("d", 4), () -> { })).isFalse();
        assertThat(hold.release()).isEmpty();
    }
}
