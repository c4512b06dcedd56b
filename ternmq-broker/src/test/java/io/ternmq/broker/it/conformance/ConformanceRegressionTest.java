package io.ternmq.broker.it.conformance;

import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.MqttPacketEncoder;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Will;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static io.ternmq.broker.it.conformance.Clients.V5;
import static io.ternmq.broker.it.conformance.Clients.bytes;
import static io.ternmq.broker.it.conformance.Clients.text;
import static io.ternmq.broker.testing.RawV5.connack;
import static io.ternmq.broker.testing.RawV5.connect;
import static io.ternmq.broker.testing.RawV5.connected;
import static io.ternmq.broker.testing.RawV5.open;
import static io.ternmq.broker.testing.RawV5.props;
import static io.ternmq.broker.testing.RawV5.publish;
import static io.ternmq.broker.testing.RawV5.subscribe;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Server MUSTs the broker once broke, found while writing the conformance tests; each test asserts what the
 * standard requires and guards the fix.
 */
class ConformanceRegressionTest {

    @Test
    @DisplayName("[MQTT-3.1.2-24] a message that fits the client's Maximum Packet Size without a Topic Alias is not "
            + "sent larger because the server adds one")
    void topicAliasMustNotPushPastMaximumPacketSize() {
        byte[] payload = bytes("x".repeat(40));
        Publish original = new Publish("gap/topic", QoS.AT_MOST_ONCE, false, false, 0, payload, MqttProperties.EMPTY);
        long limit = MqttPacketEncoder.encodedSize(original, V5);
        try (TestBroker broker = TestBroker.start();
             RawClient sub = connected(broker, connect("gap-sub", true, 60,
                     props(PropertyId.MAXIMUM_PACKET_SIZE, limit, PropertyId.TOPIC_ALIAS_MAXIMUM, 5)));
             RawClient pub = connected(broker, "gap-pub")) {
            subscribe(sub, "gap/#", QoS.AT_MOST_ONCE);
            pub.send(original);
            pub.send(publish("gap/s", QoS.AT_MOST_ONCE, 0, "sentinel"));
            Publish first = sub.read(Publish.class);
            if (!"sentinel".equals(text(first))) {
                // it was sent rather than dropped: then it must be within the limit
                assertThat(MqttPacketEncoder.encodedSize(first, V5)).as("PUBLISH size on the wire, limit " + limit)
                        .isLessThanOrEqualTo((int) limit);
            }
        }
    }

    @Test
    @DisplayName("[MQTT-3.2.2-19] a refusal CONNACK whose Reason String would exceed the client's "
            + "Maximum Packet Size is sent without it")
    void refusalConnackWithinMaximumPacketSize() {
        try (TestBroker broker = TestBroker.start(b -> b.maxQos(1)); RawClient c = open(broker)) {
            Connack ack = connack(c, connect("gap-connack", true, 60, props(PropertyId.MAXIMUM_PACKET_SIZE, 20L),
                    new Will("gap/w", bytes("w"), QoS.EXACTLY_ONCE, false, MqttProperties.EMPTY)));
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.QOS_NOT_SUPPORTED);
            assertThat(MqttPacketEncoder.encodedSize(ack, V5)).as("CONNACK size").isLessThanOrEqualTo(20);
            assertThat(ack.properties().contains(PropertyId.REASON_STRING)).isFalse();
        }
    }
}
