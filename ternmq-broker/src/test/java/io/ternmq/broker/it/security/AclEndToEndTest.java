package io.ternmq.broker.it.security;

import io.ternmq.broker.security.PasswordFile;
import io.ternmq.broker.security.PasswordHash;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.SecureBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An ACL file enforced through the protocol: SUBACK failure codes, denied publishes acknowledged and discarded (3.1.1)
 * or answered 0x87 (5.0), and wide subscriptions that never deliver a denied topic, through
 * {@code BrokerContext.authorizer()} as MqttConnection calls it.
 */
class AclEndToEndTest {
    @TempDir
    Path dir;
    SecureBroker broker;

    @BeforeEach
    void start() throws IOException {
        Path passwd = dir.resolve("passwd");
        PasswordFile pf = PasswordFile.empty();
        for (String u : List.of("alice", "admin")) {
            pf.put(new PasswordFile.Entry(u, PasswordHash.hash(u.toCharArray(), 1000), null));
        }
        pf.save(passwd);
        Path acl = dir.resolve("acl");
        Files.writeString(acl, String.join("\n",
                "user alice",
                "topic read sensors/#",
                "topic deny sensors/secret/#",
                "topic write sensors/alice/#",
                "user admin",
                "topic readwrite #",
                "pattern readwrite clients/%c/#", ""));
        broker = SecureBroker.fromConfig("auth_failure_delay 0", "listener 0 127.0.0.1", "password_file " + passwd,
                "acl_file " + acl);
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    private RawClient login(MqttVersion v, String user, String clientId) {
        RawClient c = new RawClient(broker.port()).version(v);
        c.send(new Connect(v, clientId, true, 60, user, user.getBytes(StandardCharsets.UTF_8), null,
                MqttProperties.EMPTY));
        assertThat(c.read(Connack.class).reasonCode()).isZero();
        return c;
    }

    private static List<Integer> subscribe(RawClient c, int id, String... filters) {
        c.send(new Subscribe(id, java.util.Arrays.stream(filters)
                .map(f -> new TopicSubscription(f, QoS.AT_LEAST_ONCE)).toList(), MqttProperties.EMPTY));
        return c.read(Suback.class).reasonCodes();
    }

    private static void publish(RawClient c, String topic, int id) {
        c.send(new Publish(topic, QoS.AT_LEAST_ONCE, false, id, topic.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    @DisplayName("SUBACK: allowed filters granted, denied ones 0x80 (3.1.1) / 0x87 (5.0)")
    void subscribeCodes() {
        try (RawClient v3 = login(MqttVersion.MQTT_3_1_1, "alice", "a3");
             RawClient v5 = login(MqttVersion.MQTT_5, "alice", "a5")) {
            assertThat(subscribe(v3, 1, "sensors/#", "sensors/secret/#", "other/#"))
                    .containsExactly(1, ReasonCode.V3_SUBACK_FAILURE, ReasonCode.V3_SUBACK_FAILURE);
            assertThat(subscribe(v5, 1, "sensors/+/t", "sensors/secret/x", "#"))
                    .containsExactly(1, ReasonCode.NOT_AUTHORIZED, ReasonCode.NOT_AUTHORIZED);
        }
    }

    @Test
    @DisplayName("a subscription to sensors/# never delivers sensors/secret/...")
    void wideSubscriptionFiltersDeniedTopics() {
        try (RawClient alice = login(MqttVersion.MQTT_3_1_1, "alice", "alice");
             RawClient admin = login(MqttVersion.MQTT_3_1_1, "admin", "admin")) {
            assertThat(subscribe(alice, 1, "sensors/#")).containsExactly(1);
            publish(admin, "sensors/secret/key", 1);
            admin.read(Puback.class);
            publish(admin, "sensors/kitchen/t", 2);
            admin.read(Puback.class);
            MqttPacket first = alice.read();
            assertThat(first).isInstanceOf(Publish.class);
            assertThat(((Publish) first).topic()).isEqualTo("sensors/kitchen/t");
        }
    }

    @Test
    @DisplayName("a denied publish: 3.1.1 acknowledged and discarded, 5.0 PUBACK 0x87")
    void deniedPublish() {
        try (RawClient admin = login(MqttVersion.MQTT_3_1_1, "admin", "admin");
             RawClient v3 = login(MqttVersion.MQTT_3_1_1, "alice", "a3");
             RawClient v5 = login(MqttVersion.MQTT_5, "alice", "a5")) {
            assertThat(subscribe(admin, 1, "#")).containsExactly(1);
            publish(v3, "elsewhere", 7);
            assertThat(v3.read(Puback.class).packetId()).isEqualTo(7);
            publish(v5, "elsewhere", 8);
            Puback ack = v5.read(Puback.class);
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.NOT_AUTHORIZED);
            publish(v3, "sensors/alice/t", 9);
            v3.read(Puback.class);
            Publish delivered = admin.read(Publish.class);
            assertThat(delivered.topic()).as("the denied ones were discarded").isEqualTo("sensors/alice/t");
            admin.assertSilentFor(Duration.ofMillis(300));
        }
    }

    @Test
    @DisplayName("patterns: %c gives each client its own tree")
    void clientIdPattern() {
        try (RawClient c = login(MqttVersion.MQTT_3_1_1, "alice", "dev-1")) {
            assertThat(subscribe(c, 1, "clients/dev-1/#", "clients/dev-2/#"))
                    .containsExactly(1, ReasonCode.V3_SUBACK_FAILURE);
        }
    }
}
