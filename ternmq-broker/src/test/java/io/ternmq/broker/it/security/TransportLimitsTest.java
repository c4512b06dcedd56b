package io.ternmq.broker.it.security;

import io.ternmq.broker.security.PasswordFile;
import io.ternmq.broker.security.PasswordHash;
import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.SecureBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Pingreq;
import io.ternmq.codec.Pingresp;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import org.eclipse.paho.client.mqttv3.IMqttMessageListener;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static io.ternmq.broker.it.security.TlsClients.close;
import static io.ternmq.broker.it.security.TlsClients.options;
import static io.ternmq.broker.it.security.TlsClients.paho;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Each transport limit against a misbehaving client that gets cut off, while a well-behaved client on the same broker
 * keeps working. Misbehaving clients come from 127.0.0.2, well-behaved ones from 127.0.0.1.
 */
class TransportLimitsTest {

    private static Socket from(String localAddress, int port) {
        try {
            Socket s = new Socket();
            s.bind(new InetSocketAddress(localAddress, 0));
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Connect connect(String clientId, String user, String password) {
        return new Connect(MqttVersion.MQTT_3_1_1, clientId, true, 60, user,
                password == null ? null : password.getBytes(StandardCharsets.UTF_8), null, MqttProperties.EMPTY);
    }

    private static RawClient connected(String localAddress, int port, String clientId) {
        RawClient c = new RawClient(from(localAddress, port));
        c.send(connect(clientId, null, null));
        assertThat(c.read(Connack.class).reasonCode()).isZero();
        return c;
    }

    private static void ping(RawClient c) {
        c.send(Pingreq.INSTANCE);
        assertThat(c.read()).isEqualTo(Pingresp.INSTANCE);
    }

    @Test
    @DisplayName("max_connections per listener: the connection beyond it is closed at accept, the others keep going")
    void maxConnectionsPerListener() {
        try (SecureBroker b = SecureBroker.fromConfig("listener 0 127.0.0.1", "allow_anonymous true",
                "max_connections 2", "listener 0 127.0.0.1", "allow_anonymous true")) {
            try (RawClient one = connected("127.0.0.1", b.port(0), "one");
                 RawClient two = connected("127.0.0.1", b.port(0), "two");
                 RawClient three = new RawClient(from("127.0.0.2", b.port(0)))) {
                three.assertClosedByServer();
                assertThat(b.broker().metrics().listenerConnectionsRefused.sum()).isEqualTo(1);
                ping(one);
                ping(two);
                try (RawClient other = connected("127.0.0.2", b.port(1), "other-listener")) {
                    ping(other);
                }
                two.close();
                await().atMost(Duration.ofSeconds(10)).until(() -> b.broker().server().connections(0) == 1);
                try (RawClient again = connected("127.0.0.2", b.port(0), "again")) {
                    ping(again);
                }
            }
        }
    }

    @Test
    @DisplayName("default configuration: 300 sockets opened at once from one address, then one more client, none "
            + "refused (Mosquitto has no connection rate limit either)")
    void noConnectionRateLimitByDefault() throws IOException {
        try (SecureBroker b = SecureBroker.fromConfig("listener 0 127.0.0.1", "allow_anonymous true")) {
            List<Socket> idle = new ArrayList<>();
            try {
                for (int i = 0; i < 300; i++) {
                    idle.add(from("127.0.0.2", b.port()));
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> b.broker().server().connections(0) == 300);
                try (RawClient late = connected("127.0.0.2", b.port(), "late")) {
                    ping(late);
                }
                assertThat(b.broker().metrics().connectionsRateLimited.sum()).isZero();
            } finally {
                for (Socket s : idle) {
                    s.close();
                }
            }
        }
    }

    @Test
    @DisplayName("connection_rate_per_address is per listener: a flood is cut off on the limited listener only")
    void connectionRatePerListener() throws IOException {
        try (SecureBroker b = SecureBroker.fromConfig("allow_anonymous true",
                "listener 0 127.0.0.1", "connection_rate_per_address 5",
                "listener 0 127.0.0.1")) {
            assertThat(floodClosed(b.port(1), 30)).as("unlimited listener").isZero();
            assertThat(floodClosed(b.port(0), 30)).as("limited listener").isGreaterThanOrEqualTo(20);
            try (RawClient other = connected("127.0.0.2", b.port(1), "other")) {
                ping(other);
            }
        }
    }

    /** Opens {@code n} sockets from 127.0.0.2 at once. @return how many the broker closed at accept */
    private static int floodClosed(int port, int n) throws IOException {
        int closed = 0;
        List<Socket> flood = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                flood.add(from("127.0.0.2", port));
            }
            for (Socket s : flood) {
                s.setSoTimeout(200);
                try (InputStream in = s.getInputStream()) {
                    if (in.read() < 0) {
                        closed++;
                    }
                } catch (java.net.SocketTimeoutException stillOpen) {
                    // accepted: waits for CONNECT
                } catch (IOException reset) {
                    closed++;
                }
            }
        } finally {
            for (Socket s : flood) {
                s.close();
            }
        }
        return closed;
    }

    @Test
    @DisplayName("connection_rate_per_address: a client opening connections in a loop is cut off, others are not")
    void connectionRatePerAddress() throws IOException {
        try (SecureBroker b = SecureBroker.fromConfig("connection_rate_per_address 5", "listener 0 127.0.0.1",
                "allow_anonymous true")) {
            try (RawClient good = connected("127.0.0.1", b.port(), "good")) {
                int closed = floodClosed(b.port(), 30);
                assertThat(closed).isGreaterThanOrEqualTo(20);
                assertThat(b.broker().metrics().connectionsRateLimited.sum()).isGreaterThanOrEqualTo(20);
                ping(good);
                try (RawClient another = connected("127.0.0.1", b.port(), "another")) {
                    ping(another);
                }
            }
        }
    }

    @Test
    @DisplayName("auth_failure_delay: refusals of a guessing address wait, doubling; a good client is answered at once")
    void authFailureDelay(@TempDir Path dir) throws IOException {
        Path passwd = dir.resolve("passwd");
        PasswordFile pf = PasswordFile.empty();
        pf.put(new PasswordFile.Entry("alice", PasswordHash.hash("right".toCharArray(), 1000), null));
        pf.save(passwd);
        try (SecureBroker b = SecureBroker.fromConfig("auth_failure_delay 1000", "auth_failure_delay_max 4000",
                "listener 0 127.0.0.1", "password_file " + passwd)) {
            long t0 = System.nanoTime();
            try (RawClient guess = new RawClient(from("127.0.0.2", b.port()))) {
                guess.send(connect("g1", "alice", "wrong"));
                assertThat(guess.read(Connack.class).reasonCode()).isEqualTo(ReasonCode.V3_BAD_USER_NAME_OR_PASSWORD);
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(900));
                guess.assertClosedByServer();
            }
            try (RawClient guess = new RawClient(from("127.0.0.2", b.port()))) {
                long t1 = System.nanoTime();
                guess.send(connect("g2", "alice", "wrong again"));
                // while the guesser waits, a client with the right password gets in at once
                try (RawClient good = new RawClient(from("127.0.0.1", b.port()))) {
                    good.send(connect("good", "alice", "right"));
                    assertThat(good.read(Connack.class).reasonCode()).isZero();
                    long goodDone = System.nanoTime();
                    guess.socketTimeout(Duration.ofSeconds(10));
                    assertThat(guess.read(Connack.class).reasonCode())
                            .isEqualTo(ReasonCode.V3_BAD_USER_NAME_OR_PASSWORD);
                    long guessDone = System.nanoTime();
                    assertThat(goodDone).isLessThan(guessDone);
                    assertThat(Duration.ofNanos(guessDone - t1)).as("doubled")
                            .isGreaterThanOrEqualTo(Duration.ofMillis(1900));
                    ping(good);
                }
            }
            assertThat(b.broker().metrics().authFailuresDelayed.sum()).isEqualTo(2);
        }
    }

    /** A subscriber that subscribes to flood/# and then never reads again, with a tiny receive buffer. */
    private static Socket stalledSubscriber(int port) throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(2048);
        s.bind(new InetSocketAddress("127.0.0.2", 0));
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        RawClient c = new RawClient(s);
        c.send(connect("stalled", null, null));
        assertThat(c.read(Connack.class).reasonCode()).isZero();
        c.send(new Subscribe(1, List.of(new TopicSubscription("flood/#", QoS.AT_MOST_ONCE)), MqttProperties.EMPTY));
        c.read(Suback.class);
        return s;
    }

    private static void flood(RawClient publisher, int count, int size) {
        byte[] payload = new byte[size];
        for (int i = 0; i < count; i++) {
            publisher.send(new Publish("flood/" + (i % 10), QoS.AT_MOST_ONCE, false, 0, payload));
        }
    }

    @Test
    @DisplayName("slow consumer, drop_qos0: its QoS 0 messages are dropped past the buffer, then it is disconnected")
    void slowConsumerDropsThenTimesOut() throws Exception {
        // the timeout is longer than the 2 s after which a subscriber that drains nothing stops holding its
        // publishers back: only then does the flood outrun the buffer and get dropped, before the disconnect
        slowConsumer("slow_consumer_timeout 4", b -> {
            await().atMost(Duration.ofSeconds(30)).until(() -> b.broker().metrics().slowConsumerDrops.sum() > 0);
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> b.broker().metrics().slowConsumerDisconnects.sum() == 1);
        });
    }

    @Test
    @DisplayName("slow consumer, policy disconnect: cut off as soon as its buffer is full; others keep receiving")
    void slowConsumerDisconnectPolicy() throws Exception {
        slowConsumer("slow_consumer_policy disconnect", b -> {
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> b.broker().metrics().slowConsumerDisconnects.sum() >= 1);
            assertThat(b.broker().metrics().slowConsumerDisconnects.sum()).as("only the stalled one").isEqualTo(1);
        });
    }

    /**
     * A subscriber that stopped reading, a publisher flooding it, and a well-behaved client: once {@code afterFlood}
     * has seen the broker deal with the stalled one, the others carry on and the stalled one is closed.
     */
    private static void slowConsumer(String policy, java.util.function.Consumer<SecureBroker> afterFlood)
            throws Exception {
        try (SecureBroker b = SecureBroker.fromConfig("max_outbound_buffer 262144", policy,
                "listener 0 127.0.0.1", "allow_anonymous true")) {
            BlockingQueue<String> done = new LinkedBlockingQueue<>();
            MqttClient good = paho("tcp", b.port(), "good", options(null, null, null));
            try (Socket stalled = stalledSubscriber(b.port());
                 RawClient publisher = connected("127.0.0.1", b.port(), "publisher")) {
                // the well-behaved client does not take the flood (Paho might not keep up with loopback speed and
                // would be a slow consumer itself), only what follows it
                good.subscribe("flood/end", 0, (IMqttMessageListener) (t, m) ->
                        done.add(new String(m.getPayload(), StandardCharsets.UTF_8)));
                flood(publisher, 3000, 8192);
                afterFlood.accept(b);
                publisher.send(new Publish("flood/end", QoS.AT_MOST_ONCE, false, 0,
                        "done".getBytes(StandardCharsets.UTF_8)));
                assertThat(done.poll(20, TimeUnit.SECONDS)).isEqualTo("done");
                assertThat(good.isConnected()).isTrue();
                ping(publisher);
                drainUntilClosed(stalled);
            } finally {
                close(good);
            }
        }
    }

    /** Reads what the stalled client had buffered until the server's close shows. */
    private static void drainUntilClosed(Socket s) throws IOException {
        s.setSoTimeout(10_000);
        byte[] buf = new byte[65536];
        try (InputStream in = s.getInputStream()) {
            while (in.read(buf) >= 0) {
                // discard
            }
        } catch (IOException reset) {
            // closed by the server
        }
    }
}
