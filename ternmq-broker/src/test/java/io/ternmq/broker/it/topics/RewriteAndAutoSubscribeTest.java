package io.ternmq.broker.it.topics;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5PubAckException;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import io.ternmq.broker.security.PasswordHash;
import io.ternmq.broker.testing.BrokerProcess;
import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.PahoClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code topic_rewrite} and {@code auto_subscribe} in one broker process started from a configuration file with a
 * password file and ACLs, driven by Paho (3.1.1 and 5) and the HiveMQ client (docs/topics.md). The tests share the
 * broker and use topics of their own.
 */
class RewriteAndAutoSubscribeTest {
    private static BrokerProcess broker;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        broker = BrokerProcess.prepare();
        Path dir = broker.workDir();
        StringBuilder passwd = new StringBuilder();
        for (String user : List.of("alice", "bob", "carol")) {
            passwd.append(user).append(':').append(PasswordHash.hash((user + "-pw").toCharArray(), 1000))
                    .append('\n');
        }
        Files.writeString(dir.resolve("passwd"), passwd.toString());
        Files.writeString(dir.resolve("acl"), """
                user alice
                topic write legacy/#
                topic read sensors/+/temperature
                topic readwrite old/#
                topic read new/#
                topic read view/#
                topic write later/#
                user bob
                topic readwrite #
                user carol
                topic read inbox/#
                pattern read inbox/%c
                pattern read users/%u/#
                """);
        Files.writeString(dir.resolve("ternmq.conf"), """
                allow_anonymous false
                password_file passwd
                acl_file acl
                delayed_publish true
                # rewrite rules, first match wins
                topic_rewrite publish legacy/+/temp ^legacy/([^/]+)/temp$ sensors/$1/temperature
                topic_rewrite all old/# ^old/(.*)$ new/$1
                topic_rewrite publish later/+ ^later/(.+)$ $delayed/1/sensors/$1/late
                topic_rewrite subscribe view/all ^view/all$ sensors/#
                topic_rewrite subscribe view/+ ^view/(.+)$ sensors/$1/temperature
                auto_subscribe inbox/%c 1
                auto_subscribe users/%u/# 2
                auto_subscribe secret/#
                """);
        broker.start("-c", "ternmq.conf");
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    @AfterEach
    void closeClients() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private PahoClient paho(String user, String clientId) {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setUserName(user);
        o.setPassword((user + "-pw").toCharArray());
        PahoClient c = PahoClient.connect(broker.uri(), clientId, o);
        closeables.add(c);
        return c;
    }

    private Mqtt5BlockingClient hivemq(String user, String clientId) {
        Mqtt5BlockingClient c = Mqtt5Client.builder().identifier(clientId).serverHost("127.0.0.1")
                .serverPort(broker.port()).buildBlocking();
        c.connectWith().simpleAuth().username(user).password((user + "-pw").getBytes(StandardCharsets.UTF_8))
                .applySimpleAuth().send();
        closeables.add(() -> {
            if (c.getState().isConnected()) {
                c.disconnect();
            }
        });
        return c;
    }

    private static int pubAckCode(Mqtt5BlockingClient c, String topic, String payload) {
        try {
            Mqtt5PublishResult r = c.publishWith().topic(topic).qos(MqttQos.AT_LEAST_ONCE)
                    .payload(payload.getBytes(StandardCharsets.UTF_8)).send();
            return ((Mqtt5PublishResult.Mqtt5Qos1Result) r).getPubAck().getReasonCode().getCode();
        } catch (Mqtt5PubAckException e) {
            return e.getMqttMessage().getReasonCode().getCode();
        }
    }

    @Test
    @DisplayName("topic_rewrite publish: legacy/kitchen/temp arrives on sensors/kitchen/temperature; authorization "
            + "was on what alice sent (she may not write sensors/#)")
    void publishRewrittenAuthorizedAsSent() {
        PahoClient sub = paho("bob", "rw-sub").subscribe("sensors/#", 1);
        Mqtt5BlockingClient alice = hivemq("alice", "rw-alice");
        assertThat(pubAckCode(alice, "legacy/kitchen/temp", "21.5")).isZero();
        PahoClient.Received r = sub.next();
        assertThat(r.topic()).isEqualTo("sensors/kitchen/temperature");
        assertThat(r.payload()).isEqualTo("21.5");
        assertThat(pubAckCode(alice, "sensors/kitchen/temperature", "22")).as("the target itself").isEqualTo(0x87);
        assertThat(sub.poll(500)).isNull();
    }

    @Test
    @DisplayName("topic_rewrite all: SUBSCRIBE old/x is subscribed as new/x and PUBLISH old/y lands on new/y, which "
            + "alice may not write herself; UNSUBSCRIBE old/x removes new/x")
    void allRewritesBothWays() throws Exception {
        PahoClient alice = paho("alice", "all-alice").subscribe("old/x", 1);
        Mqtt5BlockingClient bob = hivemq("bob", "all-bob");
        assertThat(pubAckCode(bob, "new/x", "direct")).isZero();
        assertThat(alice.next().topic()).isEqualTo("new/x");
        assertThat(pubAckCode(bob, "old/x", "via rewrite")).isZero();
        PahoClient.Received r = alice.next();
        assertThat(r.topic()).isEqualTo("new/x");
        assertThat(r.payload()).isEqualTo("via rewrite");

        PahoClient watcher = paho("bob", "all-watcher").subscribe("new/y", 1);
        Mqtt5BlockingClient alicePub = hivemq("alice", "all-alice-pub");
        assertThat(pubAckCode(alicePub, "old/y", "rewritten")).isZero();
        assertThat(watcher.next().topic()).isEqualTo("new/y");
        assertThat(pubAckCode(alicePub, "new/y", "direct")).as("not hers to write").isEqualTo(0x87);

        alice.client().unsubscribe("old/x");
        assertThat(pubAckCode(bob, "new/x", "after unsubscribe")).as("no subscriber left: 0x10").isEqualTo(0x10);
        assertThat(alice.poll(500)).isNull();
    }

    @Test
    @DisplayName("topic_rewrite subscribe: authorized as sent; view/all becomes sensors/#, which alice could not "
            + "subscribe herself, and delivers only what her ACL lets her read")
    void subscribeAuthorizedAsSent() throws Exception {
        Mqtt5BlockingClient bob = hivemq("bob", "view-bob");
        PahoClient alice = paho("alice", "view-alice");
        int[] granted = alice.client().subscribeWithResponse(new String[] {"sensors/#", "view/all"}, new int[] {1, 1})
                .getGrantedQos();
        assertThat(granted).containsExactly(0x80, 1);
        assertThat(pubAckCode(bob, "sensors/attic/humidity", "60")).isZero();
        assertThat(pubAckCode(bob, "sensors/attic/temperature", "25")).isZero();
        PahoClient.Received r = alice.next();
        assertThat(r.topic()).isEqualTo("sensors/attic/temperature");
        assertThat(alice.poll(500)).as("humidity is not hers to read").isNull();
    }

    @Test
    @DisplayName("topic_rewrite subscribe keeps $share/<group>/: $share/g/view/hall is a share of "
            + "sensors/hall/temperature")
    void sharedSubscriptionKeepsGroup() {
        PahoClient alice = paho("alice", "share-alice").subscribe("$share/g/view/hall", 1);
        Mqtt5BlockingClient bob = hivemq("bob", "share-bob");
        assertThat(pubAckCode(bob, "sensors/hall/temperature", "19")).isZero();
        PahoClient.Received r = alice.next();
        assertThat(r.topic()).isEqualTo("sensors/hall/temperature");
    }

    @Test
    @DisplayName("rewriting into $delayed/ works: later/boiler is released on sensors/boiler/late after 1 s")
    void rewriteIntoDelayed() {
        PahoClient sub = paho("bob", "late-sub").subscribe("sensors/+/late", 1);
        Mqtt5BlockingClient alice = hivemq("alice", "late-alice");
        long sent = System.currentTimeMillis();
        assertThat(pubAckCode(alice, "later/boiler", "hot")).isZero();
        PahoClient.Received r = sub.next();
        assertThat(r.topic()).isEqualTo("sensors/boiler/late");
        assertThat(System.currentTimeMillis() - sent).isGreaterThanOrEqualTo(1_000);
    }

    @Test
    @DisplayName("auto_subscribe: carol is subscribed to inbox/<client id> (QoS 1) and users/carol/# (QoS 2) on "
            + "connect; secret/# is left out, her ACL forbids it")
    void autoSubscribeWithSubstitution() {
        PahoClient carol = paho("carol", "carol-tablet");
        Mqtt5BlockingClient bob = hivemq("bob", "auto-bob");
        assertThat(pubAckCode(bob, "inbox/carol-tablet", "hello")).isZero();
        PahoClient.Received r = carol.next();
        assertThat(r.topic()).isEqualTo("inbox/carol-tablet");
        assertThat(r.message().getQos()).isEqualTo(1);
        bob.publishWith().topic("users/carol/notes").qos(MqttQos.EXACTLY_ONCE).payload("n".getBytes()).send();
        PahoClient.Received note = carol.next();
        assertThat(note.topic()).isEqualTo("users/carol/notes");
        assertThat(note.message().getQos()).isEqualTo(2);
        // bob (who may read everything) is auto-subscribed to secret/# too; carol is not
        assertThat(pubAckCode(bob, "secret/plans", "s")).isZero();
        assertThat(carol.poll(500)).isNull();
    }

    @Test
    @DisplayName("auto_subscribe skips %c for a client id holding '/', as ACL patterns do: nothing on inbox/carol/x")
    void unsafeClientIdNotSubstituted() throws Exception {
        MqttConnectionOptions o = Paho5Client.options(true);
        o.setUserName("carol");
        o.setPassword("carol-pw".getBytes(StandardCharsets.UTF_8));
        Paho5Client carol = Paho5Client.connect(broker.uri(), "carol/x", o);
        closeables.add(carol);
        Mqtt5BlockingClient bob = hivemq("bob", "unsafe-bob");
        assertThat(pubAckCode(bob, "inbox/carol/x", "not for you")).as("no subscriber").isEqualTo(0x10);
        assertThat(pubAckCode(bob, "users/carol/y", "yours")).isZero();
        assertThat(carol.next().topic()).as("%u still applies").isEqualTo("users/carol/y");
        assertThat(carol.poll(500)).isNull();
    }

    @Test
    @DisplayName("auto-subscribed retained messages are sent when the subscription is new, not again on resume")
    void retainedOnceForPersistentSession() {
        Mqtt5BlockingClient bob = hivemq("bob", "ret-bob");
        bob.publishWith().topic("inbox/carol-phone").qos(MqttQos.AT_LEAST_ONCE).retain(true)
                .payload("welcome".getBytes()).send();
        MqttConnectOptions o = new MqttConnectOptions();
        o.setUserName("carol");
        o.setPassword("carol-pw".toCharArray());
        o.setCleanSession(false);
        PahoClient first = PahoClient.connectAcknowledgingManually(broker.uri(), "carol-phone", o);
        PahoClient.Received r = first.next();
        assertThat(r.payload()).isEqualTo("welcome");
        assertThat(r.message().isRetained()).isTrue();
        first.acknowledge(r); // the PUBACK queued before the DISCONNECT: nothing is left in flight to resend
        first.disconnect();
        first.close();
        PahoClient resumed = PahoClient.connect(broker.uri(), "carol-phone", o);
        closeables.add(resumed);
        assertThat(resumed.poll(Duration.ofSeconds(1).toMillis())).as("resumed: not sent again").isNull();
    }

    @Test
    @DisplayName("a bad regular expression in topic_rewrite stops the broker: exit 2, one line naming file, line and key")
    void badRegexExits() throws Exception {
        try (BrokerProcess bad = BrokerProcess.prepare()) {
            Files.writeString(bad.workDir().resolve("bad.conf"), "# rules\ntopic_rewrite all a/# [a- b\n");
            int code = bad.launch("-c", "bad.conf").awaitExit(Duration.ofSeconds(30));
            assertThat(code).isEqualTo(2);
            assertThat(bad.output()).contains("bad.conf:2: topic_rewrite: '[a-' is not a regular expression: ");
        }
    }
}
