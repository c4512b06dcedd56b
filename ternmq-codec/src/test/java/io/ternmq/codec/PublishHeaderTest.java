package io.ternmq.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link MqttPacketEncoder#encodePublishHeader}: header bytes followed by the payload are the whole packet. */
class PublishHeaderTest {

    @ParameterizedTest(name = "{0}, QoS {1}, {2} B payload, properties {3}")
    @CsvSource({
            "MQTT_3_1_1, 0, 0, false", "MQTT_3_1_1, 1, 5, false", "MQTT_3_1_1, 2, 120, false",
            "MQTT_3_1_1, 1, 200, false", "MQTT_3_1_1, 0, 20000, false", "MQTT_3_1, 1, 64, false",
            "MQTT_5, 0, 0, false", "MQTT_5, 1, 1024, true", "MQTT_5, 2, 2100000, true"})
    void headerAndPayloadAreThePacket(MqttVersion version, int qos, int size, boolean props) {
        byte[] payload = new byte[size];
        for (int i = 0; i < size; i++) {
            payload[i] = (byte) (i * 31);
        }
        MqttProperties properties = props
                ? MqttProperties.builder().set(PropertyId.MESSAGE_EXPIRY_INTERVAL, 60L).subscriptionIdentifier(7)
                        .userProperty("k", "v").build()
                : MqttProperties.EMPTY;
        Publish p = new Publish("a/b/c", QoS.of(qos), true, qos > 0, qos > 0 ? 513 : 0, payload, properties);
        ByteBuf whole = MqttPacketEncoder.encode(PooledByteBufAllocator.DEFAULT, p, version);
        ByteBuf header = MqttPacketEncoder.encodePublishHeader(PooledByteBufAllocator.DEFAULT, p, version);
        try {
            ByteBuf joined = Unpooled.wrappedBuffer(header.retainedDuplicate(), Unpooled.wrappedBuffer(payload));
            assertThat(ByteBufUtil.equals(joined, whole)).as("header + payload equal the whole packet").isTrue();
            joined.release();
            assertThat(header.readableBytes()).isEqualTo(whole.readableBytes() - size);
        } finally {
            whole.release();
            header.release();
        }
    }
}
