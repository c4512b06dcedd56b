package io.ternmq.broker.it.ws;

import com.hivemq.client.mqtt.MqttGlobalPublishFilter;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.mqtt5.Mqtt5BlockingClient;
import com.hivemq.client.mqtt.mqtt5.Mqtt5Client;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5Publish;
import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.PahoClient;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.broker.testing.TestPki;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Real clients over {@code protocol websockets}: Eclipse Paho (Java) v3 and v5 on ws:// and wss://, the HiveMQ client
 * and Python's paho-mqtt ({@code transport="websockets"}), each publishing to and receiving from the others.
 */
class WebSocketClientsTest {
    @TempDir
    static Path dir;
    static TestPki pki;
    static TestBroker broker;
    static int ws;
    static int wss;

    @BeforeAll
    static void start() {
        pki = TestPki.create(dir);
        TestPki.Issued server = pki.server("server");
        broker = TestBroker.start(b -> b.clearListeners()
                .listener("127.0.0.1", 0, l -> l.webSocket(true))
                .listener("127.0.0.1", 0, l -> l.webSocket(true).certificate(server.certFile(), server.keyFile())));
        ws = broker.broker().addresses().get(0).getPort();
        wss = broker.broker().addresses().get(1).getPort();
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    private static MqttConnectOptions v3Options(boolean tls) {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        if (tls) {
            o.setSocketFactory(pki.socketFactory(null));
        }
        return o;
    }

    private static MqttConnectionOptions v5Options(boolean tls) {
        MqttConnectionOptions o = Paho5Client.options(true);
        if (tls) {
            o.setSocketFactory(pki.socketFactory(null));
        }
        return o;
    }

    private void roundTrip(String scheme, int port, boolean tls) {
        String uri = scheme + "://127.0.0.1:" + port + "/mqtt";
        try (PahoClient sub3 = PahoClient.connect(uri, scheme + "-sub3", v3Options(tls));
             Paho5Client sub5 = Paho5Client.connect(uri, scheme + "-sub5", v5Options(tls));
             PahoClient pub3 = PahoClient.connect(uri, scheme + "-pub3", v3Options(tls))) {
            sub3.subscribe(scheme + "/#", 1);
            sub5.subscribe(scheme + "/#", 1);
            byte[] large = new byte[70_000]; // more than Netty's default frame limit, less than max_packet_size
            new java.util.Random(7).nextBytes(large);
            pub3.publish(scheme + "/small", "hello " + scheme, 1, false);
            pub3.publish(scheme + "/large", large, 1, false);
            assertThat(sub3.next().payload()).isEqualTo("hello " + scheme);
            assertThat(sub3.next().message().getPayload()).isEqualTo(large);
            assertThat(sub5.next().payload()).isEqualTo("hello " + scheme);
            assertThat(sub5.next().message().getPayload()).isEqualTo(large);
            sub5.publish(scheme + "/from-v5", "v5 says hi", 1, false);
            assertThat(sub3.next().payload()).isEqualTo("v5 says hi");
        }
    }

    @Test
    @DisplayName("Paho v3 and v5 over ws:// publish and subscribe, large payloads included")
    void pahoWs() {
        roundTrip("ws", ws, false);
    }

    @Test
    @DisplayName("Paho v3 and v5 over wss:// (certfile/keyfile on a websockets listener) publish and subscribe")
    void pahoWss() {
        roundTrip("wss", wss, true);
    }

    @Test
    @DisplayName("the HiveMQ client over ws:// and wss:// (path mqtt) publishes to and receives from Paho over ws")
    void hivemq() throws Exception {
        for (boolean tls : new boolean[] {false, true}) {
            var builder = Mqtt5Client.builder().identifier("hive-" + tls).serverHost("127.0.0.1")
                    .serverPort(tls ? wss : ws);
            if (tls) {
                builder = builder.sslConfig().trustManagerFactory(pki.trustManagerFactory()).applySslConfig();
            }
            Mqtt5BlockingClient hive = builder.webSocketConfig().serverPath("mqtt").applyWebSocketConfig()
                    .buildBlocking();
            hive.connect();
            try (var publishes = hive.publishes(MqttGlobalPublishFilter.ALL);
                 PahoClient paho = PahoClient.connect("ws://127.0.0.1:" + ws + "/mqtt", "paho-for-hive",
                         v3Options(false))) {
                hive.subscribeWith().topicFilter("to-hive/#").qos(MqttQos.EXACTLY_ONCE).send();
                paho.subscribe("to-paho/#", 2);
                paho.publish("to-hive/x", "from paho", 2, false);
                Mqtt5Publish p = publishes.receive(10, TimeUnit.SECONDS).orElseThrow();
                assertThat(new String(p.getPayloadAsBytes(), StandardCharsets.UTF_8)).isEqualTo("from paho");
                hive.publishWith().topic("to-paho/y").qos(MqttQos.AT_LEAST_ONCE)
                        .payload(("from hive " + tls).getBytes(StandardCharsets.UTF_8)).send();
                assertThat(paho.next().payload()).isEqualTo("from hive " + tls);
            } finally {
                hive.disconnect();
            }
        }
    }

    @Test
    @DisplayName("Python paho-mqtt with transport=\"websockets\" publishes to Paho (Java) and receives a retained message, over ws:// and wss://")
    void pythonPaho() throws Exception {
        Path python = Path.of("/usr/bin/python3");
        if (!Files.isExecutable(python)) {
            fail("/usr/bin/python3 is missing: apt-get install -y python3-paho-mqtt (.ci/run does)");
        }
        URL script = WebSocketClientsTest.class.getResource("/python/paho_client.py");
        assertThat(script).isNotNull();
        try (PahoClient paho = PahoClient.connect("ws://127.0.0.1:" + ws + "/mqtt", "java-for-py",
                v3Options(false))) {
            paho.subscribe("from-py/#", 1);
            List<String> pub = runPython(Path.of(script.toURI()), "pub", "--msg", "from-py/t", "1", "0", "over ws");
            assertThat(pub).contains("CONNECTED 0 0", "PUBLISHED from-py/t");
            assertThat(paho.next().payload()).isEqualTo("over ws");
            paho.publish("to-py/retained", "kept", 1, true);
            List<String> sub = runPython(Path.of(script.toURI()), "sub", "--topic", "to-py/#", "--qos", "1",
                    "--count", "1");
            assertThat(sub).contains("MSG to-py/retained q1 r1 kept");
            List<String> overWss = runPython(Path.of(script.toURI()), "sub", "--port", String.valueOf(wss),
                    "--cafile", pki.ca.certFile().toString(), "--topic", "to-py/#", "--qos", "1", "--count", "1");
            assertThat(overWss).as("over wss://").contains("MSG to-py/retained q1 r1 kept");
        }
    }

    private static List<String> runPython(Path script, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("/usr/bin/python3", "-u", script.toString(), args[0],
                "--host", "127.0.0.1", "--port", String.valueOf(ws), "--transport", "websockets", "--timeout", "10"));
        command.addAll(List.of(args).subList(1, args.length));
        Path out = Files.createTempFile(dir, "py", ".out");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("python did not finish: " + Files.readString(out));
        }
        String output = Files.readString(out);
        assertThat(p.exitValue()).as(output).isZero();
        return output.lines().toList();
    }
}
