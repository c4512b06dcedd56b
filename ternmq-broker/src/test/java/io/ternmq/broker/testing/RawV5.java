package io.ternmq.broker.testing;

import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Pingreq;
import io.ternmq.codec.Pingresp;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import io.ternmq.codec.Will;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * Builders and small conversations for MQTT 5.0 over {@link RawClient}: CONNECT with properties, a connected client,
 * SUBSCRIBE with options, and reading what the server sends next (including its DISCONNECT and the close).
 */
public final class RawV5 {
    private RawV5() {
    }

    /** Properties from pairs: {@code props(PropertyId.SESSION_EXPIRY_INTERVAL, 10L, PropertyId.RECEIVE_MAXIMUM, 2)}. */
    public static MqttProperties props(Object... pairs) {
        if (pairs.length % 2 != 0) {
            throw new IllegalArgumentException("property/value pairs expected");
        }
        MqttProperties.Builder b = MqttProperties.builder();
        for (int i = 0; i < pairs.length; i += 2) {
            b.set((PropertyId) pairs[i], pairs[i + 1]);
        }
        return b.build();
    }

    public static Connect connect(String clientId, boolean cleanStart, int keepAlive, MqttProperties properties) {
        return new Connect(MqttVersion.MQTT_5, clientId, cleanStart, keepAlive, null, null, null, properties);
    }

    public static Connect connect(String clientId, boolean cleanStart, int keepAlive, MqttProperties properties,
                                  Will will) {
        return new Connect(MqttVersion.MQTT_5, clientId, cleanStart, keepAlive, null, null, will, properties);
    }

    public static Connect connect(String clientId) {
        return connect(clientId, true, 60, MqttProperties.EMPTY);
    }

    /** A socket speaking MQTT 5.0, not yet connected. */
    public static RawClient open(TestBroker broker) {
        return new RawClient(broker.port()).version(MqttVersion.MQTT_5);
    }

    /** Sends CONNECT and returns the CONNACK, whatever its reason code. */
    public static Connack connack(RawClient c, Connect connect) {
        c.send(connect);
        Connack ack = c.read(Connack.class);
        if (ack.reasonCode() != ReasonCode.SUCCESS && ack.sessionPresent()) {
            throw new AssertionError("[MQTT-3.2.2-6] CONNACK 0x" + Integer.toHexString(ack.reasonCode())
                    + " with Session Present 1");
        }
        return ack;
    }

    /** A client connected with this CONNECT, which must be accepted (CONNACK 0x00). */
    public static RawClient connected(TestBroker broker, Connect connect) {
        RawClient c = open(broker);
        Connack ack = connack(c, connect);
        if (ack.reasonCode() != ReasonCode.SUCCESS) {
            c.close();
            throw new AssertionError("CONNACK 0x" + Integer.toHexString(ack.reasonCode()) + " " + ack.properties());
        }
        return c;
    }

    public static RawClient connected(TestBroker broker, String clientId) {
        return connected(broker, connect(clientId));
    }

    public static Subscribe subscribe(int packetId, String filter, QoS qos) {
        return new Subscribe(packetId, List.of(new TopicSubscription(filter, qos)), MqttProperties.EMPTY);
    }

    /** Subscribes and returns the SUBACK reason codes. */
    public static List<Integer> subscribe(RawClient c, Subscribe subscribe) {
        c.send(subscribe);
        Suback ack = c.read(Suback.class);
        if (ack.packetId() != subscribe.packetId()) {
            throw new AssertionError("SUBACK for packet id " + ack.packetId() + ", expected " + subscribe.packetId());
        }
        return ack.reasonCodes();
    }

    public static List<Integer> subscribe(RawClient c, String filter, QoS qos) {
        return subscribe(c, subscribe(1, filter, qos));
    }

    public static Publish publish(String topic, QoS qos, int packetId, String payload, MqttProperties props) {
        return new Publish(topic, qos, false, false, packetId, payload.getBytes(StandardCharsets.UTF_8), props);
    }

    public static Publish publish(String topic, QoS qos, int packetId, String payload) {
        return publish(topic, qos, packetId, payload, MqttProperties.EMPTY);
    }

    public static Will will(String topic, String payload, QoS qos, boolean retain, MqttProperties props) {
        return new Will(topic, payload.getBytes(StandardCharsets.UTF_8), qos, retain, props);
    }

    /**
     * Expects the server's DISCONNECT next and then the close of the connection.
     *
     * @return the DISCONNECT's reason code
     */
    public static int disconnectReason(RawClient c) {
        MqttPacket p = c.read();
        if (!(p instanceof Disconnect d)) {
            throw new AssertionError("expected DISCONNECT but got " + p);
        }
        checkServerDisconnect(d);
        c.assertClosedByServer();
        return d.reasonCode();
    }

    /** Rules every DISCONNECT from the server keeps, checked wherever a test reads one. */
    private static void checkServerDisconnect(Disconnect d) {
        if (d.properties().contains(PropertyId.SESSION_EXPIRY_INTERVAL)) {
            throw new AssertionError("[MQTT-3.14.2-2] the server sent a Session Expiry Interval in DISCONNECT");
        }
        if (!ReasonCode.isError(d.reasonCode()) && d.reasonCode() != ReasonCode.NORMAL_DISCONNECTION) {
            throw new AssertionError("[MQTT-3.14.2-1] DISCONNECT reason 0x" + Integer.toHexString(d.reasonCode())
                    + " is not one a server sends");
        }
    }

    /** Like {@link #disconnectReason(RawClient)} but skips PUBLISHes that may arrive first. */
    public static Disconnect awaitDisconnect(RawClient c) {
        while (true) {
            MqttPacket p = c.read();
            if (p instanceof Disconnect d) {
                checkServerDisconnect(d);
                c.assertClosedByServer();
                return d;
            }
            if (!(p instanceof Publish)) {
                throw new AssertionError("expected DISCONNECT but got " + p);
            }
        }
    }

    /**
     * Reads every packet the server sends until it closes the connection.
     *
     * @throws AssertionError if the connection stays open without a packet for 5 s
     */
    public static List<MqttPacket> readUntilClosed(RawClient c) {
        List<MqttPacket> packets = new java.util.ArrayList<>();
        while (true) {
            try {
                packets.add(c.read());
            } catch (AssertionError e) {
                if (e.getMessage() != null && e.getMessage().startsWith("connection closed")) {
                    return packets;
                }
                throw e;
            } catch (java.io.UncheckedIOException e) {
                return packets; // reset: closed as well
            }
        }
    }

    /** The connection is alive and served: PINGREQ gets PINGRESP. */
    public static void assertAlive(RawClient c) {
        c.send(Pingreq.INSTANCE);
        MqttPacket p = c.read();
        if (!(p instanceof Pingresp)) {
            throw new AssertionError("expected PINGRESP but got " + p);
        }
    }

    /** Expects nothing from the server for a short while. */
    public static void assertNothingFor(RawClient c, long millis) {
        c.assertSilentFor(Duration.ofMillis(millis));
    }

    public static String payload(Publish p) {
        return new String(p.payload(), StandardCharsets.UTF_8);
    }

    /** The string as hex with spaces, for {@link RawClient#sendHex}. */
    public static String hex(String s) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            sb.append(String.format("%02x ", b & 0xFF));
        }
        return sb.toString().trim();
    }
}
