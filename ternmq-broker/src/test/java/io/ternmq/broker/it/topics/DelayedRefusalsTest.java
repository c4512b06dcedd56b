package io.ternmq.broker.it.topics;

import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.TestBroker;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Refused {@code $delayed/} PUBLISHes are counted; MQTT 3.1.1 publishers are acknowledged and the message dropped. */
class DelayedRefusalsTest {
    private TestBroker broker;

    @AfterEach
    void stop() {
        broker.close();
    }

    @Test
    @DisplayName("bad delays and a full store are counted (delayedRefused); 3.1.1 gets PUBACK, nothing is delivered")
    void refusalsCounted() {
        broker = TestBroker.start(b -> b.delayedPublish(true).maxDelayedMessages(1));
        try (Paho5Client v5 = Paho5Client.connect(broker, "v5-refused");
             PahoClient v3 = PahoClient.connect(broker, "v3-refused", true);
             PahoClient sub = PahoClient.connect(broker, "watch", true)) {
            sub.subscribe("t/#", 1);
            IMqttToken bad = v5.publish("$delayed/x/t/a", "bad", 1, false);
            assertThat(bad.getReasonCodes()).containsExactly(0x90);
            assertThat(v5.publish("$delayed/3600/t/b", "kept", 1, false).getReasonCodes()).containsExactly(0);
            assertThat(v5.publish("$delayed/1/t/c", "full", 1, false).getReasonCodes()).containsExactly(0x97);
            v3.publish("$delayed/99999999/t/d", "bad too", 1, false); // Paho waits for the PUBACK
            assertThat(broker.broker().metrics().delayedRefused.sum()).isEqualTo(3);
            await().atMost(Duration.ofSeconds(5)).until(() -> broker.broker().metrics().delayedStored.sum() == 1);
            assertThat(sub.poll(1_500)).as("nothing refused is delivered, the kept one waits").isNull();
            assertThat(broker.broker().service().delayed().size()).isEqualTo(1);
        }
    }

    @Test
    @DisplayName("without delayed_publish, $delayed/... is an ordinary topic")
    void offMeansOrdinaryTopic() {
        broker = TestBroker.start(b -> { });
        try (PahoClient sub = PahoClient.connect(broker, "plain-sub", true);
             PahoClient pub = PahoClient.connect(broker, "plain-pub", true)) {
            sub.subscribe("$delayed/#", 1);
            pub.publish("$delayed/5/t/x", "now", 1, false);
            assertThat(sub.next().topic()).isEqualTo("$delayed/5/t/x");
        }
        assertThat(broker.broker().service().delayed()).isNull();
    }
}
