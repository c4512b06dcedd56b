package io.ternmq.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The bench frames and masks its own WebSocket writes: Netty's server decoder must read them back unchanged. */
class WebSocketClientFramesTest {
    @Test
    void framesReadBackByNettysDecoder() {
        Random random = new Random(7);
        for (int length : new int[] {1, 7, 8, 9, 125, 126, 1024, 65535, 65536, 70001}) {
            byte[] payload = new byte[length];
            random.nextBytes(payload);
            EmbeddedChannel server = new EmbeddedChannel(new WebSocket13FrameDecoder(true, false, 1 << 20));
            ByteBuf header = Unpooled.buffer();
            int mask = random.nextInt() | 1;
            WebSocketClientFrames.writeHeader(header, length, mask);
            ByteBuf body = Unpooled.directBuffer(length).writeBytes(payload);
            WebSocketClientFrames.mask(body, mask);
            assertThat(ByteBufUtil.getBytes(body)).as("masked").isNotEqualTo(payload);
            server.writeInbound(header, body);
            BinaryWebSocketFrame frame = server.readInbound();
            assertThat(frame.isFinalFragment()).isTrue();
            assertThat(ByteBufUtil.getBytes(frame.content())).as("%d bytes", length).isEqualTo(payload);
            frame.release();
            server.finishAndReleaseAll();
        }
    }

    @Test
    void masksAHeapBufferWithAnOffsetToo() {
        byte[] payload = new byte[37];
        new Random(3).nextBytes(payload);
        ByteBuf body = Unpooled.buffer(64).writeZero(5).writeBytes(payload);
        body.skipBytes(5);
        WebSocketClientFrames.mask(body, 0x01020304);
        for (int i = 0; i < payload.length; i++) {
            int key = new int[] {1, 2, 3, 4}[i & 3];
            assertThat(body.getByte(5 + i)).isEqualTo((byte) (payload[i] ^ key));
        }
    }
}
