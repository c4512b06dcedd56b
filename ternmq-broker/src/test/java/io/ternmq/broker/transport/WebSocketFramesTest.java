package io.ternmq.broker.transport;

import io.netty.buffer.Unpooled;
import io.ternmq.codec.ReasonCode;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** What WebSocketFrames reads from the packets it frames: their length and the close status a DISCONNECT implies. */
class WebSocketFramesTest {

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
