package io.ternmq.broker.it.v5;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.Pingreq;
import io.ternmq.codec.Pingresp;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Pubcomp;
import io.ternmq.codec.Publish;
import io.ternmq.codec.Pubrec;
import io.ternmq.codec.Pubrel;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Suback;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.ternmq.broker.testing.RawV5.props;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * MQTT 5.0 flow control (4.9): the broker respects a client's Receive Maximum, and disconnects a client that exceeds
 * the broker's (receive_maximum 2 here).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FlowControlTest {
    private TestBroker broker;
    private RawClient bystander;
    private RawClient publisher;

    @BeforeAll
    void start() {
        broker = TestBroker.start(b -> b.receiveMaximum(2));
        bystander = RawV5.connected(broker, "flow-bystander");
        publisher = RawV5.connected(broker, "flow-pub");
    }

    @AfterAll
    void stop() {
        bystander.close();
        publisher.close();
        broker.close();
    }

    @AfterEach
    void bystanderUnaffected() {
        RawV5.assertAlive(bystander);
    }

    private int nextPublisherId = 1;

    /** The shared publisher sends a QoS 1 message and waits for its PUBACK. */
    private void publish(String topic, QoS qos, String payload) {
        int id = nextPublisherId++;
        publisher.send(RawV5.publish(topic, qos, id, payload));
        if (qos == QoS.AT_LEAST_ONCE) {
            publisher.read(Puback.class);
        } else {
            publisher.read(Pubrec.class);
            publisher.send(new Pubrel(id));
            publisher.read(Pubcomp.class);
        }
    }

    private RawClient subscriberWithReceiveMaximum(String clientId, int receiveMaximum, String filter, QoS qos) {
        RawClient c = RawV5.connected(broker, RawV5.connect(clientId, true, 60,
                props(PropertyId.RECEIVE_MAXIMUM, receiveMaximum)));
        RawV5.subscribe(c, filter, qos);
        return c;
    }

    @Test
    @DisplayName("[MQTT-3.3.4-9] to a client with Receive Maximum 2 that does not acknowledge, exactly 2 QoS 1 "
            + "PUBLISHes go out; the 3rd follows one PUBACK")
    void qos1Window() {
        try (RawClient sub = subscriberWithReceiveMaximum("rm-q1", 2, "rm1/#", QoS.AT_LEAST_ONCE)) {
            for (int i = 1; i <= 3; i++) {
                publish("rm1/t", QoS.AT_LEAST_ONCE, "m" + i);
            }
            Publish first = sub.read(Publish.class);
            Publish second = sub.read(Publish.class);
            assertThat(List.of(RawV5.payload(first), RawV5.payload(second))).containsExactly("m1", "m2");
            RawV5.assertNothingFor(sub, 500);
            sub.send(new Puback(first.packetId()));
            Publish third = sub.read(Publish.class);
            assertThat(RawV5.payload(third)).isEqualTo("m3");
            assertThat(third.packetId()).isNotEqualTo(second.packetId());
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.4-9] QoS 2: a PUBREC does not free the slot, the PUBCOMP does")
    void qos2WindowFreedByPubcomp() {
        try (RawClient sub = subscriberWithReceiveMaximum("rm-q2", 2, "rm2/#", QoS.EXACTLY_ONCE)) {
            for (int i = 1; i <= 3; i++) {
                publish("rm2/t", QoS.EXACTLY_ONCE, "m" + i);
            }
            Publish first = sub.read(Publish.class);
            sub.read(Publish.class);
            RawV5.assertNothingFor(sub, 300);
            sub.send(new Pubrec(first.packetId()));
            assertThat(sub.read(Pubrel.class).packetId()).isEqualTo(first.packetId());
            RawV5.assertNothingFor(sub, 500);
            sub.send(new Pubcomp(first.packetId()));
            assertThat(RawV5.payload(sub.read(Publish.class))).isEqualTo("m3");
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.4-9][MQTT-4.4.0-2] a PUBREC with an error code (0x80) frees the slot and ends that flow "
            + "without PUBREL")
    void qos2WindowFreedByPubrecError() {
        try (RawClient sub = subscriberWithReceiveMaximum("rm-q2e", 2, "rm2e/#", QoS.EXACTLY_ONCE)) {
            for (int i = 1; i <= 3; i++) {
                publish("rm2e/t", QoS.EXACTLY_ONCE, "m" + i);
            }
            Publish first = sub.read(Publish.class);
            sub.read(Publish.class);
            sub.send(new Pubrec(first.packetId(), ReasonCode.UNSPECIFIED_ERROR, MqttProperties.EMPTY));
            MqttPacket next = sub.read();
            assertThat(next).as("the 3rd PUBLISH, not a PUBREL").isInstanceOf(Publish.class);
            assertThat(RawV5.payload((Publish) next)).isEqualTo("m3");
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.2-5] a message that expires while queued behind a full window is never sent")
    void expiresWhileWaitingForWindow() {
        try (RawClient sub = subscriberWithReceiveMaximum("rm-expiry", 1, "rmx/#", QoS.AT_LEAST_ONCE)) {
            publish("rmx/t", QoS.AT_LEAST_ONCE, "m1");
            int id = nextPublisherId++;
            publisher.send(RawV5.publish("rmx/t", QoS.AT_LEAST_ONCE, id, "short-lived",
                    props(PropertyId.MESSAGE_EXPIRY_INTERVAL, 1L)));
            publisher.read(Puback.class);
            publish("rmx/t", QoS.AT_LEAST_ONCE, "m3");
            Publish first = sub.read(Publish.class);
            assertThat(RawV5.payload(first)).isEqualTo("m1");
            // hold the window until the queued message's second has passed
            await().pollDelay(Duration.ofMillis(1200)).atMost(Duration.ofSeconds(3))
                    .until(() -> broker.broker().sessions().get("rm-expiry").queuedCount() == 2);
            sub.send(new Puback(first.packetId()));
            assertThat(RawV5.payload(sub.read(Publish.class))).isEqualTo("m3");
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.4-10][MQTT-4.9.0-3] with the window full the broker still answers PINGREQ and SUBSCRIBE at "
            + "once")
    void otherPacketsNotDelayed() {
        try (RawClient sub = subscriberWithReceiveMaximum("rm-other", 1, "rmo/#", QoS.AT_LEAST_ONCE)) {
            publish("rmo/t", QoS.AT_LEAST_ONCE, "m1");
            publish("rmo/t", QoS.AT_LEAST_ONCE, "m2");
            Publish first = sub.read(Publish.class);
            sub.send(Pingreq.INSTANCE);
            assertThat(sub.read()).isEqualTo(Pingresp.INSTANCE);
            sub.send(RawV5.subscribe(9, "rmo-more/#", QoS.AT_LEAST_ONCE));
            assertThat(sub.read(Suback.class).packetId()).isEqualTo(9);
            sub.send(new Puback(first.packetId()));
            assertThat(RawV5.payload(sub.read(Publish.class))).isEqualTo("m2");
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.4-7] a client sending a 3rd QoS 2 PUBLISH without PUBREL to a broker with Receive Maximum "
            + "2: DISCONNECT 0x93")
    void clientExceedsBrokerReceiveMaximum() {
        try (RawClient c = RawV5.open(broker)) {
            var ack = RawV5.connack(c, RawV5.connect("greedy", true, 60, MqttProperties.EMPTY));
            assertThat(ack.properties().getInt(PropertyId.RECEIVE_MAXIMUM)).isEqualTo(2);
            c.send(RawV5.publish("greedy/t", QoS.EXACTLY_ONCE, 1, "1"));
            c.read(Pubrec.class);
            c.send(RawV5.publish("greedy/t", QoS.EXACTLY_ONCE, 2, "2"));
            c.read(Pubrec.class);
            c.send(RawV5.publish("greedy/t", QoS.EXACTLY_ONCE, 3, "3"));
            assertThat(RawV5.disconnectReason(c)).isEqualTo(ReasonCode.RECEIVE_MAXIMUM_EXCEEDED);
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.4-7] a QoS 1 PUBLISH while 2 QoS 2 await PUBREL also exceeds it: DISCONNECT 0x93")
    void qos1CountsToo() {
        try (RawClient c = RawV5.connected(broker, "greedy-mixed")) {
            c.send(RawV5.publish("greedy/t", QoS.EXACTLY_ONCE, 1, "1"));
            c.read(Pubrec.class);
            c.send(RawV5.publish("greedy/t", QoS.EXACTLY_ONCE, 2, "2"));
            c.read(Pubrec.class);
            c.send(RawV5.publish("greedy/t", QoS.AT_LEAST_ONCE, 3, "3"));
            assertThat(RawV5.disconnectReason(c)).isEqualTo(ReasonCode.RECEIVE_MAXIMUM_EXCEEDED);
        }
    }

    @Test
    @DisplayName("a PUBREL frees a slot of the broker's Receive Maximum; QoS 0 never counts")
    void withinBrokerReceiveMaximum() {
        try (RawClient c = RawV5.connected(broker, "careful")) {
            c.send(RawV5.publish("careful/t", QoS.EXACTLY_ONCE, 1, "1"));
            c.read(Pubrec.class);
            c.send(RawV5.publish("careful/t", QoS.EXACTLY_ONCE, 2, "2"));
            c.read(Pubrec.class);
            for (int i = 0; i < 5; i++) {
                c.send(RawV5.publish("careful/t", QoS.AT_MOST_ONCE, 0, "q0"));
            }
            c.send(new Pubrel(1));
            assertThat(c.read(Pubcomp.class).packetId()).isEqualTo(1);
            c.send(RawV5.publish("careful/t", QoS.EXACTLY_ONCE, 3, "3"));
            assertThat(c.read(Pubrec.class).packetId()).isEqualTo(3);
            RawV5.assertAlive(c);
        }
    }

    @Test
    @DisplayName("[MQTT-4.3.3-10] resending a QoS 2 PUBLISH that awaits PUBREL does not count against Receive Maximum")
    void resendDoesNotCount() {
        try (RawClient c = RawV5.connected(broker, "resender")) {
            c.send(RawV5.publish("resend/t", QoS.EXACTLY_ONCE, 1, "1"));
            c.read(Pubrec.class);
            c.send(RawV5.publish("resend/t", QoS.EXACTLY_ONCE, 2, "2"));
            c.read(Pubrec.class);
            c.send(new Publish("resend/t", QoS.EXACTLY_ONCE, false, true, 2, "2".getBytes(StandardCharsets.UTF_8),
                    MqttProperties.EMPTY));
            assertThat(c.read(Pubrec.class).packetId()).isEqualTo(2);
            RawV5.assertAlive(c);
        }
    }

    @Test
    @DisplayName("QoS 1 PUBLISHes are acknowledged at once, so a burst of them never exceeds Receive Maximum 2")
    void qos1Burst() {
        try (RawClient c = RawV5.connected(broker, "burst")) {
            for (int i = 1; i <= 20; i++) {
                c.send(RawV5.publish("burst/t", QoS.AT_LEAST_ONCE, i, "x"));
            }
            for (int i = 1; i <= 20; i++) {
                assertThat(c.read(Puback.class).packetId()).isEqualTo(i);
            }
        }
    }

    @Test
    @DisplayName("[MQTT-3.3.4-7] the HiveMQ client keeps to the announced Receive Maximum 2 while publishing 30 QoS 2 "
            + "messages at once, and all complete")
    void hivemqRespectsReceiveMaximum() throws Exception {
        Mqtt5AsyncClient c = Mqtt5Client.builder().identifier("hive-flow").serverHost("127.0.0.1")
                .serverPort(broker.port()).buildAsync();
        Mqtt5ConnAck ack = c.connect().get(5, TimeUnit.SECONDS);
        assertThat(ack.getRestrictions().getReceiveMaximum()).isEqualTo(2);
        try {
            List<CompletableFuture<Mqtt5PublishResult>> results = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                results.add(c.publishWith().topic("hive-flow/t").qos(MqttQos.EXACTLY_ONCE)
                        .payload(new byte[] {(byte) i}).send());
            }
            CompletableFuture.allOf(results.toArray(new CompletableFuture[0])).get(10, TimeUnit.SECONDS);
            for (CompletableFuture<Mqtt5PublishResult> r : results) {
                assertThat(r.get().getError()).isEmpty();
            }
            assertThat(c.getState().isConnected()).isTrue();
        } finally {
            c.disconnect().get(5, TimeUnit.SECONDS);
        }
    }
}
