package io.ternmq.broker.it.topics;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5PubAckException;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import io.ternmq.broker.testing.BrokerProcess;
import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.PahoClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code delayed_publish} in a broker process started from a configuration file, with real clients (HiveMQ and
 * Paho MQTT 5, Paho 3.1.1, mosquitto_pub): release time, authorization on the real topic, refusals with their MQTT 5
 * codes, QoS 2, and messages that wait through a restart (docs/topics.md).
 */
class DelayedPublishTest {
    private BrokerProcess broker;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @TempDir
    Path dir;
    private Path conf;

    @BeforeEach
    void prepare() throws IOException {
        Files.writeString(dir.resolve("acl"), """
                # anonymous clients
                topic readwrite alarm/#
                topic readwrite $delayed/#
                """);
        // the data directory outside the process's working directory: a restart is a new process on the same data
        conf = dir.resolve("ternmq.conf");
        Files.writeString(conf, "allow_anonymous true\nacl_file " + dir.resolve("acl") + "\ndata_dir "
                + dir.resolve("data") + "\ndelayed_publish true\nmax_delayed_messages 3\n");
        broker = BrokerProcess.prepare().start("-c", conf.toString());
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        broker.close();
    }

    private Mqtt5BlockingClient hivemq(String id) {
        Mqtt5BlockingClient c = Mqtt5Client.builder().identifier(id).serverHost("127.0.0.1")
                .serverPort(broker.port()).buildBlocking();
        c.connect();
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

    private PahoClient paho(String id, boolean clean) {
        PahoClient c = PahoClient.connect(broker.uri(), id, clean);
        closeables.add(c);
        return c;
    }

    @Test
    @DisplayName("$delayed/2/alarm/fire is acknowledged at once and reaches alarm/fire subscribers 2 s later, not before")
    void releasedWhenDue() {
        PahoClient sub = paho("watcher", true).subscribe("alarm/#", 1);
        Mqtt5BlockingClient pub = hivemq("delayer");
        long sent = System.currentTimeMillis();
        assertThat(pubAckCode(pub, "$delayed/2/alarm/fire", "smoke")).isZero();
        assertThat(System.currentTimeMillis() - sent).as("acknowledged once stored, not when due").isLessThan(1_500);
        PahoClient.Received r = sub.poll(10_000);
        long arrived = System.currentTimeMillis();
        assertThat(r).isNotNull();
        assertThat(r.topic()).isEqualTo("alarm/fire");
        assertThat(r.payload()).isEqualTo("smoke");
        assertThat(r.message().getQos()).isEqualTo(1);
        assertThat(arrived - sent).as("ms from publish to delivery").isGreaterThanOrEqualTo(2_000);
    }

    @Test
    @DisplayName("authorization is on <topic>: $delayed/1/secret/x is refused (0x87) though $delayed/# is allowed")
    void authorizedOnTargetTopic() {
        Mqtt5BlockingClient pub = hivemq("sneaky");
        assertThat(pubAckCode(pub, "$delayed/1/secret/x", "x")).isEqualTo(0x87);
        assertThat(pubAckCode(pub, "$delayed/1/alarm/ok", "x")).isZero();
    }

    @Test
    @DisplayName("a bad delay or topic is refused with 0x90; beyond max_delayed_messages with 0x97")
    void refusals() {
        Mqtt5BlockingClient pub = hivemq("refused");
        assertThat(pubAckCode(pub, "$delayed/soon/alarm/x", "x")).isEqualTo(0x90);
        assertThat(pubAckCode(pub, "$delayed/4294968/alarm/x", "x")).as("above 4,294,967 s").isEqualTo(0x90);
        assertThat(pubAckCode(pub, "$delayed/10", "x")).as("no topic").isEqualTo(0x90);
        for (int i = 0; i < 3; i++) {
            assertThat(pubAckCode(pub, "$delayed/3600/alarm/later" + i, "x")).isZero();
        }
        assertThat(pubAckCode(pub, "$delayed/3600/alarm/later3", "x")).as("a fourth").isEqualTo(0x97);
    }

    @Test
    @DisplayName("QoS 2 from mosquitto_pub: one PUBREC once stored, one delivery when due")
    void qos2FromMosquittoPub() throws Exception {
        PahoClient sub = paho("watcher2", true).subscribe("alarm/#", 2);
        Process p = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", String.valueOf(broker.port()),
                "-V", "5", "-q", "2", "-t", "$delayed/1/alarm/q2", "-m", "exactly once").redirectErrorStream(true)
                .start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes())).isZero();
        PahoClient.Received r = sub.poll(10_000);
        assertThat(r).isNotNull();
        assertThat(r.topic()).isEqualTo("alarm/q2");
        assertThat(r.message().getQos()).isEqualTo(2);
        assertThat(sub.poll(1_500)).as("delivered once").isNull();
    }

    @Test
    @DisplayName("as if the sender published it when due: a no-local subscription of the sender does not get it")
    void releasedAsTheSender() throws Exception {
        Paho5Client self = Paho5Client.connect(broker.uri(), "self", Paho5Client.options(true));
        closeables.add(self);
        MqttSubscription noLocal = new MqttSubscription("alarm/self", 1);
        noLocal.setNoLocal(true);
        self.subscribe(null, noLocal);
        PahoClient other = paho("other", true).subscribe("alarm/self", 1);
        self.publish("$delayed/1/alarm/self", Paho5Client.message("mine", 1, false, new MqttProperties()));
        assertThat(other.poll(10_000)).isNotNull();
        assertThat(self.poll(1_000)).isNull();
    }

    @Test
    @DisplayName("stored messages survive a restart: one overdue meanwhile goes at once to a persistent session")
    void survivesRestart() {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(false);
        PahoClient keeper = PahoClient.connect(broker.uri(), "keeper", o);
        keeper.subscribe("alarm/#", 1);
        keeper.close();
        Mqtt5BlockingClient pub = hivemq("before-restart");
        assertThat(pubAckCode(pub, "$delayed/2/alarm/after-restart", "kept")).isZero();
        pub.disconnect();
        broker.close();
        await().pollDelay(Duration.ofMillis(2_500)).until(() -> true); // due while the broker is down
        broker = BrokerProcess.prepare().start("-c", conf.toString());
        long started = System.currentTimeMillis();
        PahoClient back = PahoClient.connect(broker.uri(), "keeper", o);
        closeables.add(back);
        PahoClient.Received r = back.poll(10_000);
        assertThat(r).isNotNull();
        assertThat(r.topic()).isEqualTo("alarm/after-restart");
        assertThat(r.payload()).isEqualTo("kept");
        assertThat(System.currentTimeMillis() - started).as("overdue: released at once").isLessThan(5_000);
    }
}
