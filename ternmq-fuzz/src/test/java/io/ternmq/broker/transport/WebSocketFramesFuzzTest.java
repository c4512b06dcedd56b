package io.ternmq.broker.transport;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Differential fuzz target for the broker's WebSocket frame reader ({@link WebSocketFrames}) against Netty's
 * {@link WebSocket13FrameDecoder}, which it replaced: the same bytes, cut into the same reads, go to both. The
 * broker's reader must never throw; the data it passes on must begin with what Netty decoded (it may go further: it
 * passes on the part of a frame that has arrived, Netty waits for the whole frame); where Netty refuses a frame (or
 * delivers a text frame, which the broker refuses with 1003), the broker must have closed with the same status and
 * passed on exactly the same data; every ping Netty decoded must have been answered with its payload; a close frame
 * must have been answered. The first input byte gives the size of the reads (1 to 64), the rest is what the client
 * sent. Without {@code JAZZER_FUZZ=1} this replays the saved inputs under
 * {@code src/test/resources/io/ternmq/broker/transport/WebSocketFramesFuzzTestInputs/}.
 */
class WebSocketFramesFuzzTest {
    private static final int MAX_FRAME_PAYLOAD = 300;

    /** What the broker's reader passed on to the MQTT decoder. */
    private static final class Received extends ChannelInboundHandlerAdapter {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            try {
                byte[] a = new byte[b.readableBytes()];
                b.readBytes(a);
                bytes.writeBytes(a);
            } finally {
                b.release();
            }
        }
    }

    @FuzzTest(maxDuration = "5m")
    void againstNettysDecoder(byte[] input) {
        if (input.length == 0) {
            return;
        }
        int readSize = 1 + (input[0] & 0x3F);
        Received received = new Received();
        WebSocketFrames frames = new WebSocketFrames(MAX_FRAME_PAYLOAD);
        EmbeddedChannel ours = new EmbeddedChannel(frames, received);
        frames.handshakeDone();
        EmbeddedChannel netty = new EmbeddedChannel(new WebSocket13FrameDecoder(WebSocketDecoderConfig.newBuilder()
                .maxFramePayloadLength(MAX_FRAME_PAYLOAD).allowExtensions(false).expectMaskedFrames(true).build()));
        ByteArrayOutputStream nettyData = new ByteArrayOutputStream();
        List<byte[]> pings = new ArrayList<>();
        Integer nettyEnd = null; // the close status Netty refused with (1003: it delivered a text frame); -1: a close
        try {
            for (int at = 1; at < input.length; at += readSize) {
                byte[] read = Arrays.copyOfRange(input, at, Math.min(input.length, at + readSize));
                if (ours.isOpen()) {
                    ours.writeInbound(Unpooled.wrappedBuffer(read.clone())); // unmasked in place: a copy of its own
                    ours.checkException();
                }
                if (nettyEnd == null) {
                    Integer refusedWith = null;
                    try {
                        netty.writeInbound(Unpooled.wrappedBuffer(read));
                        netty.checkException();
                    } catch (CorruptedWebSocketFrameException refused) {
                        refusedWith = refused.closeStatus().code(); // after the frames it decoded before
                    }
                    for (Object f; (f = netty.readInbound()) != null; ) {
                        WebSocketFrame frame = (WebSocketFrame) f;
                        try {
                            if (nettyEnd != null) {
                                continue;
                            }
                            if (frame instanceof BinaryWebSocketFrame || frame instanceof ContinuationWebSocketFrame) {
                                nettyData.writeBytes(bytes(frame.content()));
                            } else if (frame instanceof PingWebSocketFrame) {
                                pings.add(bytes(frame.content()));
                            } else if (frame instanceof TextWebSocketFrame) {
                                nettyEnd = 1003;
                            } else if (frame instanceof CloseWebSocketFrame) {
                                nettyEnd = -1;
                            }
                        } finally {
                            frame.release();
                        }
                    }
                    if (nettyEnd == null) {
                        nettyEnd = refusedWith;
                    }
                }
            }
            List<byte[]> written = new ArrayList<>();
            for (Object o; (o = ours.readOutbound()) != null; ) {
                written.add(bytes((ByteBuf) o));
                ((ByteBuf) o).release();
            }
            check(received.bytes.toByteArray(), nettyData.toByteArray(), nettyEnd, pings, written, ours.isOpen());
        } finally {
            ours.finishAndReleaseAll();
            netty.finishAndReleaseAll();
        }
    }

    private static void check(byte[] ourData, byte[] nettyData, Integer nettyEnd, List<byte[]> pings,
                              List<byte[]> written, boolean stillOpen) {
        if (ourData.length < nettyData.length
                || !Arrays.equals(Arrays.copyOf(ourData, nettyData.length), nettyData)) {
            throw new AssertionError("data passed on does not begin with Netty's: " + ourData.length + " bytes vs "
                    + nettyData.length);
        }
        int pongs = 0;
        Integer ourClose = null; // the status of the close frame we sent; -1: one without a status
        for (byte[] f : written) {
            int opcode = f[0] & 0x0F;
            if ((f[0] & 0xF0) != 0x80 || (f[1] & 0x80) != 0) {
                throw new AssertionError("a frame that is not FIN, unmasked, no reserved bits: " + (f[0] & 0xFF));
            }
            if (ourClose != null) {
                throw new AssertionError("a frame written after the close frame");
            }
            if (opcode == 0xA) {
                if (pongs >= pings.size()
                        || !Arrays.equals(Arrays.copyOfRange(f, 2, f.length), pings.get(pongs))) {
                    throw new AssertionError("pong " + pongs + " answers no ping Netty decoded, in that order");
                }
                pongs++;
            } else if (opcode == 0x8) {
                ourClose = f.length >= 4 ? ((f[2] & 0xFF) << 8) | (f[3] & 0xFF) : -1;
            } else {
                throw new AssertionError("an unexpected frame, opcode " + opcode);
            }
        }
        if (pongs < pings.size()) {
            throw new AssertionError(pings.size() + " pings, " + pongs + " pongs");
        }
        if (nettyEnd != null && nettyEnd != -1) {
            if (ourClose == null || !ourClose.equals(nettyEnd) || stillOpen) {
                throw new AssertionError("Netty refused with " + nettyEnd + ", the broker closed with " + ourClose
                        + (stillOpen ? " and is still open" : ""));
            }
            if (ourData.length != nettyData.length) {
                throw new AssertionError("data passed on beyond the refused frame");
            }
        } else if (nettyEnd != null) { // the client's close frame: answered, and nothing read after it
            if (ourClose == null || stillOpen || ourData.length != nettyData.length) {
                throw new AssertionError("a close frame not answered (" + ourClose + ") or data read after it");
            }
        } else if (ourClose != null && ourClose != 1003) {
            // only a text frame is refused before Netty would decode it whole
            throw new AssertionError("the broker closed with " + ourClose + " where Netty found nothing wrong");
        }
    }

    private static byte[] bytes(ByteBuf b) {
        byte[] a = new byte[b.readableBytes()];
        b.getBytes(b.readerIndex(), a);
        return a;
    }
}
