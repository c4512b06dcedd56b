package io.ternmq.broker.it.ops;

import io.ternmq.broker.config.AdminListenerConfig;
import io.ternmq.broker.security.PasswordFile;
import io.ternmq.broker.security.PasswordHash;
import io.ternmq.broker.testing.AdminHttp;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawWebSocket;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.broker.testing.TestPki;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client's transport and its connection's own traffic in {@code GET /api/v1/clients/{id}} and the listing, and the
 * {@code ternmq_connections{listener,transport}} gauge, over four listeners: plain TCP, TCP behind a PROXY header,
 * WebSocket behind a trusted proxy's {@code Forwarded} header, and WebSocket over TLS. Raw clients, so that every
 * byte the broker should have counted is known.
 */
class ClientTransportTest {
    private static final byte[] PAYLOAD = "0123456789".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;
    private TestBroker broker;
    private AdminHttp admin;
    private TestPki pki;
    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        Path passwd = dir.resolve("passwd");
        PasswordFile pf = PasswordFile.empty();
        pf.put(new PasswordFile.Entry("ops", PasswordHash.hash("secret".toCharArray(), 1000), null));
        pf.save(passwd);
        TestPki pki = TestPki.create(dir);
        TestPki.Issued server = pki.server("localhost");
        broker = TestBroker.start(b -> b.clearListeners()
                .listener("127.0.0.1", 0)
                .listener("127.0.0.1", 0, l -> l.proxyProtocol(1))
                .listener("127.0.0.1", 0, l -> l.webSocket(true).webSocketTrustedProxies(List.of("127.0.0.1/32")))
                .listener("127.0.0.1", 0, l -> l.webSocket(true).certificate(server.certFile(), server.keyFile()))
                .adminListener(new AdminListenerConfig("127.0.0.1", 0, passwd, false)));
        admin = new AdminHttp(broker);
        this.pki = pki;
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
        broker.close();
    }

    private int port(int listener) {
        return broker.broker().addresses().get(listener).getPort();
    }

    private static Connect connect(String clientId) {
        return new Connect(MqttVersion.MQTT_3_1_1, clientId, true, 60, null, null, null, MqttProperties.EMPTY);
    }

    private static int size(io.ternmq.codec.MqttPacket p) {
        return RawClient.encode(p, MqttVersion.MQTT_3_1_1).length;
    }

    private String client(String id) {
        HttpResponse<String> r = admin.as("ops", "secret", "GET", "/api/v1/clients/" + id, null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return r.body();
    }

    /** The raw JSON value of {@code key} (a number, null, or a quoted string with its quotes). */
    private static String field(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\":(\"[^\"]*\"|[^,}]+)").matcher(json);
        assertThat(m.find()).as(key + " in " + json).isTrue();
        return m.group(1);
    }

    @Test
    @DisplayName("GET clients/{id}: transport (tcp, ws, wss), the proxy header that named the address, messages and bytes in and out of this connection")
    void transportAndTraffic() throws Exception {
        // a WebSocket subscriber behind a trusted proxy that names it with RFC 7239's Forwarded (quoted IPv6, a port)
        RawWebSocket sub = new RawWebSocket(port(2));
        open.add(sub);
        assertThat(sub.upgrade("/mqtt", "Forwarded: for=\"[2001:db8::7]:4711\";proto=https").status())
                .isEqualTo(101);
        Connect subConnect = connect("c-ws");
        Subscribe subscribe = new Subscribe(1, List.of(new TopicSubscription("t/#", QoS.AT_MOST_ONCE)),
                MqttProperties.EMPTY);
        sub.sendPackets(subConnect);
        assertThat(sub.readPacket(Connack.class).reasonCode()).isZero();
        sub.sendPackets(subscribe);
        assertThat(sub.readPacket(Suback.class).reasonCodes()).containsExactly(0);

        // a plain TCP publisher: three QoS 0 messages
        RawClient pub = new RawClient(port(0));
        open.add(pub);
        Connect pubConnect = connect("c-tcp");
        pub.send(pubConnect);
        assertThat(pub.read(Connack.class).reasonCode()).isZero();
        Publish publish = new Publish("t/1", QoS.AT_MOST_ONCE, false, 0, PAYLOAD);
        for (int i = 0; i < 3; i++) {
            pub.send(publish);
        }
        for (int i = 0; i < 3; i++) {
            assertThat(sub.readPacket(Publish.class).payload()).isEqualTo(PAYLOAD);
        }

        String tcp = client("c-tcp");
        assertThat(field(tcp, "transport")).isEqualTo("\"tcp\"");
        assertThat(field(tcp, "addressVia")).isEqualTo("null");
        assertThat(field(tcp, "messagesIn")).isEqualTo("3");
        assertThat(field(tcp, "messagesOut")).isEqualTo("0");
        assertThat(Long.parseLong(field(tcp, "bytesIn"))).isEqualTo(size(pubConnect) + 3L * size(publish));
        assertThat(field(tcp, "bytesOut")).as("its CONNACK").isEqualTo("4");

        String ws = client("c-ws");
        assertThat(field(ws, "transport")).isEqualTo("\"ws\"");
        assertThat(field(ws, "address")).isEqualTo("\"[2001:db8:0:0:0:0:0:7]:4711\"");
        assertThat(field(ws, "addressVia")).isEqualTo("\"forwarded\"");
        assertThat(field(ws, "messagesIn")).isEqualTo("0");
        assertThat(field(ws, "messagesOut")).isEqualTo("3");
        // MQTT bytes inside the WebSocket frames: CONNECT and SUBSCRIBE in; CONNACK (4), SUBACK (5), 3 PUBLISH out
        assertThat(Long.parseLong(field(ws, "bytesIn"))).isEqualTo(size(subConnect) + size(subscribe));
        assertThat(Long.parseLong(field(ws, "bytesOut"))).isEqualTo(4 + 5 + 3L * size(publish));

        // a PROXY header names the client; WebSocket over TLS
        RawClient proxied = new RawClient(port(1));
        open.add(proxied);
        proxied.send("PROXY TCP4 198.51.100.9 127.0.0.1 40003 1883\r\n".getBytes(StandardCharsets.US_ASCII));
        proxied.send(connect("c-proxy"));
        assertThat(proxied.read(Connack.class).reasonCode()).isZero();
        Socket plain = new Socket("127.0.0.1", port(3));
        RawWebSocket wss = new RawWebSocket(pki.socketFactory(null).createSocket(plain, "localhost", port(3), true));
        open.add(wss);
        assertThat(wss.upgrade("/mqtt", "Forwarded: for=203.0.113.1").status()).isEqualTo(101);
        wss.sendPackets(connect("c-wss"));
        assertThat(wss.readPacket(Connack.class).reasonCode()).isZero();

        String viaProxy = client("c-proxy");
        assertThat(field(viaProxy, "transport")).isEqualTo("\"tcp\"");
        assertThat(field(viaProxy, "address")).isEqualTo("\"198.51.100.9:40003\"");
        assertThat(field(viaProxy, "addressVia")).isEqualTo("\"proxy_protocol\"");
        String tls = client("c-wss");
        assertThat(field(tls, "transport")).isEqualTo("\"wss\"");
        assertThat(field(tls, "addressVia")).as("no trusted proxies on this listener: its header is ignored")
                .isEqualTo("null");
        assertThat(field(tls, "address")).startsWith("\"127.0.0.1:");

        // the listing carries the same figures, read on each connection's loop in its batch
        HttpResponse<String> list = admin.as("ops", "secret", "GET", "/api/v1/clients?like=c-", null);
        assertThat(list.statusCode()).isEqualTo(200);
        assertThat(list.body()).contains("\"transport\":\"ws\"", "\"transport\":\"wss\"",
                "\"addressVia\":\"proxy_protocol\"", "\"messagesIn\":3", "\"messagesOut\":3");

        // one open connection per listener, each under its transport
        String metrics = admin.as("ops", "secret", "GET", "/metrics", null).body();
        assertThat(metrics).contains(
                gauge(port(0), "tcp"), gauge(port(1), "tcp"), gauge(port(2), "websocket"),
                gauge(port(3), "websocket_tls"));
    }

    private static String gauge(int port, String transport) {
        return "ternmq_connections{listener=\"127.0.0.1:" + port + "\",transport=\"" + transport + "\"} 1.0\n";
    }
}
