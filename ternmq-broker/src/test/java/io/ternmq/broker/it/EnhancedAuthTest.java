package io.ternmq.broker.it;

import io.ternmq.broker.security.AnonymousAuthenticator;
import io.ternmq.broker.security.AuthExchange;
import io.ternmq.broker.security.AuthRequest;
import io.ternmq.broker.security.AuthStep;
import io.ternmq.broker.security.EnhancedAuthenticator;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Auth;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Pingreq;
import io.ternmq.codec.Pingresp;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The MQTT 5 AUTH flow (section 4.12) through the enhanced authenticator extension point, with a small
 * challenge-response method defined here: the server sends a nonce, the client answers with it reversed. (The real
 * mechanism, SCRAM-SHA-256, plugs into the same point.)
 */
class EnhancedAuthTest {
    private static final String METHOD = "TEST-REVERSE";

    /** Challenge: "nonce-N"; expected answer: the challenge reversed; success data "welcome". */
    private static final class ReverseChallenge implements EnhancedAuthenticator {
        private int counter;

        @Override
        public String method() {
            return METHOD;
        }

        @Override
        public AuthExchange start(AuthRequest request) {
            String nonce = "nonce-" + (++counter);
            return new AuthExchange() {
                private boolean challenged;

                @Override
                public CompletionStage<AuthStep> respond(byte[] clientData) {
                    if (!challenged) {
                        challenged = true;
                        return CompletableFuture.completedFuture(AuthStep.challenge(bytes(nonce)));
                    }
                    String expected = new StringBuilder(nonce).reverse().toString();
                    boolean ok = clientData != null && expected.equals(new String(clientData, StandardCharsets.UTF_8));
                    // answer from another thread, as a real store would
                    return CompletableFuture.supplyAsync(() -> ok ? AuthStep.success(bytes("welcome"))
                            : AuthStep.failure(ReasonCode.NOT_AUTHORIZED));
                }
            };
        }
    }

    private TestBroker broker;

    @BeforeEach
    void start() {
        broker = TestBroker.start(b -> { }, new AnonymousAuthenticator(), List.of(new ReverseChallenge()));
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static MqttProperties auth(String method, String data) {
        MqttProperties.Builder b = MqttProperties.builder().set(PropertyId.AUTHENTICATION_METHOD, method);
        if (data != null) {
            b.set(PropertyId.AUTHENTICATION_DATA, bytes(data));
        }
        return b.build();
    }

    private RawClient client() {
        return new RawClient(broker.port()).version(MqttVersion.MQTT_5);
    }

    private static Connect connect(String clientId, MqttProperties props) {
        return new Connect(MqttVersion.MQTT_5, clientId, true, 60, null, null, null, props);
    }

    /** Runs the exchange to its challenge. @return the challenge */
    private static String challenged(RawClient c) {
        Auth challenge = c.read(Auth.class);
        assertThat(challenge.reasonCode()).isEqualTo(ReasonCode.CONTINUE_AUTHENTICATION);
        assertThat(challenge.properties().getString(PropertyId.AUTHENTICATION_METHOD)).isEqualTo(METHOD);
        return text(challenge.properties().getBinary(PropertyId.AUTHENTICATION_DATA));
    }

    private static String reversed(String s) {
        return new StringBuilder(s).reverse().toString();
    }

    @Test
    @DisplayName("[MQTT-4.12.0-1] an unsupported Authentication Method gets CONNACK 0x8C and the connection closes")
    void unsupportedMethod() {
        try (RawClient c = client()) {
            c.send(connect("u", auth("NO-SUCH-METHOD", null)));
            assertThat(c.read(Connack.class).reasonCode()).isEqualTo(ReasonCode.BAD_AUTHENTICATION_METHOD);
            c.assertClosedByServer();
        }
    }

    @Test
    @DisplayName("[MQTT-4.12.0-2][MQTT-4.12.0-5] challenge in AUTH 0x18, answer in AUTH 0x18, CONNACK 0 with method and data")
    void successfulExchange() {
        try (RawClient c = client()) {
            c.send(connect("ok", auth(METHOD, "hello")));
            String nonce = challenged(c);
            c.send(new Auth(ReasonCode.CONTINUE_AUTHENTICATION, auth(METHOD, reversed(nonce))));
            Connack ack = c.read(Connack.class);
            assertThat(ack.reasonCode()).isZero();
            assertThat(ack.properties().getString(PropertyId.AUTHENTICATION_METHOD)).isEqualTo(METHOD);
            assertThat(text(ack.properties().getBinary(PropertyId.AUTHENTICATION_DATA))).isEqualTo("welcome");
            c.send(Pingreq.INSTANCE);
            assertThat(c.read()).isEqualTo(Pingresp.INSTANCE);
        }
    }

    @Test
    @DisplayName("a wrong answer gets CONNACK with the authenticator's reason code (0x87) and the connection closes; "
            + "it counts as a failed authentication ($SYS, /metrics)")
    void failedExchange() {
        try (RawClient c = client()) {
            c.send(connect("bad", auth(METHOD, null)));
            challenged(c);
            c.send(new Auth(ReasonCode.CONTINUE_AUTHENTICATION, auth(METHOD, "wrong")));
            assertThat(c.read(Connack.class).reasonCode()).isEqualTo(ReasonCode.NOT_AUTHORIZED);
            c.assertClosedByServer();
        }
        assertThat(broker.broker().metrics().authFailed.sum()).isEqualTo(1);
    }

    @Test
    @DisplayName("packets sent during the exchange wait for CONNACK, then are processed")
    void packetsHeldDuringExchange() {
        try (RawClient c = client()) {
            c.send(connect("held", auth(METHOD, null)));
            String nonce = challenged(c);
            c.send(new Subscribe(4, List.of(new TopicSubscription("x/y", QoS.AT_LEAST_ONCE)), MqttProperties.EMPTY));
            c.send(new Auth(ReasonCode.CONTINUE_AUTHENTICATION, auth(METHOD, reversed(nonce))));
            assertThat(c.read(Connack.class).reasonCode()).isZero();
            assertThat(c.read(Suback.class).packetId()).isEqualTo(4);
        }
    }

    @Test
    @DisplayName("[MQTT-4.12.1-1] re-authentication: AUTH 0x19, challenge 0x18, answer 0x18, AUTH 0x00; the connection stays")
    void reauthentication() {
        try (RawClient c = client()) {
            c.send(connect("re", auth(METHOD, null)));
            c.send(new Auth(ReasonCode.CONTINUE_AUTHENTICATION, auth(METHOD, reversed(challenged(c)))));
            assertThat(c.read(Connack.class).reasonCode()).isZero();
            c.send(new Auth(ReasonCode.RE_AUTHENTICATE, auth(METHOD, null)));
            String nonce = challenged(c);
            c.send(new Auth(ReasonCode.CONTINUE_AUTHENTICATION, auth(METHOD, reversed(nonce))));
            Auth done = c.read(Auth.class);
            assertThat(done.reasonCode()).isEqualTo(ReasonCode.SUCCESS);
            c.send(Pingreq.INSTANCE);
            assertThat(c.read()).isEqualTo(Pingresp.INSTANCE);
        }
    }

    @Test
    @DisplayName("a failed re-authentication ends with DISCONNECT carrying the reason code")
    void failedReauthentication() {
        try (RawClient c = client()) {
            c.send(connect("re2", auth(METHOD, null)));
            c.send(new Auth(ReasonCode.CONTINUE_AUTHENTICATION, auth(METHOD, reversed(challenged(c)))));
            c.read(Connack.class);
            c.send(new Auth(ReasonCode.RE_AUTHENTICATE, auth(METHOD, null)));
            challenged(c);
            c.send(new Auth(ReasonCode.CONTINUE_AUTHENTICATION, auth(METHOD, "wrong")));
            assertThat(c.read(Disconnect.class).reasonCode()).isEqualTo(ReasonCode.NOT_AUTHORIZED);
            c.assertClosedByServer();
        }
    }

    @Test
    @DisplayName("[MQTT-4.12.0-6] AUTH from a client that connected without a method is a protocol error (0x82)")
    void authWithoutMethod() {
        try (RawClient c = client()) {
            c.send(connect("plain", MqttProperties.EMPTY));
            c.read(Connack.class);
            c.send(new Auth(ReasonCode.RE_AUTHENTICATE, auth(METHOD, null)));
            assertThat(c.read(Disconnect.class).reasonCode()).isEqualTo(ReasonCode.PROTOCOL_ERROR);
            c.assertClosedByServer();
        }
    }

    @Test
    @DisplayName("[MQTT-4.12.1-2] re-authentication with another method is a protocol error (0x82)")
    void reauthenticationWithOtherMethod() {
        try (RawClient c = client()) {
            c.send(connect("other", auth(METHOD, null)));
            c.send(new Auth(ReasonCode.CONTINUE_AUTHENTICATION, auth(METHOD, reversed(challenged(c)))));
            c.read(Connack.class);
            c.send(new Auth(ReasonCode.RE_AUTHENTICATE, auth("OTHER", null)));
            assertThat(c.read(Disconnect.class).reasonCode()).isEqualTo(ReasonCode.PROTOCOL_ERROR);
        }
    }
}
