package io.ternmq.broker.it;

import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.PahoClient.Received;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.QoS;
import io.ternmq.codec.Will;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Will messages: published on abnormal close, keep-alive timeout and protocol errors; not after DISCONNECT. */
class WillTest {
    private TestBroker broker;

    @BeforeEach
    void start() {
        broker = TestBroker.start();
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    private static Connect withWill(String clientId, int keepAlive, QoS qos, boolean retain) {
        Will will = new Will("will/" + clientId, ("gone:" + clientId).getBytes(StandardCharsets.UTF_8), qos, retain,
                MqttProperties.EMPTY);
        return new Connect(MqttVersion.MQTT_3_1_1, clientId, true, keepAlive, null, null, will, MqttProperties.EMPTY);
    }

    @Test
    @DisplayName("[MQTT-3.1.2-8] the will is published when the network connection drops without DISCONNECT")
    void publishedOnAbnormalClose() {
        try (PahoClient watcher = PahoClient.connect(broker, "watcher", true)) {
            watcher.subscribe("will/#", 2);
            RawClient c = new RawClient(broker.port());
            c.send(withWill("dropper", 60, QoS.AT_LEAST_ONCE, false));
            c.read(Connack.class);
            c.close();
            Received r = watcher.next();
            assertThat(r.topic()).isEqualTo("will/dropper");
            assertThat(r.payload()).isEqualTo("gone:dropper");
            assertThat(r.message().getQos()).isEqualTo(1);
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-10] the will is not published after DISCONNECT")
    void notPublishedAfterDisconnect() {
        try (PahoClient watcher = PahoClient.connect(broker, "watcher", true)) {
            watcher.subscribe("will/#", 2);
            try (RawClient c = new RawClient(broker.port())) {
                c.send(withWill("polite", 60, QoS.AT_LEAST_ONCE, false));
                c.read(Connack.class);
                c.send(Disconnect.NORMAL);
                c.assertClosedByServer();
            }
            assertThat(watcher.poll(500)).isNull();
        }
    }

    @Test
    @DisplayName("the will is published on keep-alive timeout")
    void publishedOnKeepAliveTimeout() {
        try (PahoClient watcher = PahoClient.connect(broker, "watcher", true);
             RawClient c = new RawClient(broker.port())) {
            watcher.subscribe("will/#", 2);
            c.send(withWill("sleeper", 1, QoS.AT_MOST_ONCE, false));
            c.read(Connack.class);
            c.assertClosedByServer();
            assertThat(watcher.next().topic()).isEqualTo("will/sleeper");
        }
    }

    @Test
    @DisplayName("the will is published when the server closes the connection for a protocol error")
    void publishedOnProtocolError() {
        try (PahoClient watcher = PahoClient.connect(broker, "watcher", true);
             RawClient c = new RawClient(broker.port())) {
            watcher.subscribe("will/#", 2);
            c.send(withWill("violator", 60, QoS.AT_MOST_ONCE, false));
            c.read(Connack.class);
            c.sendHex("30 03 00 01"); // PUBLISH whose remaining length overruns its topic
            c.sendHex("00 00 00");    // reserved packet type 0
            c.assertClosedByServer();
            assertThat(watcher.next().topic()).isEqualTo("will/violator");
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.2-17] will retain is honoured: a retained will reaches later subscribers")
    void willRetain() {
        RawClient c = new RawClient(broker.port());
        c.send(withWill("retainer", 60, QoS.EXACTLY_ONCE, true));
        c.read(Connack.class);
        c.close();
        await().until(() -> broker.broker().router().retained().get("will/retainer") != null);
        try (PahoClient late = PahoClient.connect(broker, "late", true)) {
            late.subscribe("will/retainer", 2);
            Received r = late.next();
            assertThat(r.payload()).isEqualTo("gone:retainer");
            assertThat(r.message().isRetained()).isTrue();
            assertThat(r.message().getQos()).isEqualTo(2);
        }
    }

    @Test
    @DisplayName("the will of a connection that is taken over is published (MQTT 3.1.1)")
    void publishedOnTakeover() {
        try (PahoClient watcher = PahoClient.connect(broker, "watcher", true);
             RawClient first = new RawClient(broker.port());
             RawClient second = new RawClient(broker.port())) {
            watcher.subscribe("will/#", 1);
            first.send(withWill("twin", 60, QoS.AT_LEAST_ONCE, false));
            first.read(Connack.class);
            second.send(ConnectTest.connect(MqttVersion.MQTT_3_1_1, "twin", true, 60));
            second.read(Connack.class);
            first.assertClosedByServer();
            assertThat(watcher.next().topic()).isEqualTo("will/twin");
        }
    }

    @Test
    @DisplayName("Paho's last will is delivered when the Paho client dies")
    void pahoLastWill() throws Exception {
        try (PahoClient watcher = PahoClient.connect(broker, "watcher", true)) {
            watcher.subscribe("status/#", 1);
            org.eclipse.paho.client.mqttv3.MqttConnectOptions o = new org.eclipse.paho.client.mqttv3.MqttConnectOptions();
            o.setWill("status/device", "offline".getBytes(StandardCharsets.UTF_8), 1, false);
            PahoClient device = PahoClient.connect(broker, "device", o);
            device.client().disconnectForcibly(0, 0, false);
            Received r = watcher.next();
            assertThat(r.payload()).isEqualTo("offline");
            device.close();
        }
    }
}
