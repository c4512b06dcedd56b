package io.ternmq.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.EncoderException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** {@link MqttEncoder} in a pipeline. */
class MqttEncoderTest {
    private final MqttEncoder encoder = new MqttEncoder();
    private final EmbeddedChannel ch = new EmbeddedChannel(encoder);

    @AfterEach
    void noLeftovers() {
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    private String write(Object msg) {
        ch.writeOutbound(msg);
        ByteBuf out = ch.readOutbound();
        try {
            return ByteBufUtil.hexDump(out);
        } finally {
            out.release();
        }
    }

    @Test
    @DisplayName("encodes in 3.1.1 until told otherwise, then in the version set")
    void versions() {
        assertThat(encoder.version()).isEqualTo(MqttVersion.MQTT_3_1_1);
        Puback ack = new Puback(1, ReasonCode.NO_MATCHING_SUBSCRIBERS, MqttProperties.EMPTY);
        assertThat(write(ack)).isEqualTo("40020001");
        encoder.setVersion(MqttVersion.MQTT_5);
        assertThat(encoder.version()).isEqualTo(MqttVersion.MQTT_5);
        assertThat(write(ack)).isEqualTo("4003000110");
        assertThat(write(Disconnect.NORMAL)).isEqualTo("e000");
        assertThat(write(new Connack(true, 0))).isEqualTo("2003010000");
    }

    @Test
    @DisplayName("ByteBufs written to the pipeline pass through untouched")
    void byteBufPassThrough() {
        ByteBuf raw = PooledByteBufAllocator.DEFAULT.buffer().writeBytes(new byte[] {1, 2, 3});
        ch.writeOutbound(raw);
        ByteBuf out = ch.readOutbound();
        assertThat(out).isSameAs(raw);
        assertThat(out.refCnt()).isEqualTo(1);
        out.release();
    }

    @Test
    @DisplayName("a packet that cannot be encoded fails the write without leaking")
    void unencodable() {
        assertThrows(EncoderException.class, () -> ch.writeOutbound(new Auth(0, MqttProperties.EMPTY)));
        Object leftover = ch.readOutbound();
        assertThat(leftover).isNull();
    }

    @Test
    @DisplayName("encoder output decodes back to the packet")
    void roundTripThroughPipeline() throws Exception {
        encoder.setVersion(MqttVersion.MQTT_5);
        Publish p = new Publish("a/b", QoS.EXACTLY_ONCE, true, false, 9, new byte[] {1, 2},
                MqttProperties.builder().set(PropertyId.CONTENT_TYPE, "t").build());
        Wire.assertSamePacket(Wire.decode(write(p), MqttVersion.MQTT_5), p);
    }
}
