package io.ternmq.broker.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;

/**
 * Receivers on one event loop share one copy of a large payload and get their own header each (see SharedPayloads):
 * what differs per receiver (QoS, packet id, subscription identifier, topic alias, remaining expiry, maximum packet
 * size, protocol version) must still differ, and the payload bytes must arrive whole and in order everywhere.
 */
class SharedPayloadTest {
    private TestBroker broker;

    @BeforeEach
    void start() {
        broker = TestBroker.start(b -> b.ioThreads(1)); // every connection on the same loop
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    private static byte[] bytes(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    @DisplayName("one large payload, receivers with different headers: each gets its own header and the whole payload")
    void perReceiverHeadersSharedPayload() {
        MqttConnectionOptions small = Paho5Client.options(true);
        small.setMaximumPacketSize(600L);
        try (PahoClient v3qos0 = PahoClient.connect(broker, "v3-q0", true);
             PahoClient v3qos2 = PahoClient.connect(broker, "v3-q2", true);
             Paho5Client withId = Paho5Client.connect(broker, "v5-id");
             RawClient withAlias = RawV5.connected(broker, RawV5.connect("v5-alias", true, 60,
                     RawV5.props(PropertyId.TOPIC_ALIAS_MAXIMUM, 10)));
             Paho5Client smallPackets = Paho5Client.connect(broker, "v5-small", small);
             Paho5Client pub = Paho5Client.connect(broker, "v5-pub")) {
            v3qos0.subscribe("fan/#", 0);
            v3qos2.subscribe("fan/+", 2);
            withId.subscribe(7, new MqttSubscription("fan/#", 1));
            RawV5.subscribe(withAlias, "fan/#", QoS.AT_MOST_ONCE); // Paho 1.2.5 does not resolve topic aliases
            smallPackets.subscribe("fan/#", 2);

            // sizes around the sharing threshold; the last repeats the first topic (alias already known)
            int[] sizes = {4096, 300, 100, 70_000, 2048};
            int[] qos = {1, 2, 0, 2, 1};
            List<byte[]> sent = new ArrayList<>();
            for (int i = 0; i < sizes.length; i++) {
                byte[] payload = bytes(sizes[i], i);
                sent.add(payload);
                MqttMessage m = new MqttMessage(payload);
                m.setQos(qos[i]);
                MqttProperties p = new MqttProperties();
                p.setMessageExpiryInterval(3600L);
                p.setUserProperties(List.of(new UserProperty("n", String.valueOf(i))));
                m.setProperties(p);
                pub.publish(i == 4 ? "fan/0" : "fan/" + i, m);
            }

            // Paho hands a QoS 2 message over on PUBREL, so a later QoS 0 one may come first: compared as sets
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < sizes.length; i++) {
                expected.add((i == 4 ? "fan/0" : "fan/" + i) + " " + Base64.getEncoder().encodeToString(sent.get(i)));
            }
            List<String> atQos0 = new ArrayList<>();
            List<String> atQos2 = new ArrayList<>();
            List<String> withIdentifier = new ArrayList<>();
            for (int i = 0; i < sizes.length; i++) {
                PahoClient.Received a = v3qos0.next();
                atQos0.add(a.topic() + " " + Base64.getEncoder().encodeToString(a.message().getPayload()));
                assertThat(a.message().getQos()).isZero();
                PahoClient.Received b = v3qos2.next();
                atQos2.add(b.topic() + " " + Base64.getEncoder().encodeToString(b.message().getPayload()));
                assertThat(b.message().getQos()).isEqualTo(qos[Integer.parseInt(b.topic().substring(4))]);
                Paho5Client.Received r = withId.next();
                withIdentifier.add(r.topic() + " " + Base64.getEncoder().encodeToString(r.message().getPayload()));
                assertThat(r.message().getQos()).isEqualTo(Math.min(qos[Integer.parseInt(r.topic().substring(4))], 1));
                assertThat(r.properties().getMessageExpiryInterval()).isBetween(3590L, 3600L);
                assertThat(r.properties().getSubscriptionIdentifiers()).containsExactly(7);
                assertThat(r.properties().getUserProperties()).hasSize(1);
            }
            assertThat(atQos0).containsExactlyInAnyOrderElementsOf(expected);
            assertThat(atQos2).containsExactlyInAnyOrderElementsOf(expected);
            assertThat(withIdentifier).containsExactlyInAnyOrderElementsOf(expected);

            for (int i = 0; i < sizes.length; i++) { // the raw client sees the wire: QoS 0, in publishing order
                String topic = i == 4 ? "fan/0" : "fan/" + i;
                Publish p = withAlias.read(Publish.class);
                // [MQTT-3.3.2-12] the first message on a topic carries it with a new alias; a known topic only its alias
                assertThat(p.topic()).isEqualTo(i == 4 ? "" : topic);
                assertThat(p.properties().getInt(PropertyId.TOPIC_ALIAS)).isEqualTo(i == 4 ? 1 : i + 1);
                assertThat(p.payload()).isEqualTo(sent.get(i));
                assertThat(p.qos()).isEqualTo(QoS.AT_MOST_ONCE);
                assertThat(p.properties().getLong(PropertyId.MESSAGE_EXPIRY_INTERVAL)).isBetween(3590L, 3600L);
                assertThat(p.properties().contains(PropertyId.SUBSCRIPTION_IDENTIFIER)).isFalse();
            }
            // [MQTT-3.1.2-24] packets over the client's maximum are not sent to it: only the 300 B and 100 B ones
            List<String> small600 = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Paho5Client.Received r = smallPackets.next();
                small600.add(r.topic() + " " + Base64.getEncoder().encodeToString(r.message().getPayload()));
            }
            assertThat(small600).containsExactlyInAnyOrder(expected.get(1), expected.get(2));
            assertThat(smallPackets.poll(300)).isNull();
        }
    }

    @Test
    @DisplayName("many receivers of many large messages in a burst: all arrive whole and in order")
    void burstToManyReceivers() {
        List<PahoClient> subs = new ArrayList<>();
        try (PahoClient pub = PahoClient.connect(broker, "burst-pub", true)) {
            for (int i = 0; i < 8; i++) {
                subs.add(PahoClient.connect(broker, "burst-sub" + i, true).subscribe("burst/#", i % 3));
            }
            List<byte[]> sent = new ArrayList<>();
            for (int n = 0; n < 50; n++) {
                byte[] payload = bytes(1024 + n * 97, 100 + n); // from below the sharing threshold to above
                sent.add(payload);
                pub.publish("burst/" + n, payload, 1, false); // one QoS: QoS 0 deliveries never overtake QoS 1 ones
            }
            for (int s = 0; s < subs.size(); s++) { // subscription QoS 0, 1, 2: deliveries at QoS 0 and 1
                for (int n = 0; n < sent.size(); n++) {
                    byte[] got = subs.get(s).next().message().getPayload();
                    assertThat(got.length).as("subscriber %d, message %d: size", s, n)
                            .isEqualTo(sent.get(n).length);
                    assertThat(got).as("subscriber %d, message %d", s, n).isEqualTo(sent.get(n));
                }
            }
        } finally {
            subs.forEach(PahoClient::close);
        }
    }
}
