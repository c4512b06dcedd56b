package io.ternmq.broker.it.conformance;

import io.ternmq.broker.testing.RawClient;
import io.ternmq.broker.testing.TestBroker;
import io.ternmq.codec.Connack;
import io.ternmq.codec.Connect;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import io.ternmq.codec.ReasonCode;
import io.ternmq.codec.Suback;
import io.ternmq.codec.Subscribe;
import io.ternmq.codec.TopicSubscription;
import io.ternmq.codec.Will;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;

/** Small conversations shared by the conformance tests: raw clients of either version, and raw frames. */
final class Clients {
    static final MqttVersion V311 = MqttVersion.MQTT_3_1_1;
    static final MqttVersion V5 = MqttVersion.MQTT_5;

    private Clients() {
    }

    static Connect connect(MqttVersion v, String clientId, boolean clean) {
        return new Connect(v, clientId, clean, 60, null, null, null, MqttProperties.EMPTY);
    }

    static Connect connect(MqttVersion v, String clientId, boolean clean, MqttProperties props, Will will) {
        return new Connect(v, clientId, clean, 60, null, null, will, props);
    }

    static RawClient open(TestBroker broker, MqttVersion v) {
        return new RawClient(broker.port()).version(v);
    }

    /** Sends CONNECT and returns the CONNACK. */
    static Connack connack(RawClient c, Connect connect) {
        c.send(connect);
        return c.read(Connack.class);
    }

    /** A client whose CONNECT was accepted. */
    static RawClient connected(TestBroker broker, Connect connect) {
        RawClient c = open(broker, connect.version());
        Connack ack = connack(c, connect);
        if (ack.reasonCode() != ReasonCode.SUCCESS) {
            c.close();
            throw new AssertionError("CONNACK 0x" + Integer.toHexString(ack.reasonCode()));
        }
        return c;
    }

    static RawClient connected(TestBroker broker, MqttVersion v, String clientId) {
        return connected(broker, connect(v, clientId, true));
    }

    static RawClient connected(TestBroker broker, MqttVersion v, String clientId, boolean clean) {
        return connected(broker, connect(v, clientId, clean));
    }

    /** Subscribes to one filter; returns the SUBACK codes. */
    static List<Integer> subscribe(RawClient c, int packetId, String filter, QoS qos) {
        return subscribe(c, new Subscribe(packetId, List.of(new TopicSubscription(filter, qos)),
                MqttProperties.EMPTY));
    }

    static List<Integer> subscribe(RawClient c, Subscribe s) {
        c.send(s);
        Suback ack = c.read(Suback.class);
        if (ack.packetId() != s.packetId()) {
            throw new AssertionError("SUBACK for " + ack.packetId() + ", expected " + s.packetId());
        }
        return ack.reasonCodes();
    }

    static Publish publish(String topic, QoS qos, int packetId, String payload) {
        return new Publish(topic, qos, false, false, packetId, bytes(payload), MqttProperties.EMPTY);
    }

    static Publish publish(String topic, QoS qos, boolean retain, int packetId, String payload,
                           MqttProperties props) {
        return new Publish(topic, qos, retain, false, packetId, bytes(payload), props);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String text(Publish p) {
        return new String(p.payload(), StandardCharsets.UTF_8);
    }

    /** A socket that reads whole frames as bytes, undecoded, to check what a decoder would not show. */
    static final class Frames implements AutoCloseable {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        Frames(int port) {
            try {
                socket = new Socket("127.0.0.1", port);
                socket.setSoTimeout(5000);
                in = socket.getInputStream();
                out = socket.getOutputStream();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        Frames sendHex(String hex) {
            try {
                out.write(HexFormat.of().parseHex(hex.replaceAll("\\s+", "")));
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        /** The next frame, fixed header included. */
        byte[] frame() {
            try {
                ByteArrayOutputStream f = new ByteArrayOutputStream();
                int first = in.read();
                if (first < 0) {
                    throw new AssertionError("connection closed while a frame was expected");
                }
                f.write(first);
                int remaining = 0;
                int multiplier = 1;
                int b;
                do {
                    b = in.read();
                    f.write(b);
                    remaining += (b & 0x7F) * multiplier;
                    multiplier *= 128;
                } while ((b & 0x80) != 0);
                f.write(in.readNBytes(remaining));
                return f.toByteArray();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }
}
