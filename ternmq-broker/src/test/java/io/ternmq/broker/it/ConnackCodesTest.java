package io.ternmq.broker.it;

import io.ternmq.broker.security.AuthRequest;
import io.ternmq.broker.security.AuthResult;
import io.ternmq.broker.security.Authenticator;
import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Pingreq;
import io.ternmq.codec.Pingresp;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * CONNACK return codes 0x03, 0x04 and 0x05 and the SUBACK failure code, through the broker's extension points
 * (an authenticator, max_connections, max_subscriptions_per_client).
 */
class ConnackCodesTest {

    /** Accepts user "good" with password "secret", refuses user "banned", reports bad credentials otherwise. */
    private static final class UserTable implements Authenticator {
        private final ScheduledExecutorService slowBackend = Executors.newSingleThreadScheduledExecutor();

        @Override
        public CompletionStage<AuthResult> authenticate(AuthRequest r) {
            // answer from another thread after a delay, as a remote backend would
            CompletableFuture<AuthResult> f = new CompletableFuture<>();
            if ("silent".equals(r.username())) {
                return f; // never answers
            }
            slowBackend.schedule(() -> {
                try {
                    f.complete(decide(r));
                } catch (RuntimeException e) {
                    f.completeExceptionally(e);
                }
            }, 50, TimeUnit.MILLISECONDS);
            return f;
        }

        private static AuthResult decide(AuthRequest r) {
            if ("banned".equals(r.username())) {
                return AuthResult.NOT_AUTHORIZED;
            }
            if ("down".equals(r.username())) {
                throw new IllegalStateException("backend down");
            }
            boolean ok = "good".equals(r.username()) && r.password() != null
                    && "secret".equals(new String(r.password(), StandardCharsets.UTF_8));
            return ok ? AuthResult.ACCEPTED : AuthResult.BAD_USER_NAME_OR_PASSWORD;
        }
    }

    private static Connect login(String clientId, String user, String password) {
        return new Connect(MqttVersion.MQTT_3_1_1, clientId, true, 60, user,
                password == null ? null : password.getBytes(StandardCharsets.UTF_8), null, MqttProperties.EMPTY);
    }

    private static int connackFor(TestBroker broker, Connect connect) {
        try (RawClient c = new RawClient(broker.port())) {
            c.send(connect);
            int code = c.read(Connack.class).reasonCode();
            if (code != 0) {
                c.assertClosedByServer();
            }
            return code;
        }
    }

    @Test
    @DisplayName("[MQTT-3.2.2-5] CONNACK 0x04 bad user name or password, 0x05 not authorized, 0x00 accepted")
    void authenticationCodes() {
        UserTable users = new UserTable();
        try (TestBroker broker = TestBroker.start(b -> { }, users)) {
            assertThat(connackFor(broker, login("a", "good", "secret"))).isEqualTo(ReasonCode.V3_ACCEPTED);
            assertThat(connackFor(broker, login("b", "good", "wrong")))
                    .isEqualTo(ReasonCode.V3_BAD_USER_NAME_OR_PASSWORD);
            assertThat(connackFor(broker, login("c", null, null))).isEqualTo(ReasonCode.V3_BAD_USER_NAME_OR_PASSWORD);
            assertThat(connackFor(broker, login("d", "banned", "x"))).isEqualTo(ReasonCode.V3_NOT_AUTHORIZED);
            // a backend that fails makes the broker answer "server unavailable", never accept
            assertThat(connackFor(broker, login("e", "down", "x"))).isEqualTo(ReasonCode.V3_SERVER_UNAVAILABLE);
        } finally {
            users.slowBackend.shutdownNow();
        }
    }

    @Test
    @DisplayName("an authenticator that never answers gets CONNACK 0x03 after connect_timeout, not a hung connection")
    void authenticationTimeout() {
        UserTable users = new UserTable();
        try (TestBroker broker = TestBroker.start(b -> b.connectTimeoutSeconds(1), users)) {
            long t0 = System.nanoTime();
            assertThat(connackFor(broker, login("f", "silent", "x"))).isEqualTo(ReasonCode.V3_SERVER_UNAVAILABLE);
            assertThat((System.nanoTime() - t0) / 1_000_000).isBetween(900L, 4000L);
        } finally {
            users.slowBackend.shutdownNow();
        }
    }

    @Test
    @DisplayName("packets sent right after CONNECT wait for the (slow) authentication and are then processed")
    void pipelinedPacketsWaitForAuthentication() {
        UserTable users = new UserTable();
        try (TestBroker broker = TestBroker.start(b -> { }, users); RawClient c = new RawClient(broker.port())) {
            c.send(login("pipeliner", "good", "secret"));
            c.send(new Subscribe(3, List.of(new TopicSubscription("p/t", QoS.AT_LEAST_ONCE)), MqttProperties.EMPTY));
            c.send(Pingreq.INSTANCE);
            assertThat(c.read(Connack.class).reasonCode()).isZero();
            assertThat(c.read(Suback.class).reasonCodes()).containsExactly(1);
            assertThat(c.read()).isEqualTo(Pingresp.INSTANCE);
        } finally {
            users.slowBackend.shutdownNow();
        }
    }

    @Test
    @DisplayName("CONNACK 0x03 server unavailable once max_connections clients are connected; a place frees on close")
    void maxConnections() {
        try (TestBroker broker = TestBroker.start(b -> b.maxConnections(2))) {
            try (PahoClient one = PahoClient.connect(broker, "one", true);
                 PahoClient two = PahoClient.connect(broker, "two", true)) {
                assertThat(connackFor(broker, ConnectTest.connect(MqttVersion.MQTT_3_1_1, "three", true, 60)))
                        .isEqualTo(ReasonCode.V3_SERVER_UNAVAILABLE);
                assertThat(one.isConnected()).isTrue();
                assertThat(two.isConnected()).isTrue();
            }
            org.awaitility.Awaitility.await().untilAsserted(() ->
                    assertThat(connackFor(broker, ConnectTest.connect(MqttVersion.MQTT_3_1_1, "four", true, 60)))
                            .isEqualTo(ReasonCode.V3_ACCEPTED));
        }
    }

    @Test
    @DisplayName("[MQTT-3.9.3-2] SUBACK 0x80 for a filter refused by max_subscriptions_per_client; the others are granted")
    void subackFailureCode() {
        try (TestBroker broker = TestBroker.start(b -> b.maxSubscriptionsPerClient(2));
             RawClient c = new RawClient(broker.port())) {
            c.send(ConnectTest.connect(MqttVersion.MQTT_3_1_1, "subs", true, 60));
            c.read(Connack.class);
            c.send(new Subscribe(1, List.of(new TopicSubscription("s/1", QoS.AT_LEAST_ONCE),
                    new TopicSubscription("s/2", QoS.EXACTLY_ONCE), new TopicSubscription("s/3", QoS.AT_MOST_ONCE),
                    new TopicSubscription("s/1", QoS.AT_MOST_ONCE)), MqttProperties.EMPTY));
            // the repeated s/1 replaces an existing subscription, so it is not refused
            assertThat(c.read(Suback.class).reasonCodes()).containsExactly(1, 2, ReasonCode.V3_SUBACK_FAILURE, 0);
        }
    }

    @Test
    @DisplayName("MQTT 3.1 has no SUBACK failure code: a refused subscription closes the connection instead")
    void mqtt31RefusalCloses() {
        try (TestBroker broker = TestBroker.start(b -> b.maxSubscriptionsPerClient(0));
             RawClient c = new RawClient(broker.port()).version(MqttVersion.MQTT_3_1)) {
            c.send(ConnectTest.connect(MqttVersion.MQTT_3_1, "old", true, 60));
            c.read(Connack.class);
            c.send(new Subscribe(1, List.of(new TopicSubscription("s/1", QoS.AT_LEAST_ONCE)), MqttProperties.EMPTY));
            c.assertClosedByServer();
        }
    }
}
