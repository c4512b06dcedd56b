package io.ternmq.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.ternmq.codec.MqttPacketDecoder;
import io.ternmq.codec.MqttPacketEncoder;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** The bench writes PUBLISH packets itself, for speed: they must be byte for byte what the codec writes. */
class PublishEncodingTest {

    @ParameterizedTest
    @CsvSource({"0, MQTT_3_1_1, 24", "1, MQTT_3_1_1, 64", "2, MQTT_3_1_1, 1024", "0, MQTT_5, 64", "1, MQTT_5, 200",
            "2, MQTT_5, 70000", "1, MQTT_3_1, 128"})
    void sameBytesAsTheCodec(int qos, MqttVersion version, int size) throws Exception {
        byte[] topic = "bench/pairs/17".getBytes(StandardCharsets.UTF_8);
        int packetId = qos == 0 ? 0 : 4242;
        ByteBuf ours = Unpooled.buffer();
        BenchClient.encodePublish(ours, qos, topic, packetId, version == MqttVersion.MQTT_5, size,
                Payload.FLAG_COUNTED, 0xBEEF, 17, 123_456_789L, 987_654_321L);

        ByteBuf payload = Unpooled.buffer();
        Payload.write(payload, Payload.FLAG_COUNTED, 0xBEEF, 17, 123_456_789L, 987_654_321L, size);
        Publish expected = new Publish("bench/pairs/17", QoS.of(qos), false, false, packetId,
                ByteBufUtil.getBytes(payload), MqttProperties.EMPTY);
        ByteBuf theirs = Unpooled.buffer();
        MqttPacketEncoder.encode(theirs, expected, version);

        assertThat(ByteBufUtil.hexDump(ours)).isEqualTo(ByteBufUtil.hexDump(theirs));
        Publish decoded = (Publish) MqttPacketDecoder.decode(ours.duplicate(), version);
        ByteBuf p = Unpooled.wrappedBuffer(decoded.payload());
        assertThat(Payload.isBench(p, 0, p.readableBytes(), 0xBEEF)).isTrue();
        assertThat(Payload.counted(p, 0)).isTrue();
        assertThat(Payload.stream(p, 0)).isEqualTo(17);
        assertThat(Payload.seq(p, 0)).isEqualTo(123_456_789L);
        assertThat(Payload.sendNanos(p, 0)).isEqualTo(987_654_321L);
    }
}
