package io.ternmq.broker.service;

import io.ternmq.broker.message.Message;
import io.ternmq.broker.protocol.ProtocolHarness;
import io.ternmq.broker.message.Subscription;
import io.ternmq.broker.session.SessionInfo;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The broker service as other entry points (admin API, bridges, extensions) will use it, beside MQTT clients. */
class BrokerServiceTest {

    private static ProtocolHarness.FakeChannel connected(ProtocolHarness h, MqttVersion v, String id, boolean clean,
                                                         long expiry) {
        MqttProperties props = v.isV5() && expiry > 0
                ? MqttProperties.builder().set(PropertyId.SESSION_EXPIRY_INTERVAL, expiry).build()
                : MqttProperties.EMPTY;
        ProtocolHarness.FakeChannel c = h.open().send(new Connect(v, id, clean, 60, "user-" + id, null, null, props));
        assertThat(c.next(Connack.class).reasonCode()).isZero();
        return c;
    }

    @Test
    @DisplayName("listings: sessions (online or not, with their connection), a client's subscriptions, retained")
    void listings() throws Exception {
        try (ProtocolHarness h = new ProtocolHarness(b -> { })) {
            ProtocolHarness.FakeChannel a = connected(h, MqttVersion.MQTT_5, "a", true, 3600);
            a.send(new Subscribe(1, List.of(new TopicSubscription("x/#", QoS.AT_LEAST_ONCE),
                    new TopicSubscription("y", QoS.AT_MOST_ONCE)), MqttProperties.EMPTY));
            a.next(Suback.class);
            ProtocolHarness.FakeChannel b = connected(h, MqttVersion.MQTT_3_1_1, "b", false, 0);
            b.send(new Publish("r/1", QoS.AT_MOST_ONCE, true, false, 0, "kept".getBytes(StandardCharsets.UTF_8),
                    MqttProperties.EMPTY));
            b.run(b::close); // b's session outlives the connection (3.1.1, clean session false)
            b.awaitClosed();
            List<SessionInfo> sessions = h.service.sessions().toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertThat(sessions).extracting(SessionInfo::clientId).containsExactlyInAnyOrder("a", "b");
            SessionInfo infoA = sessions.stream().filter(s -> s.clientId().equals("a")).findFirst().orElseThrow();
            assertThat(infoA.connection().username()).isEqualTo("user-a");
            assertThat(infoA.connection().protocolLevel()).isEqualTo(5);
            assertThat(infoA.subscriptions()).isEqualTo(2);
            assertThat(infoA.expiryInterval()).isEqualTo(3600);
            org.awaitility.Awaitility.await().until(() -> h.service.sessions().toCompletableFuture()
                    .get(5, TimeUnit.SECONDS).stream().anyMatch(s -> s.clientId().equals("b") && s.connection() == null));
            assertThat(h.service.subscriptions("a").toCompletableFuture().get(5, TimeUnit.SECONDS))
                    .extracting(Subscription::filter).containsExactlyInAnyOrder("x/#", "y");
            assertThat(h.service.subscriptions("nobody").toCompletableFuture().get(5, TimeUnit.SECONDS)).isEmpty();
            assertThat(h.service.retained("r/#")).extracting(Message::topic).containsExactly("r/1");
        }
    }

    @Test
    @DisplayName("disconnecting a client: 5.0 is told the reason; the session stays as its expiry says")
    void disconnect() throws Exception {
        try (ProtocolHarness h = new ProtocolHarness(b -> { })) {
            ProtocolHarness.FakeChannel c = connected(h, MqttVersion.MQTT_5, "kicked", true, 60);
            assertThat(h.service.disconnect("kicked", ReasonCode.ADMINISTRATIVE_ACTION, "by the operator")
                    .toCompletableFuture().get(5, TimeUnit.SECONDS)).isTrue();
            assertThat(c.next(Disconnect.class).reasonCode()).isEqualTo(ReasonCode.ADMINISTRATIVE_ACTION);
            c.awaitClosed();
            org.awaitility.Awaitility.await().until(() -> !h.service.disconnect("kicked",
                    ReasonCode.ADMINISTRATIVE_ACTION, "again").toCompletableFuture().get(5, TimeUnit.SECONDS));
            assertThat(h.service.disconnect("unknown", ReasonCode.ADMINISTRATIVE_ACTION, "?")
                    .toCompletableFuture().get(5, TimeUnit.SECONDS)).isFalse();
            assertThat(h.service.sessions().toCompletableFuture().get(5, TimeUnit.SECONDS))
                    .extracting(SessionInfo::clientId).containsExactly("kicked");
        }
    }

    @Test
    @DisplayName("a publish through the service reaches subscribers like a client's; a will is stamped when published")
    void publishing() {
        try (ProtocolHarness h = new ProtocolHarness(b -> { })) {
            ProtocolHarness.FakeChannel sub = connected(h, MqttVersion.MQTT_5, "sub", true, 0);
            sub.send(new Subscribe(1, List.of(new TopicSubscription("s/#", QoS.AT_MOST_ONCE)), MqttProperties.EMPTY));
            sub.next(Suback.class);
            h.service.publish(new Message("s/1", QoS.AT_MOST_ONCE, false, "from a bridge".getBytes(
                    StandardCharsets.UTF_8), MqttProperties.EMPTY, "bridge", System.currentTimeMillis()), null, null);
            assertThat(new String(sub.next(Publish.class).payload(), StandardCharsets.UTF_8))
                    .isEqualTo("from a bridge");
            long longAgo = System.currentTimeMillis() - 60_000;
            h.service.publishWill(new Message("s/will", QoS.AT_MOST_ONCE, false, "w".getBytes(StandardCharsets.UTF_8),
                    MqttProperties.builder().set(PropertyId.MESSAGE_EXPIRY_INTERVAL, 30L).build(), "gone", longAgo));
            Publish will = sub.next(Publish.class);
            assertThat(will.topic()).isEqualTo("s/will");
            assertThat(will.properties().getLong(PropertyId.MESSAGE_EXPIRY_INTERVAL))
                    .as("its expiry counts from publication, not from when it was made").isBetween(29L, 30L);
            assertThat(h.metrics.willsPublished.sum()).isEqualTo(1);
        }
    }

    @Test
    @DisplayName("the session listing pages in client id order across batches: every session once, filters applied")
    void sessionPagesInOrder() throws Exception {
        try (ProtocolHarness h = new ProtocolHarness(b -> { })) {
            java.util.TreeSet<String> all = new java.util.TreeSet<>();
            java.util.TreeSet<String> online = new java.util.TreeSet<>();
            java.util.Random random = new java.util.Random(7);
            for (int i = 0; i < 300; i++) {
                String id = "c" + Integer.toString(random.nextInt(1_000_000), 36) + "-" + i;
                ProtocolHarness.FakeChannel c = connected(h, MqttVersion.MQTT_3_1_1, id, false, 0);
                all.add(id);
                if (i % 3 == 0) {
                    online.add(id);
                } else {
                    c.run(c::close);
                    c.awaitClosed();
                }
            }
            assertThat(pageThrough(h, 7, s -> true)).containsExactlyElementsOf(all);
            assertThat(pageThrough(h, 100, s -> true)).containsExactlyElementsOf(all);
            // one online in three: later batches must go on past sessions the filter drops
            assertThat(pageThrough(h, 40, s -> s.connection() != null)).containsExactlyElementsOf(online);
            assertThat(h.service.sessions(null, s -> s.clientId().endsWith("-7"), s -> true, 10)
                    .toCompletableFuture().get(5, TimeUnit.SECONDS)).extracting(SessionInfo::clientId)
                    .containsExactly(all.stream().filter(id -> id.endsWith("-7")).toArray(String[]::new));
        }
    }

    private static List<String> pageThrough(ProtocolHarness h, int limit,
                                            java.util.function.Predicate<SessionInfo> filter) throws Exception {
        List<String> seen = new java.util.ArrayList<>();
        String after = null;
        while (true) {
            List<SessionInfo> page = h.service.sessions(after, s -> true, filter, limit).toCompletableFuture()
                    .get(5, TimeUnit.SECONDS);
            page.forEach(s -> seen.add(s.clientId()));
            if (page.size() < limit) {
                return seen;
            }
            after = page.get(page.size() - 1).clientId();
        }
    }
}
