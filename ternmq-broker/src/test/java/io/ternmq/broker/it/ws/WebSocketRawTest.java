package io.ternmq.broker.it.ws;

import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawWebSocket;
import io.ternmq.broker.testing.RawWebSocket.Response;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Pingreq;
import io.ternmq.codec.Pingresp;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Will;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * MQTT over WebSocket byte by byte (MQTT 5.0 §6, RFC 6455): the upgrade's checks, how frames carry the packet stream
 * both ways, and every kind of bad input, each closing only its own connection with the right HTTP status or close
 * code.
 */
class WebSocketRawTest {
    private TestBroker broker;

    private TestBroker start(Consumer<BrokerConfig.Builder> more) {
        broker = TestBroker.start(b -> {
            b.clearListeners().listener("127.0.0.1", 0, l -> l.webSocket(true));
            more.accept(b);
        });
        return broker;
    }

    private TestBroker start() {
        return start(b -> { });
    }

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private String wsUri() {
        return "ws://127.0.0.1:" + broker.port() + "/mqtt";
    }

    private static Connect connect(String clientId) {
        return new Connect(MqttVersion.MQTT_3_1_1, clientId, true, 60, null, null, null, MqttProperties.EMPTY);
    }

    private RawWebSocket upgraded(String... headers) {
        RawWebSocket ws = new RawWebSocket(broker.port());
        Response r = ws.upgrade("/mqtt", headers);
        assertThat(r.status()).as("upgrade answered %s", r).isEqualTo(101);
        return ws;
    }

    private RawWebSocket connected(String clientId) {
        RawWebSocket ws = upgraded();
        ws.sendPackets(connect(clientId));
        assertThat(ws.readPacket(Connack.class).reasonCode()).isZero();
        return ws;
    }

    @Test
    @DisplayName("[MQTT-6.0.0-3] [MQTT-6.0.0-4] the upgrade offering mqtt gets 101 with Sec-WebSocket-Protocol: mqtt, no extension even when permessage-deflate is offered")
    void upgradeSelectsMqtt() {
        start();
        try (RawWebSocket ws = new RawWebSocket(broker.port())) {
            Response r = ws.upgrade("/mqtt", "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits");
            assertThat(r.status()).isEqualTo(101);
            assertThat(r.headers()).containsEntry("sec-websocket-protocol", "mqtt")
                    .doesNotContainKey("sec-websocket-extensions");
            ws.sendPackets(connect("c"));
            assertThat(ws.readPacket(Connack.class).reasonCode()).isZero();
        }
    }

    @Test
    @DisplayName("subprotocols mqttv3.1, mqttv3.1.1 and mqttv5 are accepted as offered; no Sec-WebSocket-Protocol header is accepted too")
    void otherSubprotocols() {
        start();
        for (String offer : List.of("mqttv3.1", "mqttv3.1.1", "mqttv5", "chat, mqtt")) {
            try (RawWebSocket ws = new RawWebSocket(broker.port())) {
                Response r = ws.upgrade("/mqtt", "Sec-WebSocket-Protocol: " + offer);
                assertThat(r.status()).as(offer).isEqualTo(101);
                assertThat(r.headers().get("sec-websocket-protocol")).as(offer)
                        .isEqualTo(offer.equals("chat, mqtt") ? "mqtt" : offer);
            }
        }
        try (RawWebSocket ws = new RawWebSocket(broker.port())) {
            Response r = ws.upgrade("/mqtt", "Sec-WebSocket-Protocol:");
            assertThat(r.status()).isEqualTo(101);
            assertThat(r.headers()).doesNotContainKey("sec-websocket-protocol");
            ws.sendPackets(connect("noproto"));
            assertThat(ws.readPacket(Connack.class).reasonCode()).isZero();
        }
    }

    @Test
    @DisplayName("an offer of subprotocols none of which is MQTT's gets 400 and the connection closes")
    void foreignSubprotocol() {
        start();
        try (RawWebSocket ws = new RawWebSocket(broker.port())) {
            Response r = ws.upgrade("/mqtt", "Sec-WebSocket-Protocol: chat, superchat");
            assertThat(r.status()).isEqualTo(400);
            assertThat(r.body()).contains("mqtt");
            ws.assertClosedByServer(Duration.ofSeconds(5));
        }
    }

    @Test
    @DisplayName("Sec-WebSocket-Version 8, 7 or missing gets 426 with Sec-WebSocket-Version: 13")
    void otherVersions() {
        start();
        for (String version : List.of("8", "7", "")) {
            try (RawWebSocket ws = new RawWebSocket(broker.port())) {
                Response r = ws.upgrade("/mqtt", "Sec-WebSocket-Version: " + version);
                assertThat(r.status()).as("version '%s'", version).isEqualTo(426);
                assertThat(r.headers()).containsEntry("sec-websocket-version", "13");
                ws.assertClosedByServer(Duration.ofSeconds(5));
            }
        }
    }

    @Test
    @DisplayName("another path gets 404, a plain GET of the path 400, a POST 405; each closes; websocket_path moves the endpoint")
    void pathsAndPlainRequests() {
        start(b -> b.listener("127.0.0.1", 0, l -> l.webSocket(true).webSocketPath("/ws/broker")));
        try (RawWebSocket ws = new RawWebSocket(broker.port())) {
            assertThat(ws.upgrade("/other").status()).isEqualTo(404);
            ws.assertClosedByServer(Duration.ofSeconds(5));
        }
        try (RawWebSocket ws = new RawWebSocket(broker.port())) {
            Response r = ws.request("GET /mqtt HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(r.status()).isEqualTo(400);
            ws.assertClosedByServer(Duration.ofSeconds(5));
        }
        try (RawWebSocket ws = new RawWebSocket(broker.port())) {
            Response r = ws.request("POST /mqtt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
            assertThat(r.status()).isEqualTo(405);
            assertThat(r.headers()).containsEntry("allow", "GET");
        }
        try (RawWebSocket ws = new RawWebSocket(broker.port())) {
            Response r = ws.request("NOT HTTP AT ALL\r\n\r\n");
            assertThat(r.status()).isEqualTo(400);
        }
        int second = broker.broker().addresses().get(1).getPort();
        try (RawWebSocket ws = new RawWebSocket(second)) {
            assertThat(ws.upgrade("/mqtt").status()).isEqualTo(404);
        }
        try (RawWebSocket ws = new RawWebSocket(second)) {
            assertThat(ws.upgrade("/ws/broker?client=browser").status()).isEqualTo(101);
        }
    }

    @Test
    @DisplayName("an upgrade not completed within connect_timeout is closed")
    void handshakeTimeout() {
        start(b -> b.connectTimeoutSeconds(1));
        try (RawWebSocket ws = new RawWebSocket(broker.port())) {
            ws.send("GET /mqtt HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII)); // never finished
            ws.assertClosedByServer(Duration.ofSeconds(4));
        }
    }

    @Test
    @DisplayName("[MQTT-6.0.0-2] one packet over many frames (binary, then continuation frames) and many packets in one frame feed the decoder as one stream")
    void framingIn() {
        start();
        try (RawWebSocket ws = upgraded()) {
            byte[] connect = RawClient.encode(connect("split"), MqttVersion.MQTT_3_1_1);
            ws.sendFrame(RawWebSocket.BINARY, false, Arrays.copyOfRange(connect, 0, 1));
            ws.sendFrame(RawWebSocket.CONTINUATION, false, Arrays.copyOfRange(connect, 1, 5));
            ws.sendFrame(RawWebSocket.CONTINUATION, true, Arrays.copyOfRange(connect, 5, connect.length));
            assertThat(ws.readPacket(Connack.class).reasonCode()).isZero();
            // a packet split across two binary messages, then three packets in one frame
            byte[] ping = RawClient.encode(Pingreq.INSTANCE, MqttVersion.MQTT_3_1_1);
            ws.sendBinary(new byte[] {ping[0]});
            ws.sendBinary(new byte[] {ping[1]});
            assertThat(ws.readPacket()).isInstanceOf(Pingresp.class);
            ws.sendPackets(new Subscribe(1, List.of(new TopicSubscription("t/#", QoS.AT_LEAST_ONCE)),
                    MqttProperties.EMPTY), Pingreq.INSTANCE, Pingreq.INSTANCE);
            assertThat(ws.readPacket()).isInstanceOf(Suback.class);
            assertThat(ws.readPacket()).isInstanceOf(Pingresp.class);
            assertThat(ws.readPacket()).isInstanceOf(Pingresp.class);
        }
    }

    @Test
    @DisplayName("outgoing frames hold one whole packet each, also a PUBLISH whose payload is shared between receivers on one loop")
    void framingOut() {
        start(b -> b.ioThreads(1));
        RawWebSocket a = connected("sub-a");
        RawWebSocket b = connected("sub-b");
        try (a; b; PahoClient pub = PahoClient.connect(wsUri(), "pub",
                new org.eclipse.paho.client.mqttv3.MqttConnectOptions())) {
            for (RawWebSocket ws : List.of(a, b)) {
                ws.sendPackets(new Subscribe(1, List.of(new TopicSubscription("big/#", QoS.AT_LEAST_ONCE)),
                        MqttProperties.EMPTY));
                assertThat(ws.readPacket()).isInstanceOf(Suback.class);
            }
            byte[] small = "hello".getBytes(StandardCharsets.UTF_8);
            byte[] large = new byte[8192];
            new java.util.Random(1).nextBytes(large);
            pub.publish("big/small", small, 0, false);
            pub.publish("big/large", large, 1, false);
            for (RawWebSocket ws : List.of(a, b)) {
                Publish first = ws.readPacket(Publish.class);
                assertThat(first.payload()).isEqualTo(small);
                Publish second = ws.readPacket(Publish.class); // readPacket: exactly one packet in the frame
                assertThat(second.payload()).isEqualTo(large);
            }
        }
    }

    @Test
    @DisplayName("[MQTT-6.0.0-1] a text frame closes the connection with status 1003; the will is published; others stay")
    void textFrame() {
        start();
        try (PahoClient watcher = PahoClient.connect(wsUri(), "watcher", new org.eclipse.paho.client.mqttv3.MqttConnectOptions());
             RawWebSocket other = connected("other");
             RawWebSocket ws = upgraded()) {
            watcher.subscribe("will/#", 1);
            ws.sendPackets(withWill("texter"));
            assertThat(ws.readPacket(Connack.class).reasonCode()).isZero();
            ws.sendFrame(RawWebSocket.TEXT, true, "hello".getBytes(StandardCharsets.UTF_8));
            assertThat(ws.awaitCloseFrame()).isEqualTo(1003);
            ws.assertClosedByServer(Duration.ofSeconds(5));
            assertThat(watcher.next().payload()).isEqualTo("gone:texter");
            other.sendPackets(Pingreq.INSTANCE);
            assertThat(other.readPacket()).isInstanceOf(Pingresp.class);
        }
    }

    @Test
    @DisplayName("a frame larger than max_packet_size closes the connection with status 1009")
    void oversizedFrame() {
        start(b -> b.maxPacketSize(1000));
        try (RawWebSocket ws = connected("big")) {
            ws.sendBinary(new byte[1001]);
            assertThat(ws.awaitCloseFrame()).isEqualTo(1009);
            ws.assertClosedByServer(Duration.ofSeconds(5));
        }
        try (RawWebSocket ws = connected("fits")) {
            ws.sendPackets(Pingreq.INSTANCE);
            assertThat(ws.readPacket()).isInstanceOf(Pingresp.class);
        }
    }

    private static Connect withWill(String clientId) {
        Will will = new Will("will/" + clientId, ("gone:" + clientId).getBytes(StandardCharsets.UTF_8),
                QoS.AT_LEAST_ONCE, false, MqttProperties.EMPTY);
        return new Connect(MqttVersion.MQTT_3_1_1, clientId, true, 60, null, null, will, MqttProperties.EMPTY);
    }

    @Test
    @DisplayName("a close frame without DISCONNECT publishes the will; the server answers the close frame")
    void closeFramePublishesWill() {
        start();
        try (PahoClient watcher = PahoClient.connect(wsUri(), "watcher", new org.eclipse.paho.client.mqttv3.MqttConnectOptions()); RawWebSocket ws = upgraded()) {
            watcher.subscribe("will/#", 1);
            ws.sendPackets(withWill("leaver"));
            assertThat(ws.readPacket(Connack.class).reasonCode()).isZero();
            ws.sendFrame(RawWebSocket.CLOSE, true, new byte[] {0x03, (byte) 0xE8}); // 1000
            assertThat(ws.awaitCloseFrame()).isEqualTo(1000);
            ws.assertClosedByServer(Duration.ofSeconds(5));
            assertThat(watcher.next().payload()).isEqualTo("gone:leaver");
        }
    }

    @Test
    @DisplayName("DISCONNECT then close frame: no will; a ping frame gets a pong")
    void disconnectThenClose() {
        start();
        try (PahoClient watcher = PahoClient.connect(wsUri(), "watcher", new org.eclipse.paho.client.mqttv3.MqttConnectOptions()); RawWebSocket ws = upgraded()) {
            watcher.subscribe("will/#", 1);
            ws.sendPackets(withWill("polite"));
            assertThat(ws.readPacket(Connack.class).reasonCode()).isZero();
            ws.sendFrame(RawWebSocket.PING, true, new byte[] {1, 2});
            RawWebSocket.Frame pong = ws.readFrame();
            assertThat(pong.opcode()).isEqualTo(RawWebSocket.PONG);
            assertThat(pong.payload()).containsExactly(1, 2);
            ws.sendPackets(Disconnect.NORMAL);
            ws.sendFrame(RawWebSocket.CLOSE, true, new byte[] {0x03, (byte) 0xE8});
            ws.assertClosedByServer(Duration.ofSeconds(5));
            assertThat(watcher.poll(500)).isNull();
        }
    }

    @Test
    @DisplayName("[MQTT-4.13.1-1] a protocol violation: MQTT 5 DISCONNECT 0x82 in a frame of its own, then close frame 1002 (lingering close over WebSocket)")
    void brokerEndsTheConnection() {
        start();
        try (RawWebSocket ws = upgraded()) {
            ws.version(MqttVersion.MQTT_5);
            ws.sendPackets(new Connect(MqttVersion.MQTT_5, "v5", true, 60, null, null, null, MqttProperties.EMPTY));
            assertThat(ws.readPacket(Connack.class).reasonCode()).isZero();
            ws.sendPackets(new Connect(MqttVersion.MQTT_5, "v5", true, 60, null, null, null, MqttProperties.EMPTY));
            Disconnect d = ws.readPacket(Disconnect.class);
            assertThat(d.reasonCode()).isEqualTo(ReasonCode.PROTOCOL_ERROR);
            assertThat(ws.awaitCloseFrame()).isEqualTo(1002);
            ws.assertClosedByServer(Duration.ofSeconds(5));
        }
    }
    @Test
    @DisplayName("OutboundLimits over WebSocket: slow_consumer_policy disconnect cuts off a subscriber that stopped reading; others carry on")
    void slowConsumer() throws Exception {
        start(b -> b.maxOutboundBuffer(262_144).slowConsumerPolicy("disconnect"));
        java.net.Socket s = new java.net.Socket();
        s.setReceiveBufferSize(2048);
        s.connect(new java.net.InetSocketAddress("127.0.0.1", broker.port()), 5000);
        try (RawWebSocket stalled = new RawWebSocket(s); RawWebSocket publisher = connected("publisher");
             RawWebSocket good = connected("good")) {
            assertThat(stalled.upgrade("/mqtt").status()).isEqualTo(101);
            stalled.sendPackets(connect("stalled"));
            stalled.readPacket(Connack.class);
            stalled.sendPackets(new Subscribe(1, List.of(new TopicSubscription("flood/#", QoS.AT_MOST_ONCE)),
                    MqttProperties.EMPTY));
            stalled.readPacket(Suback.class);
            good.sendPackets(new Subscribe(1, List.of(new TopicSubscription("end", QoS.AT_MOST_ONCE)),
                    MqttProperties.EMPTY));
            good.readPacket(Suback.class);
            byte[] payload = new byte[8192];
            for (int i = 0; i < 3000 && broker.broker().metrics().slowConsumerDisconnects.sum() == 0; i++) {
                publisher.sendPackets(new Publish("flood/" + (i % 10), QoS.AT_MOST_ONCE, false, 0, payload));
            }
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                    .until(() -> broker.broker().metrics().slowConsumerDisconnects.sum() >= 1);
            publisher.sendPackets(new Publish("end", QoS.AT_MOST_ONCE, false, 0, "done".getBytes(StandardCharsets.UTF_8)));
            assertThat(good.readPacket(Publish.class).payload()).isEqualTo("done".getBytes(StandardCharsets.UTF_8));
            stalled.assertClosedByServer(Duration.ofSeconds(10));
        }
    }
}
