package io.ternmq.broker.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.ternmq.broker.config.BridgeSettings;
import io.ternmq.broker.config.ConfigFileParser;
import io.ternmq.broker.session.SessionInfo;
import io.ternmq.broker.store.Store;
import io.ternmq.broker.store.StoreOp;
import io.ternmq.broker.store.StoreWriter;
import io.ternmq.broker.store.StoredQueue;
import io.ternmq.broker.testing.BrokerProcess;
import io.ternmq.broker.testing.Closing;
import io.ternmq.broker.testing.Paho5Client;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttPacketDecoder;
import io.ternmq.codec.MqttPacketEncoder;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Puback;
import io.ternmq.codec.Publish;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A bridge against a scripted remote broker (a server socket speaking MQTT through ternmq-codec, answering as the
 * test says): the acknowledgement timeout, the publish rate, the bridge's session id being out of clients' reach, and
 * exactly once for QoS 2 messages the remote resends after a reconnect or a restart.
 */
class BridgeFaultTest {
    @RegisterExtension
    final Closing closing = new Closing();

    private TestBroker ternWithBridge(String... lines) {
        List<BridgeSettings> b = ConfigFileParser.parse("bridge.conf", List.of(lines)).build().bridges();
        return closing.add(TestBroker.start(c -> c.bridges(b)));
    }

    /** A broker bridged (connection "scripted") to {@code remote}, with these further bridge lines. */
    private TestBroker ternWithBridge(ServerSocket remote, String... lines) {
        List<String> all = new java.util.ArrayList<>(List.of("connection scripted",
                "address 127.0.0.1:" + remote.getLocalPort()));
        all.addAll(List.of(lines));
        return ternWithBridge(all.toArray(String[]::new));
    }

    /** The scripted remote's listening socket; a test waits at most 60 s for the bridge to connect. */
    private ServerSocket scriptedRemote() throws java.io.IOException {
        ServerSocket remote = closing.add(new ServerSocket(0, 10, InetAddress.getLoopbackAddress()));
        remote.setSoTimeout(60_000);
        return remote;
    }

    /** One connection of the bridge to the scripted remote, MQTT 3.1.1 unless told otherwise. */
    private static final class RemoteSide implements AutoCloseable {
        MqttVersion version = MqttVersion.MQTT_3_1_1;
        final Socket socket;
        final DataInputStream in;
        final OutputStream out;

        RemoteSide(Socket socket) throws IOException {
            this.socket = socket;
            socket.setSoTimeout(30_000);
            this.in = new DataInputStream(socket.getInputStream());
            this.out = socket.getOutputStream();
        }

        MqttPacket read() throws Exception {
            int first = in.readUnsignedByte();
            int length = 0;
            int shift = 0;
            int b;
            do {
                b = in.readUnsignedByte();
                length |= (b & 0x7F) << shift;
                shift += 7;
            } while ((b & 0x80) != 0);
            byte[] body = new byte[length];
            in.readFully(body);
            return MqttPacketDecoder.decodeBody(first, Unpooled.wrappedBuffer(body), version);
        }

        /**
         * The next PUBLISH, skipping PINGREQs; a SUBSCRIBE is granted as asked (at 3.x a bridge always makes one, to
         * learn the remote broker's bridges, and sends its messages once it is answered).
         */
        Publish nextPublish() throws Exception {
            while (true) {
                MqttPacket p = read();
                if (p instanceof io.ternmq.codec.Subscribe s) {
                    send(new io.ternmq.codec.Suback(s.packetId(), s.subscriptions().stream()
                            .map(t -> t.qos().value()).toList(), io.ternmq.codec.MqttProperties.EMPTY));
                } else if (p instanceof Publish pub && !pub.topic().startsWith("$SYS/")) {
                    return pub;
                }
            }
        }

        void send(MqttPacket p) throws IOException {
            ByteBuf buf = MqttPacketEncoder.encode(io.netty.buffer.ByteBufAllocator.DEFAULT, p, version);
            try {
                byte[] bytes = new byte[buf.readableBytes()];
                buf.readBytes(bytes);
                out.write(bytes);
                out.flush();
            } finally {
                buf.release();
            }
        }

        /** Reads the bridge's CONNECT and accepts it. */
        Connect accept() throws Exception {
            Connect c = (Connect) read();
            send(new Connack(false, 0));
            return c;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private static RemoteSide next(ServerSocket remote) throws IOException {
        return new RemoteSide(remote.accept());
    }

    @Test
    @DisplayName("no PUBACK for bridge_ack_timeout: the bridge reconnects and resends what was in flight with DUP")
    void ackTimeoutReconnectsAndResendsWithDup() throws Exception {
        ServerSocket remote = scriptedRemote();
        TestBroker tern = ternWithBridge(remote,
                "remote_clientid edge",
                "notifications false",
                "restart_timeout 1",
                "bridge_ack_timeout 2",
                "topic up/# out 1");
        RemoteSide first = closing.add(next(remote));
        Connect connect = first.accept();
        assertThat(connect.clientId()).isEqualTo("edge");
        assertThat(connect.bridge()).as("try_private sets the bridge bit at 3.1.1").isTrue();

        try (Paho5Client pub = Paho5Client.connect(tern, "publisher")) {
            await("bridge session subscribed").atMost(Duration.ofSeconds(30)).until(() ->
                    tern.broker().service().subscriptions("local.edge").toCompletableFuture().join().size() == 1);
            pub.publish("up/x", "withheld", 1, false);
        }
        Publish withheld = first.nextPublish();
        assertThat(withheld.dup()).isFalse();
        // no PUBACK: after bridge_ack_timeout the bridge gives this connection up and comes back
        long t0 = System.nanoTime();
        RemoteSide second = closing.add(next(remote));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
        second.accept();
        Publish resent = second.nextPublish();
        assertThat(resent.dup()).isTrue();
        assertThat(resent.packetId()).isEqualTo(withheld.packetId());
        assertThat(new String(resent.payload())).isEqualTo("withheld");
        second.send(new Puback(resent.packetId()));
        await("acknowledged: nothing left in flight").atMost(Duration.ofSeconds(30)).until(() ->
                tern.broker().service().session("local.edge").toCompletableFuture().join().inflight() == 0);
    }

    @Test
    @DisplayName("a QoS 1 message goes to the remote while its write is under way; the remote's PUBACK before the "
            + "write is durable removes it for good: not resurrected, not resent after a restart, the publisher's "
            + "PUBACK still after the write")
    void qos1SentWhileWrittenAndAckedBeforeDurable() throws Exception {
        ServerSocket remote = scriptedRemote();
        TestBroker tern = ternWithBridge(remote,
                "remote_clientid edge",
                "notifications false",
                "restart_timeout 1",
                "topic up/# out 1");
        RemoteSide first = closing.add(next(remote));
        first.accept();
        Paho5Client pub = closing.add(Paho5Client.connect(tern, "publisher"));
        await("bridge session subscribed").atMost(Duration.ofSeconds(30)).until(() ->
                tern.broker().service().subscriptions("local.edge").toCompletableFuture().join().size() == 1);
        pub.publish("up/x", "before", 1, false);
        first.send(new Puback(first.nextPublish().packetId()));

        // The store's writer held in one operation's prepare while a second (whose applied() then holds it) and the
        // publish queue behind it: both are written in one batch, and the publish is not durable for the session
        // (its notice comes after that applied()) until the test lets it.
        Store store = tern.broker().store();
        CountDownLatch inPrepare = new CountDownLatch(1);
        CountDownLatch releasePrepare = new CountDownLatch(1);
        CountDownLatch releaseApplied = new CountDownLatch(1);
        store.submit(w -> {
            inPrepare.countDown();
            awaitLatch(releasePrepare);
        });
        assertThat(inPrepare.await(30, TimeUnit.SECONDS)).isTrue();
        store.submit(new StoreOp() {
            @Override
            public void prepare(StoreWriter w) {
            }

            @Override
            public void applied() {
                awaitLatch(releaseApplied);
            }
        });
        IMqttToken published = pub.client().publish("up/x", Paho5Client.message("early", 1, false,
                new org.eclipse.paho.mqttv5.common.packet.MqttProperties()));
        StoredQueue bridgeQueue = tern.broker().sessions().get("local.edge").storedQueue();
        await("the publish waits for the writer").atMost(Duration.ofSeconds(30)).until(() ->
                bridgeQueue.unstored() == 1);
        releasePrepare.countDown();
        try {
            Publish early = first.nextPublish();
            assertThat(new String(early.payload())).isEqualTo("early");
            assertThat(early.dup()).isFalse();
            assertThat(published.isComplete()).as("the publisher's PUBACK waits for the write").isFalse();
            first.send(new Puback(early.packetId()));
            await("the remote's PUBACK took the message out of flight").atMost(Duration.ofSeconds(30)).until(() ->
                    tern.broker().service().session("local.edge").toCompletableFuture().join().inflight() == 0);
            assertThat(published.isComplete()).isFalse();
        } finally {
            releaseApplied.countDown();
        }
        published.waitForCompletion(30_000);
        // the durable notice came after the PUBACK: the entry stays gone, in memory and in the store
        await("the entry deleted").atMost(Duration.ofSeconds(30)).until(() -> bridgeQueue.count() == 0);
        SessionInfo info = tern.broker().service().session("local.edge").toCompletableFuture().join();
        assertThat(info.queued()).isZero();
        assertThat(info.inflight()).isZero();
        pub.publish("up/x", "after", 1, false);
        Publish after = first.nextPublish();
        assertThat(new String(after.payload())).as("not sent again").isEqualTo("after");
        first.send(new Puback(after.packetId()));
        await("acknowledged").atMost(Duration.ofSeconds(30)).until(() -> bridgeQueue.count() == 0);

        // after a restart nothing of it comes back either: the delete was written after the put
        pub.close();
        tern.restart();
        first.close();
        RemoteSide second = closing.add(next(remote));
        second.accept();
        try (Paho5Client again = Paho5Client.connect(tern, "publisher-again")) {
            await("bridge session subscribed").atMost(Duration.ofSeconds(30)).until(() ->
                    tern.broker().service().subscriptions("local.edge").toCompletableFuture().join().size() == 1);
            again.publish("up/x", "third", 1, false);
        }
        Publish third = second.nextPublish();
        assertThat(new String(third.payload())).isEqualTo("third");
        assertThat(third.dup()).isFalse();
        second.send(new Puback(third.packetId()));
    }

    private static void awaitLatch(CountDownLatch latch) {
        try {
            if (!latch.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the test never released the store's writer");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    @DisplayName("bridge_publish_rate: a backlog drains completely, in order, no faster than the rate")
    void publishRateBoundsTheDrain() throws Exception {
        ServerSocket remote = scriptedRemote();
        TestBroker tern = ternWithBridge(remote,
                "remote_clientid edge",
                "notifications false",
                "bridge_publish_rate 20",
                "bridge_max_inflight 5",
                "topic up/# out 1");
        // the bridge's TCP connection is in the backlog and its CONNECT unanswered: the 60 messages queue first
        int n = 60;
        try (Paho5Client pub = Paho5Client.connect(tern, "publisher")) {
            await("bridge session subscribed").atMost(Duration.ofSeconds(30)).until(() ->
                    tern.broker().service().subscriptions("local.edge").toCompletableFuture().join().size() == 1);
            for (int i = 0; i < n; i++) {
                pub.publish("up/x", Integer.toString(i), 1, false);
            }
        }
        RemoteSide side = closing.add(next(remote));
        long t0 = System.nanoTime();
        side.accept();
        for (int i = 0; i < n; i++) {
            Publish p = side.nextPublish();
            assertThat(new String(p.payload())).isEqualTo(Integer.toString(i));
            side.send(new Puback(p.packetId()));
        }
        // 20 at once (a full bucket), the other 40 at 20/s: 2 s at least (a little slack for the clock)
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(1900));
    }

    @Test
    @DisplayName("no client may connect with a bridge's local_clientid (3.1.1: 0x02, MQTT 5: 0x85)")
    void bridgeSessionIdIsReserved() throws Exception {
        ServerSocket remote = closing.add(new ServerSocket(0, 10, InetAddress.getLoopbackAddress()));
        TestBroker tern = ternWithBridge(remote,
                "local_clientid bridge-session",
                "topic up/# out 1");
        MqttClient v3 = new MqttClient(tern.uri(), "bridge-session", new MemoryPersistence());
        assertThatThrownBy(() -> v3.connect(new MqttConnectOptions()))
                .isInstanceOfSatisfying(MqttException.class, e -> assertThat(e.getReasonCode()).isEqualTo(2));
        v3.close();
        org.eclipse.paho.mqttv5.client.MqttClient v5 = new org.eclipse.paho.mqttv5.client.MqttClient(tern.uri(),
                "bridge-session", new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
        assertThatThrownBy(() -> v5.connect())
                .isInstanceOfSatisfying(org.eclipse.paho.mqttv5.common.MqttException.class,
                        e -> assertThat(e.getReasonCode()).isEqualTo(0x85));
        v5.close();
    }

    @Test
    @DisplayName("local_username: the bridge publishes and subscribes here under that user's ACL (a broker process)")
    void localUsernameAclApplies() throws Exception {
        ServerSocket remote = scriptedRemote();
        BrokerProcess tern = closing.add(BrokerProcess.prepare());
        java.nio.file.Files.writeString(tern.workDir().resolve("acl"), String.join("\n",
                "topic read cmd/#", // anonymous clients: the test's subscriber
                "user bridge",
                "topic write cmd/allowed/#",
                ""));
        java.nio.file.Files.writeString(tern.workDir().resolve("ternmq.conf"), String.join("\n",
                "listener 0 127.0.0.1",
                "allow_anonymous true",
                "acl_file acl",
                "connection scripted",
                "address 127.0.0.1:" + remote.getLocalPort(),
                "remote_clientid edge",
                "local_username bridge",
                "notifications false",
                "topic cmd/# in 1",
                ""));
        tern.start("-c", "ternmq.conf");
        RemoteSide side = closing.add(next(remote));
        side.accept();
        MqttPacket subscribe = side.read();
        assertThat(subscribe).isInstanceOf(io.ternmq.codec.Subscribe.class);
        int subscribeId = ((io.ternmq.codec.Subscribe) subscribe).packetId();
        try (Paho5Client sub = Paho5Client.connect(tern.uri(), "reader", Paho5Client.options(true))) {
            sub.subscribe("cmd/#", 1);
            side.send(new io.ternmq.codec.Suback(subscribeId, List.of(1), io.ternmq.codec.MqttProperties.EMPTY));
            side.send(new Publish("cmd/denied/x", io.ternmq.codec.QoS.AT_LEAST_ONCE, false, 10,
                    "no".getBytes()));
            side.send(new Publish("cmd/allowed/x", io.ternmq.codec.QoS.AT_LEAST_ONCE, false, 11,
                    "yes".getBytes()));
            // both acknowledged to the remote (a refused publish is dropped, as for a client)
            List<Integer> acked = new ArrayList<>();
            while (acked.size() < 2) {
                MqttPacket p = side.read();
                if (p instanceof Puback a) {
                    acked.add(a.packetId());
                }
            }
            assertThat(acked).containsExactly(10, 11);
            Paho5Client.Received r = sub.next();
            assertThat(r.topic()).isEqualTo("cmd/allowed/x");
            assertThat(sub.poll(500)).isNull();
        }
    }

    @Test
    @DisplayName("an MQTT 5 remote with Maximum QoS 1 gets QoS 2 messages at QoS 1; its PUBACK completes them")
    void remoteMaximumQosIsRespected() throws Exception {
        ServerSocket remote = scriptedRemote();
        TestBroker tern = ternWithBridge(remote,
                "remote_clientid edge",
                "bridge_protocol_version mqttv50",
                "notifications false",
                "topic up/# out 2");
        RemoteSide side = closing.add(next(remote));
        side.version = MqttVersion.MQTT_5;
        Connect connect = (Connect) side.read();
        assertThat(connect.version()).isEqualTo(MqttVersion.MQTT_5);
        assertThat(connect.bridge()).as("no bridge bit at MQTT 5").isFalse();
        side.send(new Connack(false, 0, io.ternmq.codec.MqttProperties.builder()
                .set(io.ternmq.codec.PropertyId.MAXIMUM_QOS, 1).build()));
        try (Paho5Client pub = Paho5Client.connect(tern, "publisher")) {
            await("bridge session subscribed").atMost(Duration.ofSeconds(30)).until(() ->
                    tern.broker().service().subscriptions("local.edge").toCompletableFuture().join().size() == 1);
            pub.publish("up/x", "exactly once here", 2, false);
        }
        Publish p = side.nextPublish();
        assertThat(p.qos()).isEqualTo(io.ternmq.codec.QoS.AT_LEAST_ONCE);
        assertThat(BridgeHopsProperty.of(p)).isEqualTo("1");
        side.send(new Puback(p.packetId(), 0, io.ternmq.codec.MqttProperties.EMPTY));
        await("completed: nothing left in flight").atMost(Duration.ofSeconds(30)).until(() ->
                tern.broker().service().session("local.edge").toCompletableFuture().join().inflight() == 0);
    }

    /**
     * Accepts the bridge's next connection with {@code sessionPresent}, then its SUBSCRIBE (granted as asked): from
     * then on the remote may send.
     */
    private RemoteSide acceptSubscribed(ServerSocket remote, boolean sessionPresent) throws Exception {
        RemoteSide side = closing.add(next(remote));
        assertThat(side.read()).isInstanceOf(Connect.class);
        side.send(new Connack(sessionPresent, 0));
        MqttPacket p = side.read();
        assertThat(p).isInstanceOf(io.ternmq.codec.Subscribe.class);
        io.ternmq.codec.Subscribe s = (io.ternmq.codec.Subscribe) p;
        side.send(new io.ternmq.codec.Suback(s.packetId(), List.of(2), io.ternmq.codec.MqttProperties.EMPTY));
        return side;
    }

    /** The remote publishes at QoS 2 and reads the bridge's PUBREC for that id. */
    private static void publishQos2(RemoteSide side, int id, String payload, boolean dup) throws Exception {
        side.send(new Publish("down/x", io.ternmq.codec.QoS.EXACTLY_ONCE, false, dup, id, payload.getBytes(),
                io.ternmq.codec.MqttProperties.EMPTY));
        assertThat(side.read()).isEqualTo(new io.ternmq.codec.Pubrec(id, 0, io.ternmq.codec.MqttProperties.EMPTY));
    }

    /** The remote releases a QoS 2 id; the bridge answers PUBCOMP. */
    private static void release(RemoteSide side, int id) throws Exception {
        side.send(new io.ternmq.codec.Pubrel(id));
        assertThat(side.read()).isEqualTo(new io.ternmq.codec.Pubcomp(id));
    }

    /** What a subscriber got, up to and including the message {@code last}. */
    private static List<String> receivedUntil(Paho5Client sub, String last) {
        List<String> got = new ArrayList<>();
        while (got.isEmpty() || !got.get(got.size() - 1).equals(last)) {
            got.add(sub.next().payload());
        }
        return got;
    }

    private TestBroker ternWithInboundQos2(ServerSocket remote) {
        return ternWithBridge(remote,
                "remote_clientid edge",
                "notifications false",
                "restart_timeout 1",
                "topic down/# in 2");
    }

    @Test
    @DisplayName("a QoS 2 PUBLISH the remote resends (DUP, same id) after a reconnect is delivered here once "
            + "[MQTT-4.3.3-2]")
    void qos2ResentAfterReconnectIsDeliveredOnce() throws Exception {
        ServerSocket remote = scriptedRemote();
        TestBroker tern = ternWithInboundQos2(remote);
        RemoteSide first = acceptSubscribed(remote, false);
        try (Paho5Client sub = Paho5Client.connect(tern, "subscriber")) {
            sub.subscribe("down/#", 2);
            publishQos2(first, 7, "once", false);
            first.close(); // gone before its PUBREL: the remote's session keeps id 7 unreleased
            RemoteSide second = acceptSubscribed(remote, true);
            publishQos2(second, 7, "once", true);
            release(second, 7);
            // a later message: had the resend been routed again, its copy would come first
            publishQos2(second, 8, "after", false);
            release(second, 8);
            assertThat(receivedUntil(sub, "after")).containsExactly("once", "after");
        }
    }

    @Test
    @DisplayName("CONNACK without Session Present: the bridge discards the remote's QoS 2 ids, a reused id is a new "
            + "message [MQTT-3.2.2-5]")
    void sessionNotPresentDiscardsQos2Ids() throws Exception {
        ServerSocket remote = scriptedRemote();
        TestBroker tern = ternWithInboundQos2(remote);
        RemoteSide first = acceptSubscribed(remote, false);
        try (Paho5Client sub = Paho5Client.connect(tern, "subscriber")) {
            sub.subscribe("down/#", 2);
            publishQos2(first, 7, "first", false);
            first.close();
            RemoteSide second = acceptSubscribed(remote, false);
            publishQos2(second, 7, "second", false);
            release(second, 7);
            assertThat(receivedUntil(sub, "second")).containsExactly("first", "second");
        }
    }

    @Test
    @DisplayName("the remote's unreleased QoS 2 ids survive a TernMQ restart: the resend is not delivered again")
    void qos2IdsSurviveRestart() throws Exception {
        ServerSocket remote = scriptedRemote();
        TestBroker tern = ternWithInboundQos2(remote);
        RemoteSide first = acceptSubscribed(remote, false);
        try (Paho5Client sub = Paho5Client.connect(tern, "subscriber")) {
            sub.subscribe("down/#", 2);
            publishQos2(first, 7, "once", false);
            assertThat(sub.next().payload()).isEqualTo("once");
        }
        tern.restart();
        first.close();
        RemoteSide second = acceptSubscribed(remote, true);
        try (Paho5Client sub = Paho5Client.connect(tern, "subscriber-after")) {
            sub.subscribe("down/#", 2);
            publishQos2(second, 7, "once", true);
            release(second, 7);
            publishQos2(second, 8, "after", false);
            release(second, 8);
            assertThat(receivedUntil(sub, "after")).containsExactly("after");
        }
    }

    @Test
    @DisplayName("an MQTT 5 remote's Receive Maximum caps bridge_max_inflight: 2 in flight, the next once one is acked")
    void remoteReceiveMaximumCapsTheWindow() throws Exception {
        ServerSocket remote = scriptedRemote();
        TestBroker tern = ternWithBridge(remote,
                "remote_clientid edge",
                "bridge_protocol_version mqttv50",
                "notifications false",
                "bridge_max_inflight 100",
                "topic up/# out 1");
        RemoteSide side = closing.add(next(remote));
        side.version = MqttVersion.MQTT_5;
        assertThat(side.read()).isInstanceOf(Connect.class);
        side.send(new Connack(false, 0, io.ternmq.codec.MqttProperties.builder()
                .set(io.ternmq.codec.PropertyId.RECEIVE_MAXIMUM, 2).build()));
        try (Paho5Client pub = Paho5Client.connect(tern, "publisher")) {
            await("bridge session subscribed").atMost(Duration.ofSeconds(30)).until(() ->
                    tern.broker().service().subscriptions("local.edge").toCompletableFuture().join().size() == 1);
            for (int i = 0; i < 5; i++) {
                pub.publish("up/x", Integer.toString(i), 1, false);
            }
        }
        Publish first = side.nextPublish();
        Publish second = side.nextPublish();
        assertThat(new String(first.payload())).isEqualTo("0");
        assertThat(new String(second.payload())).isEqualTo("1");
        side.socket.setSoTimeout(1000);
        assertThatThrownBy(side::nextPublish).as("a third while two are unacknowledged")
                .isInstanceOf(java.net.SocketTimeoutException.class);
        side.socket.setSoTimeout(30_000);
        side.send(new Puback(first.packetId(), 0, io.ternmq.codec.MqttProperties.EMPTY));
        Publish third = side.nextPublish();
        assertThat(new String(third.payload())).isEqualTo("2");
        side.send(new Puback(second.packetId(), 0, io.ternmq.codec.MqttProperties.EMPTY));
        side.send(new Puback(third.packetId(), 0, io.ternmq.codec.MqttProperties.EMPTY));
        assertThat(new String(side.nextPublish().payload())).isEqualTo("3");
        assertThat(new String(side.nextPublish().payload())).isEqualTo("4");
    }

    @Test
    @DisplayName("bridge_queue_overflow refuse_new: with the remote away, the oldest 3 are kept and the rest counted "
            + "as drops")
    void refuseNewKeepsTheOldest() throws Exception {
        ServerSocket remote = scriptedRemote();
        TestBroker tern = ternWithBridge(remote,
                "remote_clientid edge",
                "notifications false",
                "bridge_max_queued_messages 3",
                "bridge_queue_overflow refuse_new",
                "topic up/# out 1");
        // the bridge's TCP connection waits in the backlog, its CONNECT unanswered: everything queues
        try (io.ternmq.broker.testing.PahoClient pub = io.ternmq.broker.testing.PahoClient.connect(tern,
                "publisher", true)) {
            await("bridge session subscribed").atMost(Duration.ofSeconds(30)).until(() ->
                    tern.broker().service().subscriptions("local.edge").toCompletableFuture().join().size() == 1);
            for (int i = 0; i < 5; i++) {
                pub.publish("up/x", Integer.toString(i), 1, false);
            }
        }
        await("2 drops counted").atMost(Duration.ofSeconds(30)).until(() ->
                tern.broker().metrics().bridgeQueueDrops.sum() == 2);
        RemoteSide side = closing.add(next(remote));
        side.accept();
        for (int i = 0; i < 3; i++) {
            Publish p = side.nextPublish();
            assertThat(new String(p.payload())).isEqualTo(Integer.toString(i));
            side.send(new Puback(p.packetId()));
        }
        side.socket.setSoTimeout(1000);
        assertThatThrownBy(side::nextPublish).as("nothing beyond the kept 3")
                .isInstanceOf(java.net.SocketTimeoutException.class);
        assertThat(tern.broker().metrics().bridgeQueueDrops.sum()).isEqualTo(2);
    }

    @Test
    @DisplayName("keepalive_interval: the bridge sends PINGREQ; a remote silent for 2 intervals is left and "
            + "connected to again")
    void keepAliveAndSilentRemote() throws Exception {
        ServerSocket remote = scriptedRemote();
        ternWithBridge(remote,
                "remote_clientid edge",
                "notifications false",
                "keepalive_interval 5",
                "restart_timeout 1",
                "topic up/# out 1");
        RemoteSide side = closing.add(next(remote));
        Connect connect = side.accept();
        assertThat(connect.keepAliveSeconds()).isEqualTo(5);
        MqttPacket p = side.read();
        assertThat(p).isInstanceOf(io.ternmq.codec.Subscribe.class);
        side.send(new io.ternmq.codec.Suback(((io.ternmq.codec.Subscribe) p).packetId(), List.of(0),
                io.ternmq.codec.MqttProperties.EMPTY));
        long t0 = System.nanoTime();
        assertThat(side.read()).isInstanceOf(io.ternmq.codec.Pingreq.class);
        // no PINGRESP, nothing at all: the bridge closes after 10 s without a byte from the remote
        assertThatThrownBy(side::read).isInstanceOf(java.io.EOFException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofSeconds(8));
        RemoteSide again = closing.add(next(remote));
        assertThat(again.accept().clientId()).isEqualTo("edge");
    }

    @Test
    @DisplayName("keepalive_interval: a remote that only receives (QoS 0 going out without a pause) is asked with "
            + "PINGREQ once nothing came from it for an interval, and its PINGRESP keeps the bridge connected")
    void remoteThatOnlyReceivesIsPinged() throws Exception {
        ServerSocket remote = scriptedRemote();
        TestBroker tern = ternWithBridge(remote,
                "remote_clientid edge",
                "notifications false",
                "keepalive_interval 5",
                "restart_timeout 1",
                "topic up/# out 0");
        RemoteSide side = closing.add(next(remote));
        side.accept();
        MqttPacket sub = side.read();
        side.send(new io.ternmq.codec.Suback(((io.ternmq.codec.Subscribe) sub).packetId(), List.of(0),
                io.ternmq.codec.MqttProperties.EMPTY));
        java.util.concurrent.atomic.AtomicBoolean publishing = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread load = new Thread(() -> {
            try (Paho5Client pub = Paho5Client.connect(tern, "steady")) {
                while (publishing.get()) {
                    pub.publish("up/x", "tick", 0, false);
                    Thread.sleep(50); // never an interval without a write to the remote
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "steady-qos0");
        load.start();
        int pings = 0;
        int publishes = 0;
        long until = System.nanoTime() + Duration.ofSeconds(13).toNanos(); // past 2 intervals of its silence
        try {
            while (System.nanoTime() < until) {
                MqttPacket p = side.read(); // EOF here: the bridge left a remote that answered its PINGREQs
                if (p instanceof io.ternmq.codec.Pingreq) {
                    pings++;
                    side.send(io.ternmq.codec.Pingresp.INSTANCE);
                } else if (p instanceof Publish) {
                    publishes++;
                }
            }
        } finally {
            publishing.set(false);
            load.join();
        }
        assertThat(pings).as("PINGREQs while the bridge wrote all along").isGreaterThanOrEqualTo(2);
        assertThat(publishes).isGreaterThan(50);
    }

    @ParameterizedTest(name = "local_cleansession {0}")
    @ValueSource(booleans = {true, false})
    @DisplayName("local_cleansession: true discards what the bridge queued at the broker's restart; false keeps it")
    void localCleanSessionAtRestart(boolean clean) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // nothing listens there until after the restart: the bridge queues
        }
        TestBroker tern = ternWithBridge("connection scripted",
                "address 127.0.0.1:" + port,
                "remote_clientid edge",
                "notifications false",
                "restart_timeout 1",
                "local_cleansession " + clean,
                "topic up/# out 1");
        try (Paho5Client pub = Paho5Client.connect(tern, "publisher")) {
            await("bridge session subscribed").atMost(Duration.ofSeconds(30)).until(() ->
                    tern.broker().service().subscriptions("local.edge").toCompletableFuture().join().size() == 1);
            pub.publish("up/x", "before the restart", 1, false);
        }
        await("queued").atMost(Duration.ofSeconds(30)).until(() ->
                tern.broker().service().session("local.edge").toCompletableFuture().join().queued() == 1);
        tern.restart();
        ServerSocket remote = closing.add(new ServerSocket(port, 10, InetAddress.getLoopbackAddress()));
        remote.setSoTimeout(60_000);
        RemoteSide side = closing.add(next(remote));
        side.accept();
        await("bridge session subscribed again").atMost(Duration.ofSeconds(30)).until(() ->
                tern.broker().service().subscriptions("local.edge").toCompletableFuture().join().size() == 1);
        try (Paho5Client pub = Paho5Client.connect(tern, "publisher")) {
            pub.publish("up/x", "after the restart", 1, false);
        }
        List<String> got = new ArrayList<>();
        while (!got.contains("after the restart")) {
            Publish p = side.nextPublish();
            side.send(new Puback(p.packetId()));
            got.add(new String(p.payload()));
        }
        assertThat(got).containsExactlyElementsOf(clean ? List.of("after the restart")
                : List.of("before the restart", "after the restart"));
    }

    @Test
    @DisplayName("cleansession true and bridge_max_packet_size at MQTT 5: Session Expiry 0 and the Maximum Packet "
            + "Size announced; a larger PUBLISH from the remote ends the connection")
    void cleanSessionAndMaximumPacketSizeAtMqtt5() throws Exception {
        ServerSocket remote = scriptedRemote();
        ternWithBridge(remote,
                "remote_clientid edge",
                "bridge_protocol_version mqttv50",
                "notifications false",
                "cleansession true",
                "restart_timeout 1",
                "bridge_max_packet_size 1000",
                "topic down/# in 1");
        RemoteSide side = closing.add(next(remote));
        side.version = MqttVersion.MQTT_5;
        Connect connect = (Connect) side.read();
        assertThat(connect.cleanStart()).isTrue();
        assertThat(connect.properties().getLong(io.ternmq.codec.PropertyId.SESSION_EXPIRY_INTERVAL)).isEqualTo(0L);
        assertThat(connect.properties().getLong(io.ternmq.codec.PropertyId.MAXIMUM_PACKET_SIZE)).isEqualTo(1000L);
        side.send(new Connack(false, 0, io.ternmq.codec.MqttProperties.EMPTY));
        MqttPacket p = side.read();
        side.send(new io.ternmq.codec.Suback(((io.ternmq.codec.Subscribe) p).packetId(), List.of(1),
                io.ternmq.codec.MqttProperties.EMPTY));
        side.send(new Publish("down/big", io.ternmq.codec.QoS.AT_LEAST_ONCE, false, false, 5, new byte[2000],
                io.ternmq.codec.MqttProperties.EMPTY));
        // the bridge gives the connection up (MQTT 5: DISCONNECT 0x95 first, or just the close) and comes back
        RemoteSide again = closing.add(next(remote));
        again.version = MqttVersion.MQTT_5;
        assertThat(((Connect) again.read()).clientId()).isEqualTo("edge");
    }

    /** The hop count a forwarded message carries. */
    private static final class BridgeHopsProperty {
        static String of(Publish p) {
            return p.properties().userProperties().stream().filter(u -> u.name().equals("ternmq-bridge-hops"))
                    .map(io.ternmq.codec.UserProperty::value).findFirst().orElse(null);
        }
    }
}
