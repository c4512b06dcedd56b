package io.ternmq.broker.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.ternmq.codec.MalformedPacketException;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttPacketDecoder;
import io.ternmq.codec.MqttPacketEncoder;
import io.ternmq.codec.MqttVersion;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.HexFormat;

import io.netty.buffer.ByteBufAllocator;

/**
 * A hand-driven MQTT client over a plain socket, for what well-behaved clients never send: raw bytes out, packets
 * decoded with the project's codec in, and a check that the server closed the connection.
 */
public final class RawClient implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private MqttVersion version = MqttVersion.MQTT_3_1_1;

    public RawClient(int port) {
        try {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(5000);
            socket.setTcpNoDelay(true);
            in = socket.getInputStream();
            out = socket.getOutputStream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Over a socket connected already: a TLS socket, or one bound to another local address. */
    public RawClient(Socket connected) {
        try {
            socket = connected;
            socket.setSoTimeout(5000);
            socket.setTcpNoDelay(true);
            in = socket.getInputStream();
            out = socket.getOutputStream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Changes how long {@link #read()} waits (5 s unless told). */
    /** The socket itself, for tests that write from another thread while this client reads. */
    public Socket socket() {
        return socket;
    }

    public RawClient socketTimeout(Duration timeout) {
        try {
            socket.setSoTimeout((int) timeout.toMillis());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    public RawClient version(MqttVersion version) {
        this.version = version;
        return this;
    }

    /** Sends bytes given as hex, spaces allowed: {@code "10 0c 00 04 4d 51 54 54 04 02 00 3c 00 00"}. */
    public RawClient sendHex(String hex) {
        return send(HexFormat.of().parseHex(hex.replaceAll("\\s+", "")));
    }

    public RawClient send(byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** Encodes and sends a packet with this client's protocol version. */
    public RawClient send(MqttPacket packet) {
        return send(encode(packet, version));
    }

    /** The packet's bytes in the given version. */
    public static byte[] encode(MqttPacket packet, MqttVersion version) {
        ByteBuf buf = MqttPacketEncoder.encode(ByteBufAllocator.DEFAULT, packet, version);
        try {
            byte[] bytes = new byte[buf.readableBytes()];
            buf.readBytes(bytes);
            return bytes;
        } finally {
            buf.release();
        }
    }

    /** Reads the next packet; fails if none arrives within 5 s or the connection closes. */
    public MqttPacket read() {
        try {
            ByteArrayOutputStream packet = new ByteArrayOutputStream();
            int first = in.read();
            if (first < 0) {
                throw new AssertionError("connection closed while a packet was expected");
            }
            packet.write(first);
            int remaining = 0;
            int multiplier = 1;
            int b;
            do {
                b = in.read();
                if (b < 0) {
                    throw new AssertionError("connection closed inside a fixed header");
                }
                packet.write(b);
                remaining += (b & 0x7F) * multiplier;
                multiplier *= 128;
            } while ((b & 0x80) != 0);
            packet.write(in.readNBytes(remaining));
            ByteBuf buf = Unpooled.wrappedBuffer(packet.toByteArray());
            try {
                return MqttPacketDecoder.decode(buf, version);
            } finally {
                buf.release();
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no packet within 5 s");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (MalformedPacketException e) {
            throw new AssertionError("server sent a malformed packet: " + e.getMessage(), e);
        }
    }

    /** Reads the next packet, waiting as long as it takes; fails (unchecked) when the connection closes. */
    public MqttPacket readBlocking() {
        try {
            socket.setSoTimeout(0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return read();
    }

    @SuppressWarnings("unchecked")
    public <T extends MqttPacket> T read(Class<T> type) {
        MqttPacket p = read();
        if (!type.isInstance(p)) {
            throw new AssertionError("expected " + type.getSimpleName() + " but got " + p);
        }
        return (T) p;
    }

    /** Waits until the server closes the connection, failing if any packet arrives first. */
    public void assertClosedByServer(Duration within) {
        try {
            socket.setSoTimeout((int) within.toMillis());
            int b = in.read();
            if (b >= 0) {
                throw new AssertionError("expected the server to close the connection, but it sent byte 0x"
                        + Integer.toHexString(b));
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("server did not close the connection within " + within);
        } catch (IOException e) {
            // a reset also means closed
        }
    }

    public void assertClosedByServer() {
        assertClosedByServer(Duration.ofSeconds(5));
    }

    /** Asserts that nothing arrives and the connection stays open for the given time. */
    public void assertSilentFor(Duration d) {
        try {
            socket.setSoTimeout((int) d.toMillis());
            int b = in.read();
            throw new AssertionError(b < 0 ? "connection closed" : "unexpected byte 0x" + Integer.toHexString(b));
        } catch (SocketTimeoutException expected) {
            try {
                socket.setSoTimeout(5000);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
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
