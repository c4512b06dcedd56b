package io.ternmq.broker.it.v5;

import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAck;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAckReasonCode;
import com.hivemq.client.mqtt.mqtt5.message.connect.connack.Mqtt5ConnAckRestrictions;
import io.ternmq.broker.config.BrokerConfig;
import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.function.Consumer;

import static io.ternmq.broker.testing.RawV5.props;
import static org.assertj.core.api.Assertions.assertThat;

/** MQTT 5.0 CONNECT / CONNACK: assigned identifiers, the limits and feature switches the broker announces. */
class ConnectV5Test {
    private TestBroker broker;

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private TestBroker start(Consumer<BrokerConfig.Builder> config) {
        broker = TestBroker.start(config);
        return broker;
    }

    private Connack connack(MqttProperties connectProps) {
        return connack("c1", 60, connectProps);
    }

    private Connack connack(String clientId, int keepAlive, MqttProperties connectProps) {
        try (RawClient c = RawV5.open(broker)) {
            Connack ack = RawV5.connack(c, RawV5.connect(clientId, true, keepAlive, connectProps));
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.SUCCESS);
            return ack;
        }
    }

    private Mqtt5BlockingClient hivemq(String clientId) {
        return Mqtt5Client.builder().identifier(clientId).serverHost("127.0.0.1").serverPort(broker.port())
                .buildBlocking();
    }

    @Test
    @DisplayName("[MQTT-3.2.2-16] an empty client identifier gets an Assigned Client Identifier in CONNACK")
    void assignedClientIdentifier() {
        start(b -> b.autoIdPrefix("tern-"));
        Connack ack = connack("", 60, MqttProperties.EMPTY);
        assertThat(ack.sessionPresent()).isFalse();
        assertThat(ack.properties().getString(PropertyId.ASSIGNED_CLIENT_IDENTIFIER)).startsWith("tern-");
    }

    @Test
    @DisplayName("[MQTT-3.1.3-7] an empty client identifier with Clean Start 0 is accepted too, with a new identifier "
            + "each time")
    void assignedClientIdentifierWithoutCleanStart() {
        start(b -> { });
        String first;
        String second;
        try (RawClient c = RawV5.open(broker); RawClient d = RawV5.open(broker)) {
            Connack a = RawV5.connack(c, RawV5.connect("", false, 60, MqttProperties.EMPTY));
            Connack b = RawV5.connack(d, RawV5.connect("", false, 60, MqttProperties.EMPTY));
            assertThat(a.reasonCode()).isEqualTo(ReasonCode.SUCCESS);
            assertThat(b.reasonCode()).isEqualTo(ReasonCode.SUCCESS);
            assertThat(a.sessionPresent()).isFalse();
            first = a.properties().getString(PropertyId.ASSIGNED_CLIENT_IDENTIFIER);
            second = b.properties().getString(PropertyId.ASSIGNED_CLIENT_IDENTIFIER);
        }
        assertThat(first).isNotBlank();
        assertThat(second).isNotBlank().isNotEqualTo(first);
    }

    @Test
    @DisplayName("[MQTT-3.1.3-7] the HiveMQ client asking for an identifier learns the assigned one")
    void hivemqLearnsAssignedIdentifier() {
        start(b -> { });
        Mqtt5BlockingClient c = Mqtt5Client.builder().serverHost("127.0.0.1").serverPort(broker.port())
                .buildBlocking();
        try {
            Mqtt5ConnAck ack = c.connect();
            assertThat(ack.getReasonCode()).isEqualTo(Mqtt5ConnAckReasonCode.SUCCESS);
            String assigned = ack.getAssignedClientIdentifier().orElseThrow().toString();
            assertThat(assigned).startsWith("auto-");
            assertThat(broker.broker().sessions().get(assigned)).isNotNull();
        } finally {
            c.disconnect();
        }
    }

    @Test
    @DisplayName("[MQTT-3.1.3-7] a client can resume its session under the Assigned Client Identifier")
    void resumeUnderAssignedIdentifier() {
        start(b -> { });
        MqttProperties persistent = props(PropertyId.SESSION_EXPIRY_INTERVAL, 60L);
        String assigned;
        try (RawClient c = RawV5.open(broker)) {
            Connack ack = RawV5.connack(c, RawV5.connect("", true, 60, persistent));
            assigned = ack.properties().getString(PropertyId.ASSIGNED_CLIENT_IDENTIFIER);
            c.send(Disconnect.NORMAL);
            c.assertClosedByServer();
        }
        try (RawClient c = RawV5.open(broker)) {
            Connack ack = RawV5.connack(c, RawV5.connect(assigned, false, 60, persistent));
            assertThat(ack.reasonCode()).isEqualTo(ReasonCode.SUCCESS);
            assertThat(ack.sessionPresent()).isTrue();
            assertThat(ack.properties().contains(PropertyId.ASSIGNED_CLIENT_IDENTIFIER)).isFalse();
        }
    }

    @Test
    @DisplayName("a client that names itself gets no Assigned Client Identifier")
    void noAssignedIdentifierForNamedClient() {
        start(b -> { });
        assertThat(connack(MqttProperties.EMPTY).properties().contains(PropertyId.ASSIGNED_CLIENT_IDENTIFIER))
                .isFalse();
    }

    @Test
    @DisplayName("CONNACK announces Maximum Packet Size, Topic Alias Maximum and Receive Maximum from the "
            + "configuration")
    void limitsAnnounced() {
        start(b -> b.maxPacketSize(4096).maxTopicAlias(7).receiveMaximum(5));
        MqttProperties p = connack(MqttProperties.EMPTY).properties();
        assertThat(p.getLong(PropertyId.MAXIMUM_PACKET_SIZE)).isEqualTo(4096L);
        assertThat(p.getInt(PropertyId.TOPIC_ALIAS_MAXIMUM)).isEqualTo(7);
        assertThat(p.getInt(PropertyId.RECEIVE_MAXIMUM)).isEqualTo(5);
    }

    @Test
    @DisplayName("Paho v5 reads the announced Maximum Packet Size, Topic Alias Maximum and Receive Maximum")
    void limitsSeenByPaho() {
        start(b -> b.maxPacketSize(2048).maxTopicAlias(3).receiveMaximum(9));
        try (Paho5Client c = Paho5Client.connect(broker, "paho-limits")) {
            var p = c.connackProperties();
            assertThat(p.getMaximumPacketSize()).isEqualTo(2048L);
            assertThat(p.getTopicAliasMaximum()).isEqualTo(3);
            assertThat(p.getReceiveMaximum()).isEqualTo(9);
        }
    }

    @Test
    @DisplayName("[MQTT-3.2.2-18] with max_topic_alias 0 CONNACK carries no Topic Alias Maximum (the client may "
            + "use none)")
    void noTopicAliasMaximumWhenZero() {
        start(b -> b.maxTopicAlias(0));
        assertThat(connack(MqttProperties.EMPTY).properties().contains(PropertyId.TOPIC_ALIAS_MAXIMUM)).isFalse();
    }

    @ParameterizedTest(name = "max_qos {0}")
    @ValueSource(ints = {0, 1})
    @DisplayName("[MQTT-3.2.2-9] CONNACK carries Maximum QoS when the broker does not support QoS 2")
    void maximumQosAnnounced(int maxQos) {
        start(b -> b.maxQos(maxQos));
        assertThat(connack(MqttProperties.EMPTY).properties().getInt(PropertyId.MAXIMUM_QOS)).isEqualTo(maxQos);
    }

    @Test
    @DisplayName("[MQTT-3.2.2-10] a broker with max_qos 0 still accepts SUBSCRIBE at QoS 1 and 2 (granting 0)")
    void maximumQosStillAcceptsSubscribe() {
        start(b -> b.maxQos(0));
        try (RawClient c = RawV5.connected(broker, "sub-qos")) {
            assertThat(RawV5.subscribe(c, "a/1", QoS.EXACTLY_ONCE)).containsExactly(0);
            assertThat(RawV5.subscribe(c, "a/2", QoS.AT_LEAST_ONCE)).containsExactly(0);
        }
    }

    @Test
    @DisplayName("CONNACK carries Retain Available, Wildcard, Subscription Identifier and Shared Subscription "
            + "Available 0 when switched off")
    void featuresSwitchedOff() {
        start(b -> b.retainAvailable(false).wildcardSubscriptionAvailable(false)
                .subscriptionIdentifierAvailable(false).sharedSubscriptionAvailable(false));
        MqttProperties p = connack(MqttProperties.EMPTY).properties();
        assertThat(p.getInt(PropertyId.RETAIN_AVAILABLE)).isZero();
        assertThat(p.getInt(PropertyId.WILDCARD_SUBSCRIPTION_AVAILABLE)).isZero();
        assertThat(p.getInt(PropertyId.SUBSCRIPTION_IDENTIFIER_AVAILABLE)).isZero();
        assertThat(p.getInt(PropertyId.SHARED_SUBSCRIPTION_AVAILABLE)).isZero();
    }

    @Test
    @DisplayName("the HiveMQ client sees every switched-off feature in the CONNACK restrictions")
    void featuresSwitchedOffSeenByHivemq() {
        start(b -> b.maxQos(1).retainAvailable(false).wildcardSubscriptionAvailable(false)
                .subscriptionIdentifierAvailable(false).sharedSubscriptionAvailable(false));
        Mqtt5BlockingClient c = hivemq("hive-restrictions");
        try {
            Mqtt5ConnAckRestrictions r = c.connect().getRestrictions();
            assertThat(r.getMaximumQos()).isEqualTo(MqttQos.AT_LEAST_ONCE);
            assertThat(r.isRetainAvailable()).isFalse();
            assertThat(r.isWildcardSubscriptionAvailable()).isFalse();
            assertThat(r.areSubscriptionIdentifiersAvailable()).isFalse();
            assertThat(r.isSharedSubscriptionAvailable()).isFalse();
        } finally {
            c.disconnect();
        }
    }

    @Test
    @DisplayName("with the defaults CONNACK leaves out what is available anyway, and what the client did not ask for")
    void defaultsLeaveFeaturePropertiesOut() {
        start(b -> { });
        MqttProperties p = connack(props(PropertyId.SESSION_EXPIRY_INTERVAL, 30L)).properties();
        assertThat(p.contains(PropertyId.MAXIMUM_QOS)).isFalse();
        assertThat(p.contains(PropertyId.RETAIN_AVAILABLE)).isFalse();
        assertThat(p.contains(PropertyId.WILDCARD_SUBSCRIPTION_AVAILABLE)).isFalse();
        assertThat(p.contains(PropertyId.SUBSCRIPTION_IDENTIFIER_AVAILABLE)).isFalse();
        assertThat(p.contains(PropertyId.SHARED_SUBSCRIPTION_AVAILABLE)).isFalse();
        assertThat(p.contains(PropertyId.SERVER_KEEP_ALIVE)).isFalse();
        assertThat(p.contains(PropertyId.SESSION_EXPIRY_INTERVAL)).isFalse();
        assertThat(p.contains(PropertyId.RESPONSE_INFORMATION)).isFalse();
        assertThat(p.contains(PropertyId.AUTHENTICATION_METHOD)).isFalse();
    }

    @ParameterizedTest(name = "client keep alive {0}")
    @ValueSource(ints = {60, 0})
    @DisplayName("[MQTT-3.2.2-21] Server Keep Alive = max_keepalive when the client asks for more (or for none)")
    void serverKeepAlive(int requested) {
        start(b -> b.maxKeepAlive(10));
        assertThat(connack("ka", requested, MqttProperties.EMPTY).properties().getInt(PropertyId.SERVER_KEEP_ALIVE))
                .isEqualTo(10);
    }

    @Test
    @DisplayName("[MQTT-3.2.2-22] no Server Keep Alive when the client's keep alive is within max_keepalive")
    void noServerKeepAliveWithinLimit() {
        start(b -> b.maxKeepAlive(10));
        assertThat(connack("ka", 10, MqttProperties.EMPTY).properties().contains(PropertyId.SERVER_KEEP_ALIVE))
                .isFalse();
    }

    @Test
    @DisplayName("[MQTT-3.1.2-22] the broker enforces the Server Keep Alive it announced: silence for 1.5 x 1 s "
            + "closes with DISCONNECT 0x8D")
    void serverKeepAliveEnforced() {
        start(b -> b.maxKeepAlive(1));
        try (RawClient c = RawV5.open(broker)) {
            Connack ack = RawV5.connack(c, RawV5.connect("lazy", true, 60, MqttProperties.EMPTY));
            assertThat(ack.properties().getInt(PropertyId.SERVER_KEEP_ALIVE)).isEqualTo(1);
            long t0 = System.nanoTime();
            assertThat(RawV5.disconnectReason(c)).isEqualTo(ReasonCode.KEEP_ALIVE_TIMEOUT);
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(4));
        }
    }

    @Test
    @DisplayName("CONNACK carries the Session Expiry Interval used when max_session_expiry_interval caps the "
            + "client's")
    void sessionExpiryCapped() {
        start(b -> b.maxSessionExpiryInterval(30));
        Connack ack = connack(props(PropertyId.SESSION_EXPIRY_INTERVAL, 3600L));
        assertThat(ack.properties().getLong(PropertyId.SESSION_EXPIRY_INTERVAL)).isEqualTo(30L);
    }

    @Test
    @DisplayName("CONNACK leaves the Session Expiry Interval out when the client's is used as asked")
    void sessionExpiryNotCapped() {
        start(b -> b.maxSessionExpiryInterval(30));
        Connack ack = connack(props(PropertyId.SESSION_EXPIRY_INTERVAL, 20L));
        assertThat(ack.properties().contains(PropertyId.SESSION_EXPIRY_INTERVAL)).isFalse();
    }

    @Test
    @DisplayName("the HiveMQ client is told the capped Session Expiry Interval")
    void sessionExpiryCappedSeenByHivemq() {
        start(b -> b.maxSessionExpiryInterval(30));
        Mqtt5BlockingClient c = hivemq("hive-expiry");
        try {
            Mqtt5ConnAck ack = c.connectWith().cleanStart(true).sessionExpiryInterval(86_400).send();
            assertThat(ack.getSessionExpiryInterval()).hasValue(30);
        } finally {
            c.disconnect();
        }
    }

    @Test
    @DisplayName("Response Information (prefix + client id) when the client requests it and the broker offers it")
    void responseInformation() {
        start(b -> b.responseInformation("responses/"));
        Connack ack = connack("asker", 60, props(PropertyId.REQUEST_RESPONSE_INFORMATION, 1));
        assertThat(ack.properties().getString(PropertyId.RESPONSE_INFORMATION)).isEqualTo("responses/asker");
    }

    @ParameterizedTest(name = "configured ''{0}'', request {1}")
    @CsvSource(delimiter = '|', nullValues = "none", textBlock = """
            responses/ | 0
            responses/ | none
            ''         | 1
            """)
    @DisplayName("[MQTT-3.1.2-28] no Response Information unless both requested and configured")
    void noResponseInformation(String configured, Integer request) {
        start(b -> b.responseInformation(configured));
        MqttProperties connectProps = request == null ? MqttProperties.EMPTY
                : props(PropertyId.REQUEST_RESPONSE_INFORMATION, request);
        assertThat(connack(connectProps).properties().contains(PropertyId.RESPONSE_INFORMATION)).isFalse();
    }

    @Test
    @DisplayName("Paho v5 requesting Response Information gets it")
    void responseInformationSeenByPaho() {
        start(b -> b.responseInformation("resp/"));
        MqttConnectionOptions o = Paho5Client.options(true);
        o.setRequestResponseInfo(true);
        try (Paho5Client c = Paho5Client.connect(broker, "paho-resp", o)) {
            assertThat(c.connackProperties().getResponseInfo()).isEqualTo("resp/paho-resp");
        }
    }
}
