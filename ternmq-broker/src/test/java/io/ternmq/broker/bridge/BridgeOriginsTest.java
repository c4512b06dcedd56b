package io.ternmq.broker.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import io.ternmq.broker.message.Message;
import io.ternmq.broker.metrics.BrokerMetrics;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.QoS;
import org.junit.jupiter.api.Test;

/** The origin ids and the window of recent ones; the loops themselves are in it/BridgeLoopTest. */
class BridgeOriginsTest {
    private final BrokerMetrics metrics = new BrokerMetrics();
    private final BridgeOrigins here = new BridgeOrigins("node-a", metrics);

    private static Message message(MqttProperties props) {
        return new Message("t", QoS.AT_LEAST_ONCE, false, new byte[0], props, "c", 0);
    }

    private static Message from(String origin) {
        return message(MqttProperties.EMPTY.toBuilder().userProperty(BridgeOrigins.PROPERTY, origin).build());
    }

    @Test
    void aMessageWithoutOriginGetsOneOfThisNodeKeepingItsOtherUserProperties() {
        Message m = here.admit(message(MqttProperties.EMPTY.toBuilder().userProperty("k", "v").build()));
        assertThat(BridgeOrigins.of(m.properties())).startsWith("node-a/");
        assertThat(m.properties().userProperties().get(0).name()).isEqualTo("k");
        assertThat(BridgeOrigins.of(here.admit(message(MqttProperties.EMPTY)).properties()))
                .isNotEqualTo(BridgeOrigins.of(m.properties()));
    }

    @Test
    void aCopyOfOwnMessageComingBackIsDropped() {
        Message m = here.admit(message(MqttProperties.EMPTY));
        assertThat(here.admit(m)).isNull();
        assertThat(metrics.bridgeDuplicateDrops.sum()).isEqualTo(1);
    }

    @Test
    void aSecondCopyOfAnotherNodesMessageIsDroppedTheFirstPasses() {
        assertThat(here.admit(from("node-b/1"))).isNotNull();
        assertThat(here.admit(from("node-b/1"))).isNull();
        assertThat(here.admit(from("node-b/2"))).isNotNull();
        assertThat(metrics.bridgeDuplicateDrops.sum()).isEqualTo(1);
    }

    @Test
    void theWindowIsBoundedTheOldestIdForgottenFirst() {
        assertThat(here.admit(from("node-b/first"))).isNotNull();
        for (int i = 0; i < BridgeOrigins.WINDOW - 1; i++) {
            here.admit(from("node-b/" + i));
        }
        assertThat(here.admit(from("node-b/first"))).as("still in the window").isNull();
        here.admit(from("node-b/one-more"));
        here.admit(from("node-b/and-another"));
        assertThat(here.admit(from("node-b/first"))).as("pushed out of the window").isNotNull();
    }
}
