package io.ternmq.broker.protocol;

import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Pingresp;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ResponseQueueTest {

    private static Puback ack(int id) {
        return new Puback(id, 0, MqttProperties.EMPTY);
    }

    @Test
    @DisplayName("responses leave in the order their packets came, whichever is ready first; 'after' follows its own")
    void order() {
        List<Object> sent = new ArrayList<>();
        ResponseQueue q = new ResponseQueue(sent::add);
        ResponseQueue.Response first = q.reserve();
        ResponseQueue.Response second = q.reserve();
        ResponseQueue.Response third = q.reserve();
        q.complete(third, ack(3), () -> sent.add("after 3"));
        q.complete(second, ack(2), null);
        assertThat(sent).isEmpty();
        q.complete(first, ack(1), null);
        assertThat(sent).containsExactly(ack(1), ack(2), ack(3), "after 3");
        ResponseQueue.Response alone = q.reserve();
        q.complete(alone, Pingresp.INSTANCE, null);
        assertThat(sent).last().isEqualTo(Pingresp.INSTANCE);
    }
}
