package io.ternmq.broker.it;

import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.RawV5;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Pingreq;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A client that is still sending when the broker ends its connection reads the reason anyway: the DISCONNECT (MQTT
 * 5) or the refusing CONNACK arrives before the close, and the close is a FIN, not a reset that would throw away what
 * the client has not read yet. The client of each case keeps writing without pause from a thread of its own, and
 * makes the broker send it a backlog first (messages on a topic it subscribed to) that it starts reading only a moment
 * later, as a busy client would: with a plain close, the reset purges that backlog and the reason behind it from the
 * broker's socket. Every case runs {@value #ROUNDS} times.
 */
class ClosingTest {
    private static final int ROUNDS = 50;
    /** What the client keeps writing after the offending packet: PINGREQs, 2 bytes each. */
    private static final byte[] FILLER = filler();
    /** QoS 0 messages to the client's own subscription, sent before the offending packet: 400 × 900 bytes. */
    private static final byte[] BACKLOG = backlog();
    /** How long the client is busy before it reads. */
    private static final long READ_AFTER_MILLIS = 50;

    private TestBroker broker;

    @AfterEach
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    private static byte[] backlog() {
        byte[] one = RawClient.encode(RawV5.publish("closing/echo", QoS.AT_MOST_ONCE, 0, "e".repeat(900)),
                MqttVersion.MQTT_5);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < 400; i++) {
            out.writeBytes(one);
        }
        return out.toByteArray();
    }

    private static byte[] filler() {
        byte[] ping = RawClient.encode(Pingreq.INSTANCE, MqttVersion.MQTT_5);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < 2048; i++) {
            out.writeBytes(ping);
        }
        return out.toByteArray();
    }

    /**
     * Connects and subscribes to the backlog's topic (unless {@code connect} is null: the offending bytes hold the
     * CONNECT), then writes the backlog, {@code offending} and PINGREQs without pause from another thread, and reads,
     * after {@value #READ_AFTER_MILLIS} ms, until the broker's DISCONNECT or refusing CONNACK. Messages,
     * acknowledgements and PINGRESPs on the way are skipped.
     *
     * @return the reason code of the DISCONNECT or CONNACK
     */
    private int reasonWhileClientKeepsWriting(Connect connect, byte[] offending) throws Exception {
        return reasonWhileClientKeepsWriting(MqttVersion.MQTT_5, connect, offending);
    }

    private int reasonWhileClientKeepsWriting(MqttVersion version, Connect connect, byte[] offending)
            throws Exception {
        RawClient c = new RawClient(broker.port()).version(version);
        Socket socket = c.socket();
        byte[] backlog = new byte[0];
        if (connect != null) {
            assertThat(RawV5.connack(c, connect).reasonCode()).isZero();
            assertThat(RawV5.subscribe(c, "closing/echo", QoS.AT_MOST_ONCE)).containsExactly(0);
            backlog = BACKLOG;
        }
        byte[] first = backlog;
        AtomicBoolean done = new AtomicBoolean();
        Thread writer = new Thread(() -> {
            try {
                OutputStream out = socket.getOutputStream();
                out.write(first);
                out.write(offending);
                while (!done.get()) {
                    out.write(FILLER);
                }
            } catch (IOException expected) {
                // the broker closed; a reset here is fine, the reader must have its answer already
            }
        }, "closing-test-writer");
        writer.setDaemon(true);
        writer.start();
        try {
            if (backlog.length > 0) {
                Thread.sleep(READ_AFTER_MILLIS);
            }
            while (true) {
                MqttPacket p;
                try {
                    p = c.read();
                } catch (UncheckedIOException e) {
                    throw new AssertionError("connection reset before the broker's reason was read: " + e);
                }
                if (p instanceof Disconnect d) {
                    return d.reasonCode();
                }
                if (p instanceof Connack ack) {
                    return ack.reasonCode();
                }
            }
        } finally {
            done.set(true);
            c.close();
            writer.join(5000);
        }
    }

    private static byte[] v5(MqttPacket p) {
        return RawClient.encode(p, MqttVersion.MQTT_5);
    }

    @Test
    @DisplayName("Receive Maximum exceeded: DISCONNECT 0x93 is read while the client keeps writing, every time")
    void receiveMaximumExceeded() throws Exception {
        broker = TestBroker.start(b -> b.receiveMaximum(10));
        for (int round = 0; round < ROUNDS; round++) {
            ByteArrayOutputStream publishes = new ByteArrayOutputStream();
            for (int id = 1; id <= 11; id++) { // QoS 2, never released: all 11 count against Receive Maximum
                publishes.writeBytes(v5(RawV5.publish("closing/rm", QoS.EXACTLY_ONCE, id, "x")));
            }
            assertThat(reasonWhileClientKeepsWriting(RawV5.connect("rm-" + round), publishes.toByteArray()))
                    .as("round " + round).isEqualTo(ReasonCode.RECEIVE_MAXIMUM_EXCEEDED);
        }
        assertLingered();
    }

    @Test
    @DisplayName("packet too large: DISCONNECT 0x95 is read while the client keeps writing, every time")
    void packetTooLarge() throws Exception {
        broker = TestBroker.start(b -> b.maxPacketSize(1024));
        byte[] big = v5(RawV5.publish("closing/big", QoS.AT_MOST_ONCE, 0, "x".repeat(2000)));
        for (int round = 0; round < ROUNDS; round++) {
            assertThat(reasonWhileClientKeepsWriting(RawV5.connect("big-" + round), big))
                    .as("round " + round).isEqualTo(ReasonCode.PACKET_TOO_LARGE);
        }
        assertLingered();
    }

    @Test
    @DisplayName("malformed packet: DISCONNECT 0x81 is read while the client keeps writing, every time")
    void malformedPacket() throws Exception {
        broker = TestBroker.start();
        byte[] qos3 = v5(RawV5.publish("closing/bad", QoS.AT_MOST_ONCE, 0, "x"));
        qos3[0] = 0x36; // PUBLISH with both QoS bits set: malformed [MQTT-3.3.1-4]
        for (int round = 0; round < ROUNDS; round++) {
            assertThat(reasonWhileClientKeepsWriting(RawV5.connect("bad-" + round), qos3))
                    .as("round " + round).isEqualTo(ReasonCode.MALFORMED_PACKET);
        }
        assertLingered();
    }

    @Test
    @DisplayName("second CONNECT: DISCONNECT 0x82 is read while the client keeps writing, every time")
    void secondConnect() throws Exception {
        broker = TestBroker.start();
        for (int round = 0; round < ROUNDS; round++) {
            Connect connect = RawV5.connect("twice-" + round);
            assertThat(reasonWhileClientKeepsWriting(connect, v5(connect)))
                    .as("round " + round).isEqualTo(ReasonCode.PROTOCOL_ERROR);
        }
        assertLingered();
    }

    @Test
    @DisplayName("refused CONNECT: the refusing CONNACK is read while the client keeps writing, every time")
    void refusingConnack() throws Exception {
        broker = TestBroker.start();
        for (int round = 0; round < ROUNDS; round++) {
            Connect unknownMethod = RawV5.connect("refused-" + round, true, 60,
                    RawV5.props(PropertyId.AUTHENTICATION_METHOD, "NOPE"));
            assertThat(reasonWhileClientKeepsWriting(null, v5(unknownMethod)))
                    .as("round " + round).isEqualTo(ReasonCode.BAD_AUTHENTICATION_METHOD);
            // MQTT 3.1 has no place for long client identifiers: CONNACK 0x02 in the 3.1 format
            Connect longId31 = new Connect(MqttVersion.MQTT_3_1, "x".repeat(24) + round, true, 60, null, null, null,
                    MqttProperties.EMPTY);
            assertThat(reasonWhileClientKeepsWriting(MqttVersion.MQTT_3_1, null,
                    RawClient.encode(longId31, MqttVersion.MQTT_3_1)))
                    .as("round " + round).isEqualTo(ReasonCode.V3_IDENTIFIER_REJECTED);
        }
        assertLingered();
    }

    @Test
    @DisplayName("a client that never stops sending is cut off at the bound, and only that client")
    void endlessSenderIsCutOff() throws Exception {
        broker = TestBroker.start();
        try (RawClient bystander = RawV5.connected(broker, "bystander")) {
            RawClient c = RawV5.connected(broker, "endless");
            Socket socket = c.socket();
            AtomicBoolean stop = new AtomicBoolean();
            Thread writer = new Thread(() -> {
                try {
                    OutputStream out = socket.getOutputStream();
                    out.write(v5(RawV5.connect("endless")));
                    while (!stop.get()) {
                        out.write(FILLER);
                    }
                } catch (IOException expected) {
                    // cut off
                }
            }, "closing-test-endless");
            writer.setDaemon(true);
            writer.start();
            try {
                // the client neither reads nor closes: only the bound ends it
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> broker.broker().metrics().lingeringCloseCutOffs.sum() == 1);
                writer.join(5000);
                assertThat(writer.isAlive()).as("the writer ended with an error").isFalse();
            } finally {
                stop.set(true);
                c.close();
            }
            RawV5.assertAlive(bystander);
        }
    }

    /** Every close above was a lingering one; none needed the bound, since each client closed after reading. */
    private void assertLingered() {
        await().atMost(Duration.ofSeconds(5)).until(() -> broker.broker().metrics().connectionsOpen.get() == 0);
        assertThat(broker.broker().metrics().lingeringCloses.sum()).isGreaterThanOrEqualTo(ROUNDS);
    }
}
