package io.ternmq.broker.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.ternmq.codec.MalformedPacketException;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttPacketDecoder;
import io.ternmq.codec.MqttVersion;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A WebSocket client on a plain socket, byte by byte, for the cases a real client never produces: any upgrade request,
 * frames split or joined at will, text frames, oversized frames; and a view of exactly which frames the server sends
 * (whole packets in each, checked).
 */
public final class RawWebSocket implements AutoCloseable {
    public static final int BINARY = 2;
    public static final int TEXT = 1;
    public static final int CONTINUATION = 0;
    public static final int CLOSE = 8;
    public static final int PING = 9;
    public static final int PONG = 10;

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private MqttVersion version = MqttVersion.MQTT_3_1_1;
    private final java.util.ArrayDeque<MqttPacket> pending = new java.util.ArrayDeque<>();

    /** An HTTP response's status and headers (names in lower case). */
    public record Response(int status, Map<String, String> headers, String body) {
    }

    /** A frame the server sent: its opcode, FIN bit and payload. */
    public record Frame(int opcode, boolean fin, byte[] payload) {
        /** A close frame's status code; 1005 (none) if it has no payload. */
        public int closeStatus() {
            return payload.length < 2 ? 1005 : ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
        }
    }

    public RawWebSocket(int port) {
        this(connect(port));
    }

    public RawWebSocket(Socket connected) {
        try {
            socket = connected;
            socket.setSoTimeout(5000);
            socket.setTcpNoDelay(true);
            in = new DataInputStream(socket.getInputStream());
            out = socket.getOutputStream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Socket connect(int port) {
        try {
            return new Socket("127.0.0.1", port);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public RawWebSocket version(MqttVersion version) {
        this.version = version;
        return this;
    }

    /**
     * A well-formed upgrade to {@code path} offering subprotocol mqtt, with {@code headers} ("Name: value") added or,
     * by name, replacing the defaults; a header given as "Name:" alone is left out.
     */
    public Response upgrade(String path, String... headers) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Host", "127.0.0.1");
        h.put("Upgrade", "websocket");
        h.put("Connection", "Upgrade");
        byte[] key = new byte[16];
        ThreadLocalRandom.current().nextBytes(key);
        h.put("Sec-WebSocket-Key", Base64.getEncoder().encodeToString(key));
        h.put("Sec-WebSocket-Version", "13");
        h.put("Sec-WebSocket-Protocol", "mqtt");
        for (String header : headers) {
            int colon = header.indexOf(':');
            String name = header.substring(0, colon);
            h.keySet().removeIf(k -> k.equalsIgnoreCase(name));
            String value = header.substring(colon + 1).trim();
            if (!value.isEmpty()) {
                h.put(name, value);
            }
        }
        StringBuilder req = new StringBuilder("GET " + path + " HTTP/1.1\r\n");
        h.forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
        req.append("\r\n");
        return request(req.toString());
    }

    /** Sends a raw request and reads the response's status line and headers (and a body of Content-Length). */
    public Response request(String raw) {
        send(raw.getBytes(StandardCharsets.ISO_8859_1));
        try {
            String status = line();
            if (status == null) {
                throw new AssertionError("connection closed before an HTTP response");
            }
            Map<String, String> headers = new LinkedHashMap<>();
            for (String l = line(); l != null && !l.isEmpty(); l = line()) {
                int colon = l.indexOf(':');
                headers.put(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim());
            }
            String body = "";
            if (headers.containsKey("content-length")) {
                body = new String(in.readNBytes(Integer.parseInt(headers.get("content-length"))),
                        StandardCharsets.UTF_8);
            }
            return new Response(Integer.parseInt(status.split(" ")[1]), headers, body);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no HTTP response within the timeout");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                String s = b.toString(StandardCharsets.ISO_8859_1);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }

    /** A masked frame, as clients must send them. */
    public RawWebSocket sendFrame(int opcode, boolean fin, byte[] payload) {
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.write((fin ? 0x80 : 0) | opcode);
        if (payload.length < 126) {
            f.write(0x80 | payload.length);
        } else if (payload.length < 65536) {
            f.write(0x80 | 126);
            f.write(payload.length >> 8);
            f.write(payload.length);
        } else {
            f.write(0x80 | 127);
            for (int i = 7; i >= 0; i--) {
                f.write((int) ((long) payload.length >> (8 * i)));
            }
        }
        byte[] mask = new byte[4];
        ThreadLocalRandom.current().nextBytes(mask);
        f.writeBytes(mask);
        for (int i = 0; i < payload.length; i++) {
            f.write(payload[i] ^ mask[i % 4]);
        }
        return send(f.toByteArray());
    }

    public RawWebSocket sendBinary(byte[] payload) {
        return sendFrame(BINARY, true, payload);
    }

    /** Packets, encoded with this client's version, in one binary frame. */
    public RawWebSocket sendPackets(MqttPacket... packets) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (MqttPacket p : packets) {
            b.writeBytes(RawClient.encode(p, version));
        }
        return sendBinary(b.toByteArray());
    }

    public RawWebSocket send(byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** The next frame the server sends; fails if none comes within 5 s or the connection closes. */
    public Frame readFrame() {
        try {
            int b0 = in.readUnsignedByte();
            int b1 = in.readUnsignedByte();
            if ((b1 & 0x80) != 0) {
                throw new AssertionError("the server masked a frame");
            }
            long length = b1 & 0x7F;
            if (length == 126) {
                length = in.readUnsignedShort();
            } else if (length == 127) {
                length = in.readLong();
            }
            return new Frame(b0 & 0x0F, (b0 & 0x80) != 0, in.readNBytes((int) length));
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no frame within the timeout");
        } catch (IOException e) {
            throw new AssertionError("connection closed while a frame was expected: " + e);
        }
    }

    /**
     * The next packet. Packets arrive in binary frames, one or more whole packets each: a frame that ends inside a
     * packet fails the test, as a browser client assuming whole packets per frame would fail.
     */
    public MqttPacket readPacket() {
        while (pending.isEmpty()) {
            Frame f = readFrame();
            if (f.opcode() != BINARY || !f.fin()) {
                throw new AssertionError("expected a final binary frame, got opcode " + f.opcode() + " fin " + f.fin());
            }
            ByteBuf buf = Unpooled.wrappedBuffer(f.payload());
            try {
                while (buf.isReadable()) {
                    int size = packetSize(buf);
                    if (size < 0 || size > buf.readableBytes()) {
                        throw new AssertionError("the frame ends inside a packet (" + buf.readableBytes()
                                + " bytes left)");
                    }
                    pending.add(MqttPacketDecoder.decode(buf.readSlice(size), version));
                }
            } catch (MalformedPacketException e) {
                throw new AssertionError("not whole packets in the frame: " + e.getMessage(), e);
            } finally {
                buf.release();
            }
        }
        return pending.poll();
    }

    /** The number of packets the last frame held that are not read yet. */
    public int packetsLeftInFrame() {
        return pending.size();
    }

    private static int packetSize(ByteBuf b) {
        int remaining = 0;
        for (int i = 1; i <= 4 && i < b.readableBytes(); i++) {
            int digit = b.getUnsignedByte(b.readerIndex() + i);
            remaining |= (digit & 0x7F) << (7 * (i - 1));
            if ((digit & 0x80) == 0) {
                return 1 + i + remaining;
            }
        }
        return -1;
    }

    @SuppressWarnings("unchecked")
    public <T extends MqttPacket> T readPacket(Class<T> type) {
        MqttPacket p = readPacket();
        if (!type.isInstance(p)) {
            throw new AssertionError("expected " + type.getSimpleName() + " but got " + p);
        }
        return (T) p;
    }

    /** Reads frames until the server's close frame; its status. */
    public int awaitCloseFrame() {
        while (true) {
            Frame f = readFrame();
            if (f.opcode() == CLOSE) {
                return f.closeStatus();
            }
        }
    }

    /** Waits until the server closes the TCP connection, failing if more than {@code within} passes. */
    public void assertClosedByServer(Duration within) {
        try {
            socket.setSoTimeout((int) within.toMillis());
            while (in.read() >= 0) {
                // what was still in flight
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("server did not close the connection within " + within);
        } catch (IOException e) {
            // a reset also means closed
        }
    }

    public Socket socket() {
        return socket;
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
