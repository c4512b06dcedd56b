package io.ternmq.broker.it.extension;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5ConnAckException;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5PubAckException;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import io.ternmq.broker.security.PasswordHash;
import io.ternmq.broker.testing.BrokerProcess;
import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.SampleExtensionFolder;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttSecurityException;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The sample extension (ternmq-extension-sample, as built) in a real broker process, copied into the {@code
 * extensions/} folder of the broker's working directory, driven by real clients: HiveMQ and Paho for MQTT 5, Paho
 * for 3.1.1. What the sample does per topic and client id is in its class comment.
 */
class ExtensionProcessTest {
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private BrokerProcess broker;

    @AfterEach
    void cleanUp() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception e) {
                // a client already gone
            }
        }
        if (broker != null) {
            broker.close();
        }
    }

    private Path prepareWithSample() {
        broker = BrokerProcess.prepare();
        return SampleExtensionFolder.copyInto(broker.workDir().resolve("extensions"), "sample");
    }

    private <T extends AutoCloseable> T closing(T c) {
        closeables.add(c);
        return c;
    }

    private Paho5Client subscriber(String id, String filter) {
        return closing(Paho5Client.connect(broker.uri(), id, Paho5Client.options(true))).subscribe(filter, 1);
    }

    private Mqtt5BlockingClient hivemq(String id) {
        Mqtt5BlockingClient c = Mqtt5Client.builder().identifier(id).serverHost("127.0.0.1")
                .serverPort(broker.port()).buildBlocking();
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
    @DisplayName("PublishInbound rewrites payload, user properties and topic; what the subscriber gets is the result")
    void payloadAndTopicRewrite() {
        prepareWithSample();
        broker.start();
        Paho5Client sub = subscriber("sub-rewrite", "rewrite/#").subscribe("moved/#", 1);
        Mqtt5BlockingClient pub = hivemq("pub-rewrite");
        pub.connect();
        assertThat(pubAckCode(pub, "rewrite/a", "hello")).isEqualTo(0);
        Paho5Client.Received r = sub.next();
        assertThat(r.topic()).isEqualTo("rewrite/a");
        assertThat(r.payload()).isEqualTo("rewritten:hello");
        assertThat(r.properties().getUserProperties()).contains(new UserProperty("sample", "rewritten"));
        pub.publishWith().topic("moveto/b").qos(MqttQos.AT_LEAST_ONCE).payload("x".getBytes()).send();
        Paho5Client.Received moved = sub.next();
        assertThat(moved.topic()).isEqualTo("moved/b");
        assertThat(moved.payload()).isEqualTo("x");
        // stopping the broker stops the extension, which reports its own counter
        broker.stop();
        assertThat(broker.output()).contains("Sample extension stopped").contains("publishes.rewritten=1");
    }

    @Test
    @DisplayName("ClientService disconnects with 0x9C and a Server Reference; SubscriptionService subscribes a "
            + "session")
    void clientAndSubscriptionServices() {
        prepareWithSample();
        broker.start();
        Paho5Client victim = closing(Paho5Client.connect(broker.uri(), "victim", Paho5Client.options(true)));
        Mqtt5BlockingClient admin = hivemq("admin");
        admin.connect();
        admin.publishWith().topic("sample/subscribe/victim").qos(MqttQos.AT_LEAST_ONCE).payload(new byte[0]).send();
        admin.publishWith().topic("injected/1").qos(MqttQos.AT_LEAST_ONCE).payload("i".getBytes()).send();
        assertThat(victim.next().topic()).isEqualTo("injected/1");
        assertThat(pubAckCode(admin, "sample/kick/victim", "")).isEqualTo(0x83);
        await().atMost(Duration.ofSeconds(5)).until(() -> victim.disconnected() != null);
        assertThat(victim.disconnected().getReturnCode()).isEqualTo(0x9C);
        assertThat(victim.disconnected().getServerReference()).isEqualTo("backup.example.org:1883");
    }

    @Test
    @DisplayName("a prevented PUBLISH: MQTT 5 gets the extension's PUBACK code (0x83); 3.1.1 is acknowledged; "
            + "neither is delivered")
    void preventedPublish() throws Exception {
        prepareWithSample();
        broker.start();
        Paho5Client sub = subscriber("sub-refuse", "refuse/#").subscribe("control/#", 1);
        Mqtt5BlockingClient v5 = hivemq("pub-refuse-5");
        v5.connect();
        assertThat(pubAckCode(v5, "refuse/v5", "no")).isEqualTo(0x83);
        PahoClient v3 = closing(PahoClient.connect(broker.uri(), "pub-refuse-3", true));
        v3.publish("refuse/v3", "no", 1, false); // returns once PUBACK came
        v3.publish("refuse/v3", "no", 2, false); // PUBREC, PUBREL, PUBCOMP
        v3.publish("control/done", "done", 1, false);
        Paho5Client.Received first = sub.next();
        assertThat(first.topic()).as("nothing under refuse/ is delivered").isEqualTo("control/done");
        assertThat(v3.isConnected()).isTrue();
    }

    @Test
    @DisplayName("output.async: a decision made 50 ms later applies, one that comes too late gets the fallback; "
            + "the client's later PUBLISHes wait, in order")
    void asyncDecisions() throws Exception {
        prepareWithSample();
        broker.start();
        Paho5Client sub = subscriber("sub-async", "async/#").subscribe("plain/#", 1);
        Mqtt5AsyncClient pub = hivemq("pub-async").toAsync();
        pub.connect().get();
        long t0 = System.nanoTime();
        // sent back to back: the second waits behind the first's decision
        CompletableFuture<?> a = pub.publishWith().topic("async/ok/1").qos(MqttQos.AT_LEAST_ONCE)
                .payload("1".getBytes()).send();
        CompletableFuture<?> b = pub.publishWith().topic("plain/2").qos(MqttQos.AT_LEAST_ONCE)
                .payload("2".getBytes()).send();
        CompletableFuture<?> c = pub.publishWith().topic("async/slow/3").qos(MqttQos.AT_LEAST_ONCE)
                .payload("3".getBytes()).send();
        CompletableFuture<?> d = pub.publishWith().topic("plain/4").qos(MqttQos.AT_LEAST_ONCE)
                .payload("4".getBytes()).send();
        CompletableFuture.allOf(a, b, c, d).get();
        Paho5Client.Received r1 = sub.next();
        long firstMillis = (System.nanoTime() - t0) / 1_000_000;
        assertThat(r1.topic()).isEqualTo("async/ok/1");
        assertThat(r1.payload()).isEqualTo("async:1");
        assertThat(firstMillis).as("decided 50 ms after it arrived").isGreaterThanOrEqualTo(50);
        assertThat(sub.next().payload()).isEqualTo("2");
        Paho5Client.Received r3 = sub.next();
        assertThat(r3.topic()).isEqualTo("async/slow/3");
        assertThat(r3.payload()).as("timed out after 200 ms: delivered unchanged, the late change ignored")
                .isEqualTo("3");
        assertThat(sub.next().payload()).isEqualTo("4");
        assertThat(sub.poll(1_200)).as("the late decision changes nothing afterwards").isNull();
    }

    @Test
    @DisplayName("lifecycle: connected, disconnected (graceful or not), session expired, authentication failed")
    void lifecycleEvents() throws Exception {
        Path folder = prepareWithSample();
        Path passwd = broker.workDir().resolve("passwd");
        Files.writeString(passwd, "watcher:" + PasswordHash.hash("w".toCharArray(), 1000) + "\n"
                + "alice:" + PasswordHash.hash("secret".toCharArray(), 1000) + "\n");
        Path conf = broker.workDir().resolve("ternmq.conf");
        Files.writeString(conf, "allow_anonymous false\npassword_file " + passwd + "\n");
        assertThat(folder).exists();
        broker.start("-c", conf.toString());
        var options = Paho5Client.options(true);
        options.setUserName("watcher");
        options.setPassword("w".getBytes());
        Paho5Client sub = closing(Paho5Client.connect(broker.uri(), "watcher", options)).subscribe("sample/events/#", 1);

        Mqtt5BlockingClient alice = hivemq("life-1");
        alice.connectWith().simpleAuth().username("alice").password("secret".getBytes()).applySimpleAuth()
                .sessionExpiryInterval(1).send();
        assertEvent(sub, "sample/events/connected/life-1", "MQTT level 5");
        alice.disconnect();
        assertEvent(sub, "sample/events/disconnected/life-1", "graceful");
        assertEvent(sub, "sample/events/session-expired/life-1", "");

        Mqtt5BlockingClient mallory = hivemq("life-2");
        assertThatThrownBy(() -> mallory.connectWith().simpleAuth().username("alice").password("wrong".getBytes())
                .applySimpleAuth().send()).isInstanceOf(Mqtt5ConnAckException.class);
        assertEvent(sub, "sample/events/authentication-failed/life-2", "0x86");
    }

    private static void assertEvent(Paho5Client sub, String topic, String payload) {
        Paho5Client.Received r = sub.next();
        assertThat(r.topic()).isEqualTo(topic);
        assertThat(r.payload()).isEqualTo(payload);
    }

    @Test
    @DisplayName("ConnectInbound: refuse with 0x8A (3.1.1: return code 5), redirect with 0x9D and a Server "
            + "Reference, change the client id")
    void connectDecisions() throws Exception {
        prepareWithSample();
        broker.start();
        Mqtt5BlockingClient banned = hivemq("sample-banned");
        assertThatThrownBy(banned::connect).isInstanceOfSatisfying(Mqtt5ConnAckException.class,
                e -> assertThat(e.getMqttMessage().getReasonCode().getCode()).isEqualTo(0x8A));
        Mqtt5BlockingClient moved = hivemq("sample-moved-1");
        assertThatThrownBy(moved::connect).isInstanceOfSatisfying(Mqtt5ConnAckException.class, e -> {
            Mqtt5ConnAck ack = e.getMqttMessage();
            assertThat(ack.getReasonCode().getCode()).isEqualTo(0x9D);
            assertThat(ack.getServerReference().orElseThrow().toString()).isEqualTo("other.example.org:1883");
        });
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        assertThatThrownBy(() -> PahoClient.connect(broker.uri(), "sample-banned", o))
                .hasRootCauseInstanceOf(MqttSecurityException.class)
                .rootCause().satisfies(e -> assertThat(((MqttException) e).getReasonCode()).isEqualTo(5));

        Paho5Client sub = subscriber("sub-rename", "sample/events/connected/#");
        Mqtt5BlockingClient renamed = hivemq("sample-rename-x");
        renamed.connect();
        assertEvent(sub, "sample/events/connected/renamed-x", "MQTT level 5");
    }

    @Test
    @DisplayName("SubscribeInbound: a refused filter gets the extension's SUBACK code, a changed one is subscribed "
            + "as changed")
    void subscribeDecisions() {
        prepareWithSample();
        broker.start();
        Paho5Client sub = closing(Paho5Client.connect(broker.uri(), "sub-decided", Paho5Client.options(true)));
        int[] codes = sub.subscribe(null, new MqttSubscription("forbidden/x", 1), new MqttSubscription("alias/news", 1));
        assertThat(codes).containsExactly(0x87, 1);
        Mqtt5BlockingClient pub = hivemq("pub-decided");
        pub.connect();
        pub.publishWith().topic("forbidden/x").qos(MqttQos.AT_LEAST_ONCE).payload("f".getBytes()).send();
        pub.publishWith().topic("news/today").qos(MqttQos.AT_LEAST_ONCE).payload("n".getBytes()).send();
        Paho5Client.Received r = sub.next();
        assertThat(r.topic()).isEqualTo("news/today");
        assertThat(sub.poll(300)).isNull();
    }

    @Test
    @DisplayName("SubscribeInbound async: a decision made 50 ms later applies (the filter it changed is subscribed) "
            + "and the client's PUBLISH sent right after waits for it; one that comes too late gets the fallback")
    void asyncSubscribeDecisions() throws Exception {
        prepareWithSample();
        broker.start();
        Mqtt5AsyncClient client = hivemq("sub-async-decided").toAsync();
        client.connect().get();
        java.util.concurrent.BlockingQueue<String> got = new java.util.concurrent.LinkedBlockingQueue<>();
        client.publishes(com.hivemq.client.mqtt.MqttGlobalPublishFilter.ALL,
                p -> got.add(p.getTopic() + " " + new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8)));
        long t0 = System.nanoTime();
        // back to back on one connection: the PUBLISH is read only once the SUBSCRIBE is decided, so the filter
        // the extension made of it (order/#) already matches the client's own message
        var subAck = client.subscribeWith().topicFilter("async/sub/order/#").qos(MqttQos.AT_LEAST_ONCE).send();
        var pubAck = client.publishWith().topic("order/1").qos(MqttQos.AT_LEAST_ONCE).payload("1".getBytes()).send();
        assertThat(subAck.get().getReasonCodes()).extracting(c -> c.getCode()).containsExactly(1);
        assertThat((System.nanoTime() - t0) / 1_000_000).as("decided 50 ms after it arrived")
                .isGreaterThanOrEqualTo(50);
        pubAck.get();
        assertThat(got.poll(5, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo("order/1 1");

        var late = client.subscribeWith().topicFilter("async/slowsub/x").qos(MqttQos.AT_LEAST_ONCE).send();
        // the client reports a SUBACK of refusals only as an exception carrying it
        assertThatThrownBy(late::get).as("timed out after 200 ms: refused by the fallback")
                .cause().isInstanceOfSatisfying(com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5SubAckException.class,
                        e -> assertThat(e.getMqttMessage().getReasonCodes()).extracting(c -> c.getCode())
                                .containsExactly(0x80));
        client.disconnect().get();
    }

    @Test
    @DisplayName("a security provider in the extension's jar: named by a plugin line, it authenticates (answering "
            + "later, from its own thread) and authorizes publish, subscribe and receive")
    void securityProviderInExtensionJar() throws Exception {
        prepareWithSample();
        Path conf = broker.workDir().resolve("ternmq.conf");
        Files.writeString(conf, "allow_anonymous false\nplugin sample-security\nplugin_opt_password s3cret\n"
                + "auth_failure_delay 0\n");
        broker.start("-c", conf.toString());
        assertThat(broker.output()).contains("plugin 'sample-security' of extension 'sample'");

        Mqtt5BlockingClient denied = hivemq("sec-wrong");
        assertThatThrownBy(() -> denied.connectWith().simpleAuth().username("sample-user")
                .password("wrong".getBytes()).applySimpleAuth().send())
                .isInstanceOfSatisfying(Mqtt5ConnAckException.class, e -> assertThat(e.getMqttMessage()
                        .getReasonCode().getCode()).isEqualTo(0x86));
        MqttConnectOptions v3 = new MqttConnectOptions();
        v3.setUserName("somebody");
        v3.setPassword("s3cret".toCharArray());
        assertThatThrownBy(() -> PahoClient.connect(broker.uri(), "sec-v3", v3))
                .hasRootCauseInstanceOf(MqttSecurityException.class);

        Mqtt5BlockingClient client = hivemq("sec-ok");
        client.connectWith().simpleAuth().username("sample-user").password("s3cret".getBytes()).applySimpleAuth()
                .send();
        assertThat(pubAckCode(client, "sample-denied/x", "no")).isEqualTo(0x87);
        try (Mqtt5BlockingClient.Mqtt5Publishes publishes = client.publishes(
                com.hivemq.client.mqtt.MqttGlobalPublishFilter.ALL)) {
            assertThatThrownBy(() -> client.subscribeWith().topicFilter("sample-denied/#").qos(MqttQos.AT_LEAST_ONCE)
                    .send()).isInstanceOfSatisfying(com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5SubAckException.class,
                            e -> assertThat(e.getMqttMessage().getReasonCodes()).extracting(c -> c.getCode())
                                    .containsExactly(0x87));
            client.subscribeWith().topicFilter("open/#").qos(MqttQos.AT_LEAST_ONCE).send();
            assertThat(pubAckCode(client, "open/hidden/x", "not for anyone")).isZero();
            assertThat(pubAckCode(client, "open/x", "yes")).isZero();
            var got = publishes.receive(5, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(got).isPresent();
            assertThat(got.get().getTopic().toString()).as("open/hidden/x is never delivered").isEqualTo("open/x");
        }
    }

    @Test
    @DisplayName("an extension's security provider refusing its options stops the broker (exit 2), naming the "
            + "listener, the plugin and the problem")
    void securityProviderOptionsRefused() throws Exception {
        prepareWithSample();
        Path conf = broker.workDir().resolve("ternmq.conf");
        Files.writeString(conf, "allow_anonymous false\nplugin sample-security\n");
        broker.launch("-c", conf.toString());
        assertThat(broker.awaitExit(Duration.ofSeconds(30))).as(broker.output()).isEqualTo(2);
        assertThat(broker.output()).contains("plugin 'sample-security' (extension 'sample')")
                .contains("plugin_opt_password is required");
    }

    @Test
    @DisplayName("PublishOutbound: per receiver, one is skipped, each gets its own user property")
    void outboundPerReceiver() {
        prepareWithSample();
        broker.start();
        Paho5Client nosy = subscriber("nosy-1", "secret/#").subscribe("tagged/#", 1);
        Paho5Client trusted = subscriber("trusted-1", "secret/#").subscribe("tagged/#", 1);
        PahoClient v3 = closing(PahoClient.connect(broker.uri(), "nosy-v3", true)).subscribe("secret/#", 1)
                .subscribe("tagged/#", 1);
        Mqtt5BlockingClient pub = hivemq("pub-outbound");
        pub.connect();
        pub.publishWith().topic("secret/plan").qos(MqttQos.AT_LEAST_ONCE).payload("s".getBytes()).send();
        pub.publishWith().topic("tagged/x").qos(MqttQos.AT_LEAST_ONCE).payload("t".getBytes()).send();
        assertThat(trusted.next().topic()).isEqualTo("secret/plan");
        Paho5Client.Received tagged = trusted.next();
        assertThat(tagged.properties().getUserProperties()).containsExactly(new UserProperty("receiver", "trusted-1"));
        Paho5Client.Received nosyFirst = nosy.next();
        assertThat(nosyFirst.topic()).as("the secret was skipped for nosy-1").isEqualTo("tagged/x");
        assertThat(nosyFirst.properties().getUserProperties()).containsExactly(new UserProperty("receiver", "nosy-1"));
        assertThat(v3.next().topic()).as("and for a 3.1.1 receiver").isEqualTo("tagged/x");
    }

    @Test
    @DisplayName("RetainedService: an extension finds a retained message and removes it")
    void retainedService() {
        prepareWithSample();
        broker.start();
        Mqtt5BlockingClient pub = hivemq("pub-retained");
        pub.connect();
        pub.publishWith().topic("keep/1").qos(MqttQos.AT_LEAST_ONCE).retain(true).payload("r".getBytes()).send();
        Paho5Client info = subscriber("sub-forgot", "sample/info/forgot");
        assertThat(subscriber("sub-before", "keep/#").next().payload()).isEqualTo("r");
        assertThat(pubAckCode(pub, "sample/forget", "keep/1")).isEqualTo(0x83);
        assertThat(info.next().payload()).isEqualTo("keep/1 1");
        Paho5Client after = subscriber("sub-after", "keep/#").subscribe("control/#", 1);
        pub.publishWith().topic("control/done").qos(MqttQos.AT_LEAST_ONCE).payload("d".getBytes()).send();
        assertThat(after.next().topic()).as("no retained message left on keep/1").isEqualTo("control/done");
    }

    @Test
    @DisplayName("isolation: the sample sees the picocli it bundles (4.6.2), the broker its own")
    void isolation() {
        prepareWithSample();
        broker.start();
        Paho5Client sub = subscriber("sub-info", "sample/info/#");
        Paho5Client.Received r = sub.next();
        assertThat(r.topic()).isEqualTo("sample/info/picocli");
        assertThat(r.payload()).isEqualTo("4.6.2");
        // the broker parsed its command line with the class path's picocli, which is another one
        assertThat(picocli.CommandLine.VERSION).isNotEqualTo("4.6.2");
    }

    @Test
    @DisplayName("a required extension that throws in start stops the broker with exit status 2, naming it")
    void requiredExtensionFailing() {
        Path folder = prepareWithSample();
        SampleExtensionFolder.describe(folder, Map.of("required", "true"));
        SampleExtensionFolder.options(folder, Map.of("fail_start", "true"));
        broker.launch();
        assertThat(broker.awaitExit(Duration.ofSeconds(30))).as(broker.output()).isEqualTo(2);
        assertThat(broker.output()).contains("required extension 'sample'").contains("fail_start is set");
    }

    @Test
    @DisplayName("an extension that is not required and throws in start is left out; the broker runs")
    void optionalExtensionFailing() {
        Path folder = prepareWithSample();
        SampleExtensionFolder.options(folder, Map.of("fail_start", "true"));
        broker.start();
        assertUnchanged();
        assertThat(broker.output()).contains("fail_start is set").contains("the broker starts without it");
    }

    @Test
    @DisplayName("an api_version newer than the broker's is refused, naming both; required: exit status 2")
    void newerApiVersion() {
        Path folder = prepareWithSample();
        SampleExtensionFolder.describe(folder, Map.of("api_version", "9.1"));
        broker.start();
        assertUnchanged();
        assertThat(broker.output()).contains("needs extension API 9.1, newer than this broker's "
                + io.ternmq.extension.api.ExtensionApi.VERSION);
        broker.close();

        folder = prepareWithSample();
        SampleExtensionFolder.describe(folder, Map.of("api_version", "0.7", "required", "true"));
        broker.launch();
        assertThat(broker.awaitExit(Duration.ofSeconds(30))).as(broker.output()).isEqualTo(2);
        assertThat(broker.output()).contains("needs extension API 0.7, newer than this broker's "
                + io.ternmq.extension.api.ExtensionApi.VERSION);
    }

    @Test
    @DisplayName("a folder with a DISABLED file is skipped")
    void disabledFolder() throws Exception {
        Path folder = prepareWithSample();
        Files.writeString(folder.resolve("DISABLED"), "");
        broker.start();
        assertUnchanged();
        assertThat(broker.output()).contains("is disabled");
    }

    /** The sample is not running: a rewrite/ message arrives as sent. */
    private void assertUnchanged() {
        Paho5Client sub = subscriber("sub-plain", "rewrite/#");
        Mqtt5BlockingClient pub = hivemq("pub-plain");
        pub.connect();
        assertThat(pubAckCode(pub, "rewrite/a", "hello")).isEqualTo(0);
        assertThat(sub.next().payload()).isEqualTo("hello");
    }
}
