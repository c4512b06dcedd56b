package io.ternmq.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.util.List;

/** {@link MqttProperties#withUserProperty}: the cheap way a bridge adds its origin id and hop count. */
class MqttPropertiesTest {

    @Test
    void withUserPropertyEqualsTheBuiltProperties() {
        MqttProperties base = MqttProperties.builder()
                .set(PropertyId.MESSAGE_EXPIRY_INTERVAL, 60L)
                .set(PropertyId.CONTENT_TYPE, "text/plain")
                .userProperty("a", "1")
                .subscriptionIdentifier(7)
                .build();
        MqttProperties added = base.withUserProperty("b", "2");
        MqttProperties built = base.toBuilder().userProperty("b", "2").build();

        assertThat(added).isEqualTo(built);
        assertThat(added.userProperties()).containsExactly(new UserProperty("a", "1"), new UserProperty("b", "2"));
        assertThat(added.getLong(PropertyId.MESSAGE_EXPIRY_INTERVAL)).isEqualTo(60L);
        assertThat(added.subscriptionIdentifiers()).containsExactly(7);
        // the original is unchanged
        assertThat(base.userProperties()).containsExactly(new UserProperty("a", "1"));
    }

    @Test
    void withUserPropertyOnEmptyEncodesLikeTheBuiltProperties() throws Exception {
        MqttProperties added = MqttProperties.EMPTY.withUserProperty("ternmq-bridge-hops", "1");
        assertThat(added.isEmpty()).isFalse();
        assertThat(MqttProperties.EMPTY.isEmpty()).isTrue();
        Publish p = new Publish("a/b", QoS.AT_LEAST_ONCE, false, false, 1, new byte[]{1, 2}, added);
        ByteBuf buf = MqttPacketEncoder.encode(PooledByteBufAllocator.DEFAULT, p, MqttVersion.MQTT_5);
        try {
            Publish decoded = (Publish) MqttPacketDecoder.decode(buf, MqttVersion.MQTT_5);
            assertThat(decoded.properties().userProperties())
                    .isEqualTo(List.of(new UserProperty("ternmq-bridge-hops", "1")));
        } finally {
            buf.release();
        }
    }
}
