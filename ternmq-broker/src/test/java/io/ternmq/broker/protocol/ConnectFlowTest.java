package io.ternmq.broker.protocol;

import io.ternmq.broker.security.AuthResult;
import io.ternmq.broker.security.Authorizer;
import io.ternmq.broker.security.ClientIdentity;
import io.ternmq.codec.Auth;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Pingreq;
import io.ternmq.codec.Pingresp;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Will;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link ConnectFlow} through a fake channel: what CONNACK each CONNECT gets, and what the connection becomes. */
class ConnectFlowTest {

    static Connect connect(MqttVersion v, String clientId, boolean clean, int keepAlive, MqttProperties props) {
        return new Connect(v, clientId, clean, keepAlive, null, null, null, props);
    }

    @Test
    @DisplayName("3.1.1 and 5.0 CONNECTs are accepted; the 5.0 CONNACK announces the broker's limits")
    void accepted() {
        try (ProtocolHarness h = new ProtocolHarness(b -> b.receiveMaximum(50).maxPacketSize(4096))) {
            ProtocolHarness.FakeChannel v3 = h.open().send(connect(MqttVersion.MQTT_3_1_1, "a", true, 60,
                    MqttProperties.EMPTY));
            Connack ack3 = v3.next(Connack.class);
            assertThat(ack3.reasonCode()).isZero();
            assertThat(ack3.properties().isEmpty()).isTrue();
            ProtocolHarness.FakeChannel v5 = h.open().send(connect(MqttVersion.MQTT_5, "b", true, 60,
                    MqttProperties.EMPTY));
            Connack ack5 = v5.next(Connack.class);
            assertThat(ack5.reasonCode()).isZero();
            assertThat(ack5.properties().getInt(PropertyId.RECEIVE_MAXIMUM)).isEqualTo(50);
            assertThat(ack5.properties().getLong(PropertyId.MAXIMUM_PACKET_SIZE)).isEqualTo(4096L);
            assertThat(v5.version).isEqualTo(MqttVersion.MQTT_5);
            v5.send(Pingreq.INSTANCE);
            assertThat(v5.next()).isEqualTo(Pingresp.INSTANCE);
        }
    }

    @Test
    @DisplayName("an empty client identifier gets one assigned (5.0 is told it), or is refused where MQTT says so")
    void clientIdentifiers() {
        try (ProtocolHarness h = new ProtocolHarness(b -> b.autoIdPrefix("gen-"))) {
            Connack assigned = h.open().send(connect(MqttVersion.MQTT_5, "", true, 60, MqttProperties.EMPTY))
                    .next(Connack.class);
            assertThat(assigned.properties().getString(PropertyId.ASSIGNED_CLIENT_IDENTIFIER)).startsWith("gen-");
            ProtocolHarness.FakeChannel persistent = h.open().send(connect(MqttVersion.MQTT_3_1_1, "", false, 60,
                    MqttProperties.EMPTY));
            assertThat(persistent.next(Connack.class).reasonCode()).isEqualTo(ReasonCode.V3_IDENTIFIER_REJECTED);
            persistent.awaitClosed();
            ProtocolHarness.FakeChannel longId31 = h.open().send(connect(MqttVersion.MQTT_3_1, "x".repeat(24), true,
                    60, MqttProperties.EMPTY));
            assertThat(longId31.next(Connack.class).reasonCode()).isEqualTo(ReasonCode.V3_IDENTIFIER_REJECTED);
        }
        try (ProtocolHarness h = new ProtocolHarness(b -> b.allowZeroLengthClientId(false))) {
            assertThat(h.open().send(connect(MqttVersion.MQTT_5, "", true, 60, MqttProperties.EMPTY))
                    .next(Connack.class).reasonCode()).isEqualTo(ReasonCode.CLIENT_IDENTIFIER_NOT_VALID);
        }
    }

    @Test
    @DisplayName("keep alive above max_keepalive: 3.x refused (0x02), 5.0 told the Server Keep Alive")
    void keepAlive() {
        try (ProtocolHarness h = new ProtocolHarness(b -> b.maxKeepAlive(30))) {
            assertThat(h.open().send(connect(MqttVersion.MQTT_3_1_1, "k3", true, 60, MqttProperties.EMPTY))
                    .next(Connack.class).reasonCode()).isEqualTo(ReasonCode.V3_IDENTIFIER_REJECTED);
            Connack ack = h.open().send(connect(MqttVersion.MQTT_5, "k5", true, 60, MqttProperties.EMPTY))
                    .next(Connack.class);
            assertThat(ack.reasonCode()).isZero();
            assertThat(ack.properties().getInt(PropertyId.SERVER_KEEP_ALIVE)).isEqualTo(30);
        }
    }

    @Test
    @DisplayName("a will the broker cannot honour is refused with 5.0's code for it, 3.x as not authorized")
    void willChecks() {
        try (ProtocolHarness h = new ProtocolHarness(b -> b.maxQos(1))) {
            Will qos2 = new Will("w", "bye".getBytes(StandardCharsets.UTF_8), QoS.EXACTLY_ONCE, false,
                    MqttProperties.EMPTY);
            Connect v5 = new Connect(MqttVersion.MQTT_5, "w5", true, 60, null, null, qos2, MqttProperties.EMPTY);
            assertThat(h.open().send(v5).next(Connack.class).reasonCode()).isEqualTo(ReasonCode.QOS_NOT_SUPPORTED);
            Connect v3 = new Connect(MqttVersion.MQTT_3_1_1, "w3", true, 60, null, null, qos2, MqttProperties.EMPTY);
            assertThat(h.open().send(v3).next(Connack.class).reasonCode()).isEqualTo(ReasonCode.V3_NOT_AUTHORIZED);
        }
    }

    @Test
    @DisplayName("refused credentials: CONNACK 0x05 (3.x) / 0x87 (5.0), then the close; the will needs publish rights")
    void authentication() {
        Authorizer noWills = new Authorizer() {
            @Override
            public CompletionStage<Boolean> mayPublish(ClientIdentity client, String topic) {
                return CompletableFuture.completedFuture(!topic.startsWith("forbidden/"));
            }

            @Override
            public CompletionStage<Boolean> maySubscribe(ClientIdentity client, String filter) {
                return CompletableFuture.completedFuture(true);
            }
        };
        try (ProtocolHarness h = new ProtocolHarness(b -> { },
                request -> CompletableFuture.supplyAsync(() -> "good".equals(request.username())
                        ? AuthResult.ACCEPTED : AuthResult.NOT_AUTHORIZED), noWills)) {
            ProtocolHarness.FakeChannel bad3 = h.open().send(new Connect(MqttVersion.MQTT_3_1_1, "b3", true, 60,
                    "mallory", null, null, MqttProperties.EMPTY));
            assertThat(bad3.next(Connack.class).reasonCode()).isEqualTo(ReasonCode.V3_NOT_AUTHORIZED);
            bad3.awaitClosed();
            ProtocolHarness.FakeChannel bad5 = h.open().send(new Connect(MqttVersion.MQTT_5, "b5", true, 60,
                    "mallory", null, null, MqttProperties.EMPTY));
            assertThat(bad5.next(Connack.class).reasonCode()).isEqualTo(ReasonCode.NOT_AUTHORIZED);
            Will forbidden = new Will("forbidden/w", new byte[] {1}, QoS.AT_MOST_ONCE, false, MqttProperties.EMPTY);
            ProtocolHarness.FakeChannel badWill = h.open().send(new Connect(MqttVersion.MQTT_5, "bw", true, 60,
                    "good", null, forbidden, MqttProperties.EMPTY));
            assertThat(badWill.next(Connack.class).reasonCode()).isEqualTo(ReasonCode.NOT_AUTHORIZED);
            ProtocolHarness.FakeChannel good = h.open().send(new Connect(MqttVersion.MQTT_5, "g", true, 60, "good",
                    null, null, MqttProperties.EMPTY));
            assertThat(good.next(Connack.class).reasonCode()).isZero();
            assertThat(h.metrics.connectsRefused.sum()).isEqualTo(3);
        }
    }

    @Test
    @DisplayName("packets sent before CONNACK wait for it; a second CONNECT is a protocol error, counted once")
    void beforeConnack() {
        CompletableFuture<AuthResult> answer = new CompletableFuture<>();
        try (ProtocolHarness h = new ProtocolHarness(b -> { }, request -> answer, Authorizer.ALLOW_ALL)) {
            ProtocolHarness.FakeChannel c = h.open().send(connect(MqttVersion.MQTT_5, "early", true, 60,
                    MqttProperties.EMPTY));
            c.send(Pingreq.INSTANCE);
            assertThat(c.available()).isZero();
            assertThat(c.autoRead).as("reading paused while authenticating").isFalse();
            answer.complete(AuthResult.ACCEPTED);
            assertThat(c.next(Connack.class).reasonCode()).isZero();
            assertThat(c.next()).isEqualTo(Pingresp.INSTANCE);
            c.send(connect(MqttVersion.MQTT_5, "early", true, 60, MqttProperties.EMPTY));
            assertThat(c.next(io.ternmq.codec.Disconnect.class).reasonCode()).isEqualTo(ReasonCode.PROTOCOL_ERROR);
            c.awaitClosed();
            assertThat(h.metrics.protocolViolations.sum()).isEqualTo(1);
        }
    }

    @Test
    @DisplayName("enhanced authentication with a method nobody offers: CONNACK 0x8C; AUTH without it: 0x82")
    void enhancedAuthentication() {
        try (ProtocolHarness h = new ProtocolHarness(b -> { })) {
            ProtocolHarness.FakeChannel c = h.open().send(connect(MqttVersion.MQTT_5, "e", true, 60,
                    MqttProperties.builder().set(PropertyId.AUTHENTICATION_METHOD, "NOPE").build()));
            assertThat(c.next(Connack.class).reasonCode()).isEqualTo(ReasonCode.BAD_AUTHENTICATION_METHOD);
            ProtocolHarness.FakeChannel plain = h.open().send(connect(MqttVersion.MQTT_5, "p", true, 60,
                    MqttProperties.EMPTY));
            assertThat(plain.next(Connack.class).reasonCode()).isZero();
            plain.send(new Auth(ReasonCode.RE_AUTHENTICATE, MqttProperties.builder()
                    .set(PropertyId.AUTHENTICATION_METHOD, "SCRAM-SHA-256").build()));
            assertThat(plain.next(io.ternmq.codec.Disconnect.class).reasonCode())
                    .isEqualTo(ReasonCode.PROTOCOL_ERROR);
        }
    }
}
