package io.ternmq.broker.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.ternmq.codec.ReasonCode;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The frame codec on its own (an embedded channel, the MQTT adapter replaced by a handler that keeps what it gets):
 * how it reads client frames (RFC 6455 §5), what it refuses with which close status, how it frames what is written,
 * and what it reads from the packets it frames.
 */
class WebSocketFramesTest {
    private static final int MAX = 1000;
    private static final int BINARY = 2;
    private static final int CONTINUATION = 0;
    private static final int PING = 9;
    private static final int CLOSE = 8;

    /** Keeps the data the codec passes on, and how many buffers it came in. */
    private static final class Received extends ChannelInboundHandlerAdapter {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int buffers;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            byte[] a = new byte[b.readableBytes()];
            b.readBytes(a);
            bytes.writeBytes(a);
            buffers++;
            b.release();
        }
    }

    private final Received stream = new Received();

    private EmbeddedChannel upgraded() {
        WebSocketFrames frames = new WebSocketFrames(MAX);
        EmbeddedChannel ch = new EmbeddedChannel(frames, stream);
        frames.handshakeDone();
        return ch;
    }

    /** A client frame: FIN and opcode in {@code b0}, masked with {@code mask}, the length in its shortest form. */
    static byte[] frame(int b0, byte[] payload, int mask) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(b0);
        int n = payload.length;
        if (n < 126) {
            out.write(0x80 | n);
        } else if (n <= 0xFFFF) {
            out.write(0x80 | 126);
            out.write(n >> 8);
            out.write(n);
        } else {
            out.write(0x80 | 127);
            out.writeBytes(ByteBuffer.allocate(8).putLong(n).array());
        }
        byte[] key = ByteBuffer.allocate(4).putInt(mask).array();
        out.writeBytes(key);
        for (int i = 0; i < n; i++) {
            out.write(payload[i] ^ key[i & 3]);
        }
        return out.toByteArray();
    }

    private static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    @Test
    @DisplayName("unmasking eight bytes at a time equals unmasking byte by byte, at any payload offset, in place or moved towards the start")
    void unmask() {
        Random random = new Random(7);
        for (int n = 0; n <= 40; n++) {
            for (int offset = 0; offset < 4; offset++) {
                for (int shift = 0; shift <= 14; shift++) {
                    int mask = random.nextInt();
                    byte[] data = bytes(n + shift + 3, n * 31 + offset);
                    byte[] expected = data.clone();
                    byte[] key = ByteBuffer.allocate(4).putInt(mask).array();
                    for (int i = 0; i < n; i++) {
                        expected[1 + i] = (byte) (data[1 + shift + i] ^ key[(offset + i) & 3]);
                    }
                    for (ByteBuffer b : List.of(ByteBuffer.wrap(data.clone()),
                            ByteBuffer.allocateDirect(data.length).put(data).clear())) {
                        WebSocketMask.unmask(b, 1 + shift, 1, n, mask, offset);
                        byte[] got = new byte[data.length];
                        b.get(0, got);
                        assertThat(Arrays.copyOfRange(got, 0, 1 + n))
                                .as("n %d offset %d shift %d", n, offset, shift)
                                .isEqualTo(Arrays.copyOfRange(expected, 0, 1 + n));
                    }
                }
            }
        }
    }

    @Test
    @DisplayName("[MQTT-6.0.0-2] binary and continuation frames of 7-, 16- and 64-bit lengths, a ping between them, cut at every byte into two reads: the payloads arrive as one stream, the ping is answered")
    void readsFramesCutAnywhere() {
        byte[] a = bytes(100, 1);
        byte[] b = bytes(300, 2);
        byte[] c = bytes(70_000, 3);
        byte[] wire = concat(frame(BINARY, a, 0x01020304), frame(0x80 | PING, new byte[] {9, 8, 7}, 0x55AA55AA),
                frame(CONTINUATION, b, 0xDEADBEEF), frame(0x80 | CONTINUATION, new byte[0], 0x11111111),
                frame(0x80 | BINARY, c, 0x0BADF00D));
        for (int cut = 0; cut <= wire.length; cut += cut < 500 ? 1 : 997) {
            Received got = new Received();
            WebSocketFrames frames = new WebSocketFrames(100_000);
            EmbeddedChannel ch = new EmbeddedChannel(frames, got);
            frames.handshakeDone();
            ch.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(wire, 0, cut)));
            ch.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(wire, cut, wire.length)));
            assertThat(got.bytes.toByteArray()).as("cut at %d", cut).isEqualTo(concat(a, b, c));
            ByteBuf pong = ch.readOutbound();
            assertThat(ByteBufBytes.of(pong)).isEqualTo(new byte[] {(byte) 0x8A, 3, 9, 8, 7});
            assertThat(ch.isActive()).isTrue();
            ch.finishAndReleaseAll();
        }
    }

    @Test
    @DisplayName("the payloads of many frames in one read go on as one buffer")
    void manyFramesOneBuffer() {
        EmbeddedChannel ch = upgraded();
        byte[] wire = new byte[0];
        byte[] expected = new byte[0];
        for (int i = 0; i < 20; i++) {
            byte[] p = bytes(i * 7 + 1, i);
            wire = concat(wire, frame(0x80 | BINARY, p, i * 0x01010101));
            expected = concat(expected, p);
        }
        ch.writeInbound(Unpooled.wrappedBuffer(wire));
        assertThat(stream.bytes.toByteArray()).isEqualTo(expected);
        assertThat(stream.buffers).isEqualTo(1);
        ch.finishAndReleaseAll();
    }

    @Test
    @DisplayName("bytes that arrive before the 101 is written are held, then read")
    void heldUntilTheHandshakeIsDone() {
        WebSocketFrames frames = new WebSocketFrames(MAX);
        EmbeddedChannel ch = new EmbeddedChannel(frames, stream);
        byte[] p = bytes(50, 5);
        ch.writeInbound(Unpooled.wrappedBuffer(frame(0x80 | BINARY, p, 42)));
        assertThat(stream.buffers).isZero();
        frames.handshakeDone();
        assertThat(stream.bytes.toByteArray()).isEqualTo(p);
        ch.finishAndReleaseAll();
    }

    static Stream<Arguments> badFrames() {
        byte[] unmasked = {(byte) 0x82, 1, 0};
        byte[] nonMinimal = concat(new byte[] {(byte) 0x82, (byte) (0x80 | 126), 0, 125}, new byte[4], new byte[125]);
        byte[] negative = concat(new byte[] {(byte) 0x82, (byte) (0x80 | 127), (byte) 0x80, 0, 0, 0, 0, 0, 0, 0},
                new byte[4]);
        return Stream.of(
                Arguments.of("an unmasked frame", unmasked, 1002),
                Arguments.of("reserved bits", frame(0x80 | 0x40 | BINARY, new byte[1], 1), 1002),
                Arguments.of("reserved data opcode 3", frame(0x80 | 3, new byte[1], 1), 1002),
                Arguments.of("reserved control opcode 0xB", frame(0x80 | 0xB, new byte[1], 1), 1002),
                Arguments.of("a fragmented ping", frame(PING, new byte[1], 1), 1002),
                Arguments.of("a ping of 126 bytes", frame(0x80 | PING, new byte[126], 1), 1002),
                Arguments.of("a continuation outside a message", frame(0x80 | CONTINUATION, new byte[1], 1), 1002),
                Arguments.of("a new message inside a fragmented one",
                        concat(frame(BINARY, new byte[0], 1), frame(0x80 | BINARY, new byte[1], 1)), 1002),
                Arguments.of("a length not minimally encoded", nonMinimal, 1002),
                Arguments.of("a negative 64-bit length", negative, 1002),
                Arguments.of("a frame over max_packet_size", frame(0x80 | BINARY, new byte[MAX + 1], 1), 1009),
                Arguments.of("[MQTT-6.0.0-1] a text frame", frame(0x81, new byte[] {'h', 'i'}, 1), 1003),
                Arguments.of("a close frame with a one-byte body", frame(0x80 | CLOSE, new byte[1], 1), 1002),
                Arguments.of("a close frame with status 1005", frame(0x80 | CLOSE, new byte[] {0x03, (byte) 0xED}, 1),
                        1002),
                Arguments.of("a close frame whose reason is not UTF-8",
                        frame(0x80 | CLOSE, new byte[] {0x03, (byte) 0xE8, (byte) 0xC3, 0x28}, 1), 1007));
    }

    @ParameterizedTest(name = "{0}: close status {2}")
    @MethodSource("badFrames")
    @DisplayName("a frame that breaks RFC 6455 or the limits: the data before it goes on, then a close frame with its status, and the connection ends")
    void refused(String what, byte[] bad, int status) {
        EmbeddedChannel ch = upgraded();
        byte[] before = bytes(10, 1);
        ch.writeInbound(Unpooled.wrappedBuffer(concat(frame(0x80 | BINARY, before, 3), bad,
                frame(0x80 | BINARY, bytes(10, 2), 3))));
        assertThat(stream.bytes.toByteArray()).isEqualTo(before);
        ByteBuf close = ch.readOutbound();
        assertThat(ByteBufBytes.of(close)).isEqualTo(new byte[] {(byte) 0x88, 2, (byte) (status >> 8), (byte) status});
        assertThat(ch.isOpen()).isFalse();
        ch.finishAndReleaseAll();
    }

    @Test
    @DisplayName("a close frame is answered with its status (or none, as it came) and ends the connection; nothing read after it")
    void clientCloses() {
        for (byte[] body : List.of(new byte[] {0x03, (byte) 0xE8, 'b', 'y', 'e'}, new byte[0])) {
            Received got = new Received();
            WebSocketFrames frames = new WebSocketFrames(MAX);
            EmbeddedChannel ch = new EmbeddedChannel(frames, got);
            frames.handshakeDone();
            ch.writeInbound(Unpooled.wrappedBuffer(concat(frame(0x80 | BINARY, new byte[] {1}, 9),
                    frame(0x80 | CLOSE, body, 9), frame(0x80 | BINARY, new byte[] {2}, 9))));
            assertThat(got.bytes.toByteArray()).isEqualTo(new byte[] {1});
            ByteBuf answer = ch.readOutbound();
            assertThat(ByteBufBytes.of(answer)).isEqualTo(body.length == 0 ? new byte[] {(byte) 0x88, 0}
                    : new byte[] {(byte) 0x88, 2, 0x03, (byte) 0xE8});
            assertThat(ch.isOpen()).isFalse();
            ch.finishAndReleaseAll();
        }
    }

    @Test
    @DisplayName("what is written between two flushes leaves as one unmasked binary frame: header of 2, 4 or 10 bytes by length; a shared payload kept as it is")
    void writesFrames() {
        for (int[] sizes : new int[][] {{2, 5}, {100, 200}, {3000, 4000, 5000}, {70_000}}) {
            WebSocketFrames frames = new WebSocketFrames(MAX);
            EmbeddedChannel ch = new EmbeddedChannel(frames);
            frames.handshakeDone();
            byte[] expected = new byte[0];
            for (int size : sizes) {
                byte[] packet = packet(size);
                ch.write(Unpooled.wrappedBuffer(packet));
                expected = concat(expected, packet);
            }
            assertThat((Object) ch.readOutbound()).isNull();
            ch.flush();
            byte[] wire = ByteBufBytes.of(ch.readOutbound());
            int n = expected.length;
            byte[] header = n < 126 ? new byte[] {(byte) 0x82, (byte) n}
                    : n <= 0xFFFF ? new byte[] {(byte) 0x82, 126, (byte) (n >> 8), (byte) n}
                    : concat(new byte[] {(byte) 0x82, 127}, ByteBuffer.allocate(8).putLong(n).array());
            assertThat(wire).as("sizes %s", Arrays.toString(sizes)).isEqualTo(concat(header, expected));
            assertThat((Object) ch.readOutbound()).isNull();
            ch.finishAndReleaseAll();
        }
    }

    /** A PUBLISH-like packet of exactly {@code size} bytes, its remaining length encoded. */
    private static byte[] packet(int size) {
        List<Byte> header = new ArrayList<>();
        header.add((byte) 0x30);
        int lengthBytes = size - 1 <= 128 ? 1 : size - 1 <= 16_385 ? 2 : 3;
        int remaining = size - 1 - lengthBytes;
        do {
            int digit = remaining % 128;
            remaining /= 128;
            header.add((byte) (remaining > 0 ? digit | 0x80 : digit));
        } while (remaining > 0);
        byte[] p = bytes(size, size);
        for (int i = 0; i < header.size(); i++) {
            p[i] = header.get(i);
        }
        assertThat(WebSocketFrames.packetSize(Unpooled.wrappedBuffer(p))).isEqualTo(size);
        return p;
    }

    /** A ByteBuf's readable bytes, released. */
    private static final class ByteBufBytes {
        static byte[] of(Object msg) {
            ByteBuf b = (ByteBuf) msg;
            byte[] a = new byte[b.readableBytes()];
            b.readBytes(a);
            b.release();
            return a;
        }
    }

    @Test
    @DisplayName("a packet's length from its fixed header: 1 to 4 length bytes; -1 while the header is incomplete")
    void packetSize() {
        assertThat(WebSocketFrames.packetSize(Unpooled.wrappedBuffer(new byte[] {(byte) 0xC0, 0x00}))).isEqualTo(2);
        assertThat(WebSocketFrames.packetSize(Unpooled.wrappedBuffer(new byte[] {0x30, 0x7F}))).isEqualTo(129);
        assertThat(WebSocketFrames.packetSize(Unpooled.wrappedBuffer(new byte[] {0x30, (byte) 0x80, 0x01})))
                .isEqualTo(1 + 2 + 128);
        assertThat(WebSocketFrames.packetSize(Unpooled.wrappedBuffer(
                new byte[] {0x30, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x7F}))).isEqualTo(1 + 4 + 268_435_455);
        assertThat(WebSocketFrames.packetSize(Unpooled.wrappedBuffer(new byte[] {0x30, (byte) 0x80}))).isEqualTo(-1);
        assertThat(WebSocketFrames.packetSize(Unpooled.wrappedBuffer(new byte[] {0x30}))).isEqualTo(-1);
    }

    @Test
    @DisplayName("close status after a DISCONNECT: 1000 normal or taken over, 1001 shutting down, 1002 malformed or protocol error, 1009 too large, 1008 other refusals")
    void closeStatus() {
        assertThat(WebSocketFrames.closeStatusOf(ReasonCode.SUCCESS)).isEqualTo(1000);
        assertThat(WebSocketFrames.closeStatusOf(ReasonCode.SESSION_TAKEN_OVER)).isEqualTo(1000);
        assertThat(WebSocketFrames.closeStatusOf(ReasonCode.SERVER_SHUTTING_DOWN)).isEqualTo(1001);
        assertThat(WebSocketFrames.closeStatusOf(ReasonCode.MALFORMED_PACKET)).isEqualTo(1002);
        assertThat(WebSocketFrames.closeStatusOf(ReasonCode.PROTOCOL_ERROR)).isEqualTo(1002);
        assertThat(WebSocketFrames.closeStatusOf(ReasonCode.PACKET_TOO_LARGE)).isEqualTo(1009);
        assertThat(WebSocketFrames.closeStatusOf(0x87)).isEqualTo(1008);
    }
}
