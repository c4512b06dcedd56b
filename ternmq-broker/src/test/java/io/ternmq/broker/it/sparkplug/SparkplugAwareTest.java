package io.ternmq.broker.it.sparkplug;

import com.google.protobuf.DynamicMessage;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.exceptions.Mqtt5PubAckException;
import com.hivemq.client.mqtt.mqtt5.message.publish.puback.Mqtt5PubAckReasonCode;
import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.PahoClient.Received;
import io.ternmq.broker.testing.SparkplugB;
import io.ternmq.broker.testing.TestBroker;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

/**
 * Sparkplug B 3.0, chapter 10.1.3 (Sparkplug Compliant MQTT Server) and 10.1.4 (Sparkplug Aware MQTT Server): one
 * test per TCK assertion, named by its id, against a broker with {@code sparkplug_aware} and
 * {@code sparkplug_ndeath_timestamp}, with real clients (Paho 3.1.1 edge nodes, as most are, and Paho and HiveMQ
 * MQTT 5 host applications) and real Sparkplug B protobuf payloads (docs/sparkplug.md).
 */
class SparkplugAwareTest {
    private TestBroker broker;

    @BeforeEach
    void start() {
        broker = TestBroker.start(b -> b.sparkplugAware(true).sparkplugNdeathTimestamp(true));
    }

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    /** An edge node: clean session, its NDEATH (QoS 1, not retained) as will, as Sparkplug requires. */
    private PahoClient edgeNode(String group, String node, byte[] ndeath) {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(true);
        o.setWill("spBv1.0/" + group + "/NDEATH/" + node, ndeath, 1, false);
        return PahoClient.connect(broker, node, o);
    }

    private PahoClient client(String id) {
        return PahoClient.connect(broker, id, true);
    }

    /** Ends a client's connection without DISCONNECT, as a failing edge node does: the broker publishes its will. */
    private static void dieUngracefully(PahoClient c) throws Exception {
        c.client().disconnectForcibly(0, 0, false);
        c.client().close(true);
    }

    @Test
    @DisplayName("[tck-id-conformance-mqtt-qos0] publish and subscribe at QoS 0: an NDATA reaches the host unchanged")
    void tckIdConformanceMqttQos0() {
        byte[] ndata = SparkplugB.payload(1_000L, 1L, List.of(SparkplugB.metric("Temperature", 2, 1_000L,
                SparkplugB.DOUBLE, 21.5))).toByteArray();
        try (PahoClient host = client("host-q0"); PahoClient edge = client("edge-q0")) {
            host.subscribe("spBv1.0/G0/#", 0);
            edge.publish("spBv1.0/G0/NDATA/E0", ndata, 0, false);
            Received r = host.next();
            assertThat(r.topic()).isEqualTo("spBv1.0/G0/NDATA/E0");
            assertThat(r.message().getQos()).isZero();
            assertThat(r.message().getPayload()).isEqualTo(ndata);
        }
    }

    @Test
    @DisplayName("[tck-id-conformance-mqtt-qos1] publish and subscribe at QoS 1: an NCMD reaches the edge node at "
            + "QoS 1, unchanged")
    void tckIdConformanceMqttQos1() {
        byte[] ncmd = SparkplugB.payload(2_000L, null, List.of(SparkplugB.metric("Node Control/Rebirth", 1,
                2_000L, SparkplugB.BOOLEAN, true))).toByteArray();
        try (PahoClient edge = client("edge-q1"); PahoClient host = client("host-q1")) {
            edge.subscribe("spBv1.0/G1/NCMD/E1", 1);
            host.publish("spBv1.0/G1/NCMD/E1", ncmd, 1, false);
            Received r = edge.next();
            assertThat(r.message().getQos()).isEqualTo(1);
            assertThat(SparkplugB.parse(r.message().getPayload())).isEqualTo(SparkplugB.parse(ncmd));
        }
    }

    @Test
    @DisplayName("[tck-id-conformance-mqtt-will-messages] will messages with QoS 1 and the retain flag: an edge "
            + "node's NDEATH (QoS 1) reaches the host; a retained QoS 1 will stays for later subscribers")
    void tckIdConformanceMqttWillMessages() throws Exception {
        try (PahoClient host = client("host-will")) {
            host.subscribe("spBv1.0/GW/NDEATH/+", 1);
            PahoClient edge = edgeNode("GW", "EW", SparkplugB.ndeath(5_000L, 7));
            dieUngracefully(edge);
            Received death = host.next();
            assertThat(death.topic()).isEqualTo("spBv1.0/GW/NDEATH/EW");
            assertThat(death.message().getQos()).isEqualTo(1);
            assertThat(death.message().isRetained()).isFalse();
        }
        MqttConnectOptions o = new MqttConnectOptions();
        o.setWill("spBv1.0/STATE/will-host", "{\"online\":false,\"timestamp\":1}".getBytes(StandardCharsets.UTF_8),
                1, true);
        dieUngracefully(PahoClient.connect(broker, "will-host", o));
        try (PahoClient late = client("late-will")) {
            late.subscribe("spBv1.0/STATE/will-host", 1);
            Received r = late.next();
            assertThat(r.message().isRetained()).isTrue();
            assertThat(r.message().getQos()).isEqualTo(1);
        }
    }

    @Test
    @DisplayName("[tck-id-conformance-mqtt-retained] the retain flag: a retained message reaches later subscribers "
            + "with RETAIN set, a live one without, and an empty retained message clears it")
    void tckIdConformanceMqttRetained() {
        byte[] online = "{\"online\":true,\"timestamp\":2}".getBytes(StandardCharsets.UTF_8);
        try (PahoClient live = client("live-ret"); PahoClient host = client("host-ret")) {
            live.subscribe("spBv1.0/STATE/h1", 1);
            host.publish("spBv1.0/STATE/h1", online, 1, true);
            assertThat(live.next().message().isRetained()).as("to an existing subscription").isFalse();
        }
        try (PahoClient late = client("late-ret")) {
            late.subscribe("spBv1.0/STATE/h1", 1);
            Received r = late.next();
            assertThat(r.message().isRetained()).isTrue();
            assertThat(r.message().getPayload()).isEqualTo(online);
            late.publish("spBv1.0/STATE/h1", new byte[0], 1, true);
        }
        try (PahoClient later = client("later-ret")) {
            later.subscribe("spBv1.0/STATE/h1", 1);
            assertThat(later.poll(500)).as("cleared").isNull();
        }
    }

    @Test
    @DisplayName("[tck-id-conformance-mqtt-aware-basic] an aware server is a compliant one: an edge node's whole "
            + "life (NBIRTH, DBIRTH, NDATA at QoS 0, NCMD at QoS 1, NDEATH will at QoS 1) passes through unchanged")
    void tckIdConformanceMqttAwareBasic() throws Exception {
        byte[] nbirth = SparkplugB.nbirth(10_000L, 3, 20.0);
        byte[] dbirth = SparkplugB.dbirth(10_001L, 1, "Mode", "auto");
        byte[] ndata = SparkplugB.payload(10_002L, 2L, List.of(SparkplugB.metric("Temperature", 2, 10_002L,
                SparkplugB.DOUBLE, 20.5))).toByteArray();
        byte[] ncmd = SparkplugB.payload(10_003L, null, List.of(SparkplugB.metric("Node Control/Rebirth", 1,
                10_003L, SparkplugB.BOOLEAN, true))).toByteArray();
        try (PahoClient host = client("host-basic")) {
            host.subscribe("spBv1.0/GB/#", 1);
            PahoClient edge = edgeNode("GB", "EB", SparkplugB.ndeath(null, 3));
            edge.subscribe("spBv1.0/GB/NCMD/EB", 1);
            edge.publish("spBv1.0/GB/NBIRTH/EB", nbirth, 0, false);
            edge.publish("spBv1.0/GB/DBIRTH/EB/D1", dbirth, 0, false);
            edge.publish("spBv1.0/GB/NDATA/EB", ndata, 0, false);
            assertThat(host.next().message().getPayload()).isEqualTo(nbirth);
            assertThat(host.next().message().getPayload()).isEqualTo(dbirth);
            assertThat(host.next().message().getPayload()).isEqualTo(ndata);
            host.publish("spBv1.0/GB/NCMD/EB", ncmd, 1, false);
            assertThat(host.next().topic()).isEqualTo("spBv1.0/GB/NCMD/EB"); // the host sees its own command too
            Received cmd = edge.next();
            assertThat(cmd.message().getQos()).isEqualTo(1);
            assertThat(cmd.message().getPayload()).isEqualTo(ncmd);
            dieUngracefully(edge);
            Received death = host.next();
            assertThat(death.topic()).isEqualTo("spBv1.0/GB/NDEATH/EB");
            assertThat(death.message().getQos()).isEqualTo(1);
        }
    }

    @Test
    @DisplayName("[tck-id-conformance-mqtt-aware-store] NBIRTH and DBIRTH are stored as they pass through: both "
            + "are kept, retained, after the edge node has gone")
    void tckIdConformanceMqttAwareStore() throws Exception {
        byte[] nbirth = SparkplugB.nbirth(20_000L, 0, 19.0);
        byte[] dbirth = SparkplugB.dbirth(20_001L, 1, "Mode", "manual");
        PahoClient edge = edgeNode("GS", "ES", SparkplugB.ndeath(null, 0));
        edge.publish("spBv1.0/GS/NBIRTH/ES", nbirth, 0, false);
        edge.publish("spBv1.0/GS/DBIRTH/ES/D1", dbirth, 0, false);
        await().atMost(Duration.ofSeconds(10)).until(() -> broker.broker().service()
                .retained("$sparkplug/certificates/spBv1.0/GS/#").size() == 2);
        dieUngracefully(edge);
        try (PahoClient host = client("host-store")) {
            host.subscribe("$sparkplug/certificates/spBv1.0/GS/#", 1);
            List<Received> got = List.of(host.next(), host.next());
            assertThat(got).extracting(Received::topic).containsExactlyInAnyOrder(
                    "$sparkplug/certificates/spBv1.0/GS/NBIRTH/ES", "$sparkplug/certificates/spBv1.0/GS/DBIRTH/ES/D1");
            for (Received r : got) {
                assertThat(r.message().getPayload()).isEqualTo(r.topic().contains("NBIRTH") ? nbirth : dbirth);
            }
        }
    }

    @Test
    @DisplayName("[tck-id-conformance-mqtt-aware-nbirth-mqtt-topic] an NBIRTH is available on "
            + "$sparkplug/certificates/namespace/group_id/NBIRTH/edge_node_id")
    void tckIdConformanceMqttAwareNbirthMqttTopic() {
        byte[] nbirth = SparkplugB.nbirth(30_000L, 1, 18.5);
        try (PahoClient host = client("host-nt"); PahoClient edge = edgeNode("GN", "EN", SparkplugB.ndeath(null, 1))) {
            host.subscribe("$sparkplug/certificates/#", 1);
            edge.publish("spBv1.0/GN/NBIRTH/EN", nbirth, 0, false);
            Received r = host.next();
            assertThat(r.topic()).isEqualTo("$sparkplug/certificates/spBv1.0/GN/NBIRTH/EN");
            assertThat(SparkplugB.parse(r.message().getPayload())).isEqualTo(SparkplugB.parse(nbirth));
        }
    }

    @Test
    @DisplayName("[tck-id-conformance-mqtt-aware-nbirth-mqtt-retain] the NBIRTH certificate has the retain flag set "
            + "(QoS 1) for a host subscribing after it was published")
    void tckIdConformanceMqttAwareNbirthMqttRetain() {
        byte[] nbirth = SparkplugB.nbirth(31_000L, 2, 17.5);
        try (PahoClient edge = edgeNode("GR", "ER", SparkplugB.ndeath(null, 2))) {
            edge.publish("spBv1.0/GR/NBIRTH/ER", nbirth, 0, false);
            await().atMost(Duration.ofSeconds(10)).until(() -> !broker.broker().service()
                    .retained("$sparkplug/certificates/spBv1.0/GR/NBIRTH/ER").isEmpty());
            try (PahoClient host = client("host-nr")) {
                host.subscribe("$sparkplug/certificates/spBv1.0/GR/NBIRTH/ER", 1);
                Received r = host.next();
                assertThat(r.message().isRetained()).isTrue();
                assertThat(r.message().getQos()).isEqualTo(1);
                assertThat(r.message().getPayload()).isEqualTo(nbirth);
            }
        }
    }

    @Test
    @DisplayName("[tck-id-conformance-mqtt-aware-dbirth-mqtt-topic] a DBIRTH is available on "
            + "$sparkplug/certificates/namespace/group_id/DBIRTH/edge_node_id/device_id")
    void tckIdConformanceMqttAwareDbirthMqttTopic() {
        byte[] dbirth = SparkplugB.dbirth(32_000L, 1, "Mode", "auto");
        try (PahoClient host = client("host-dt"); PahoClient edge = edgeNode("GD", "ED", SparkplugB.ndeath(null, 1))) {
            host.subscribe("$sparkplug/certificates/#", 1);
            edge.publish("spBv1.0/GD/DBIRTH/ED/pump-1", dbirth, 0, false);
            Received r = host.next();
            assertThat(r.topic()).isEqualTo("$sparkplug/certificates/spBv1.0/GD/DBIRTH/ED/pump-1");
            assertThat(SparkplugB.parse(r.message().getPayload())).isEqualTo(SparkplugB.parse(dbirth));
        }
    }

    @Test
    @DisplayName("[tck-id-conformance-mqtt-aware-dbirth-mqtt-retain] the DBIRTH certificate has the retain flag set "
            + "(QoS 1) for a host subscribing after it was published")
    void tckIdConformanceMqttAwareDbirthMqttRetain() {
        byte[] dbirth = SparkplugB.dbirth(33_000L, 1, "Mode", "off");
        try (PahoClient edge = edgeNode("GE", "EE", SparkplugB.ndeath(null, 1))) {
            edge.publish("spBv1.0/GE/DBIRTH/EE/valve-2", dbirth, 0, false);
            await().atMost(Duration.ofSeconds(10)).until(() -> !broker.broker().service()
                    .retained("$sparkplug/certificates/spBv1.0/GE/DBIRTH/EE/valve-2").isEmpty());
            try (PahoClient host = client("host-dr")) {
                host.subscribe("$sparkplug/certificates/spBv1.0/GE/DBIRTH/+/+", 1);
                Received r = host.next();
                assertThat(r.topic()).isEqualTo("$sparkplug/certificates/spBv1.0/GE/DBIRTH/EE/valve-2");
                assertThat(r.message().isRetained()).isTrue();
                assertThat(r.message().getQos()).isEqualTo(1);
                assertThat(r.message().getPayload()).isEqualTo(dbirth);
            }
        }
    }

    @Test
    @DisplayName("[tck-id-conformance-mqtt-aware-ndeath-timestamp] the NDEATH's timestamp is set to the UTC time it "
            + "is delivered; its other fields are unchanged, and a payload without a timestamp gets one")
    void tckIdConformanceMqttAwareNdeathTimestamp() throws Exception {
        try (PahoClient host = client("host-ts")) {
            host.subscribe("spBv1.0/GT/NDEATH/+", 1);
            byte[] stale = SparkplugB.ndeath(1_000L, 42);
            byte[] none = SparkplugB.ndeath(null, 43);
            PahoClient withTimestamp = edgeNode("GT", "E1", stale);
            PahoClient withoutTimestamp = edgeNode("GT", "E2", none);
            long before = System.currentTimeMillis();
            dieUngracefully(withTimestamp);
            dieUngracefully(withoutTimestamp);
            List<Received> deaths = new ArrayList<>(List.of(host.next(), host.next()));
            long after = System.currentTimeMillis();
            deaths.sort((a, b) -> a.topic().compareTo(b.topic()));
            for (int i = 0; i < 2; i++) {
                DynamicMessage sent = SparkplugB.parse(i == 0 ? stale : none);
                DynamicMessage got = SparkplugB.parse(deaths.get(i).message().getPayload());
                assertThat(SparkplugB.hasTimestamp(got)).isTrue();
                assertThat(SparkplugB.timestamp(got)).isBetween(before, after);
                assertThat(SparkplugB.withoutTimestamp(got)).isEqualTo(SparkplugB.withoutTimestamp(sent));
                assertThat(got.getUnknownFields().asMap()).isEmpty();
            }
        }
    }

    @Test
    @DisplayName("a new NBIRTH clears its edge node's DBIRTH certificates (its devices are born again after it); "
            + "other edge nodes' stay")
    void nbirthClearsDeviceCertificates() {
        try (PahoClient edge = edgeNode("GC", "EC", SparkplugB.ndeath(null, 0));
             PahoClient other = edgeNode("GC", "EO", SparkplugB.ndeath(null, 0))) {
            edge.publish("spBv1.0/GC/NBIRTH/EC", SparkplugB.nbirth(1L, 0, 1.0), 0, false);
            edge.publish("spBv1.0/GC/DBIRTH/EC/D1", SparkplugB.dbirth(2L, 1, "m", "a"), 0, false);
            edge.publish("spBv1.0/GC/DBIRTH/EC/D2", SparkplugB.dbirth(3L, 2, "m", "b"), 0, false);
            other.publish("spBv1.0/GC/DBIRTH/EO/D1", SparkplugB.dbirth(4L, 1, "m", "c"), 0, false);
            await().atMost(Duration.ofSeconds(10)).until(() -> broker.broker().service()
                    .retained("$sparkplug/certificates/spBv1.0/GC/DBIRTH/#").size() == 3);
            byte[] rebirth = SparkplugB.nbirth(5L, 1, 2.0);
            edge.publish("spBv1.0/GC/NBIRTH/EC", rebirth, 0, false);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(broker.broker().service()
                    .retained("$sparkplug/certificates/spBv1.0/GC/#")).extracting(m -> m.topic())
                    .containsExactlyInAnyOrder("$sparkplug/certificates/spBv1.0/GC/NBIRTH/EC",
                            "$sparkplug/certificates/spBv1.0/GC/DBIRTH/EO/D1"));
            assertThat(broker.broker().service().retained("$sparkplug/certificates/spBv1.0/GC/NBIRTH/EC").get(0)
                    .payload()).isEqualTo(rebirth);
        }
    }

    @Test
    @DisplayName("clients may not publish under $sparkplug/: MQTT 5 PUBACK 0x87, nothing stored, counted")
    void clientPublishToSparkplugTreeDenied() throws Exception {
        Mqtt5AsyncClient c = Mqtt5Client.builder().identifier("forger").serverHost("127.0.0.1")
                .serverPort(broker.port()).buildAsync();
        c.connect().get(5, TimeUnit.SECONDS);
        try {
            Throwable refused = catchThrowable(() -> c.publishWith()
                    .topic("$sparkplug/certificates/spBv1.0/GF/NBIRTH/EF").qos(MqttQos.AT_LEAST_ONCE).retain(true)
                    .payload(SparkplugB.nbirth(1L, 0, 0.0)).send().get(5, TimeUnit.SECONDS));
            assertThat(refused).hasCauseInstanceOf(Mqtt5PubAckException.class);
            assertThat(((Mqtt5PubAckException) refused.getCause()).getMqttMessage().getReasonCode())
                    .isEqualTo(Mqtt5PubAckReasonCode.NOT_AUTHORIZED);
        } finally {
            c.disconnect().get(5, TimeUnit.SECONDS);
        }
        assertThat(broker.broker().service().retained("$sparkplug/#")).isEmpty();
        assertThat(broker.broker().metrics().sparkplugPublishesDenied.sum()).isEqualTo(1);
        assertThat(broker.broker().metrics().publishesDenied.sum()).isEqualTo(1);
    }

    @Test
    @DisplayName("a Host Application's STATE will (spBv1.0/STATE/<host_id>, QoS 1, retained) is published and kept "
            + "after an ungraceful disconnect")
    void hostApplicationStateWill() throws Exception {
        byte[] offline = "{\"online\":false,\"timestamp\":1700000000000}".getBytes(StandardCharsets.UTF_8);
        byte[] online = "{\"online\":true,\"timestamp\":1700000000000}".getBytes(StandardCharsets.UTF_8);
        MqttConnectOptions o = new MqttConnectOptions();
        o.setCleanSession(true);
        o.setWill("spBv1.0/STATE/scada-1", offline, 1, true);
        PahoClient host = PahoClient.connect(broker, "scada-1", o);
        host.publish("spBv1.0/STATE/scada-1", online, 1, true);
        try (PahoClient edge = client("edge-state")) {
            edge.subscribe("spBv1.0/STATE/+", 1);
            assertThat(edge.next().message().getPayload()).isEqualTo(online);
            dieUngracefully(host);
            Received death = edge.next();
            assertThat(death.message().getPayload()).isEqualTo(offline);
            assertThat(death.message().getQos()).isEqualTo(1);
        }
        try (PahoClient late = client("late-state")) {
            late.subscribe("spBv1.0/STATE/scada-1", 1);
            Received r = late.next();
            assertThat(r.message().isRetained()).isTrue();
            assertThat(r.message().getPayload()).isEqualTo(offline);
        }
    }

    @Test
    @DisplayName("birth certificates survive a restart (RocksDB): a host connecting afterwards gets them retained")
    void certificatesSurviveRestart() {
        byte[] nbirth = SparkplugB.nbirth(40_000L, 5, 16.0);
        byte[] dbirth = SparkplugB.dbirth(40_001L, 1, "Mode", "auto");
        try (PahoClient edge = edgeNode("GP", "EP", SparkplugB.ndeath(null, 5))) {
            edge.publish("spBv1.0/GP/NBIRTH/EP", nbirth, 0, false);
            edge.publish("spBv1.0/GP/DBIRTH/EP/D1", dbirth, 0, false);
            await().atMost(Duration.ofSeconds(10)).until(() -> broker.broker().service()
                    .retained("$sparkplug/certificates/spBv1.0/GP/#").size() == 2);
        }
        broker.restart();
        try (PahoClient host = client("host-restart")) {
            host.subscribe("$sparkplug/certificates/spBv1.0/GP/#", 1);
            List<Received> got = List.of(host.next(), host.next());
            assertThat(got).allSatisfy(r -> assertThat(r.message().isRetained()).isTrue());
            assertThat(got).extracting(r -> r.message().getPayload()).containsExactlyInAnyOrder(nbirth, dbirth);
        }
    }
}
