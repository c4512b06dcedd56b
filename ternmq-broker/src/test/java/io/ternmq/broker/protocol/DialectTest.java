package io.ternmq.broker.protocol;

import io.ternmq.codec.Connack;
import io.ternmq.codec.Disconnect;
import io.ternmq.codec.MqttPacketEncoder;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.PropertyId;
import io.ternmq.codec.Puback;
import io.ternmq.codec.ReasonCode;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class DialectTest {

    @Test
    @DisplayName("the same outcome in each version's codes")
    void codes() {
        assertThat(Dialect.V5.notAuthorized()).isEqualTo(ReasonCode.NOT_AUTHORIZED);
        assertThat(Dialect.V3.notAuthorized()).isEqualTo(ReasonCode.V3_NOT_AUTHORIZED);
        assertThat(Dialect.V3.subscriptionRefused(ReasonCode.QUOTA_EXCEEDED)).isEqualTo(ReasonCode.V3_SUBACK_FAILURE);
        assertThat(Dialect.V5.subscriptionRefused(ReasonCode.QUOTA_EXCEEDED)).isEqualTo(ReasonCode.QUOTA_EXCEEDED);
        assertThat(Dialect.V3.publishAck(ReasonCode.NO_MATCHING_SUBSCRIBERS)).isEqualTo(ReasonCode.SUCCESS);
        assertThat(Dialect.V3.unknownPacketId()).isEqualTo(ReasonCode.SUCCESS);
        assertThat(Dialect.V5.unknownPacketId()).isEqualTo(ReasonCode.PACKET_IDENTIFIER_NOT_FOUND);
        assertThat(Dialect.V3.connectionQuotaExceeded()).isEqualTo(ReasonCode.V3_SERVER_UNAVAILABLE);
        assertThat(Dialect.V3.reasonString("why").isEmpty()).isTrue();
        assertThat(Dialect.V5.problem("why", false).isEmpty()).isTrue();
        assertThat(Dialect.V5.problem("why", true).getString(PropertyId.REASON_STRING)).isEqualTo("why");
    }

    @Test
    @DisplayName("diagnostics give way to the client's Maximum Packet Size; a CONNACK keeps what the client needs")
    void fit() {
        Disconnect d = new Disconnect(ReasonCode.PROTOCOL_ERROR, Dialect.V5.reasonString("x".repeat(100)));
        assertThat(Dialect.V5.fit(d, Integer.MAX_VALUE)).isSameAs(d);
        Disconnect small = (Disconnect) Dialect.V5.fit(d, 20);
        assertThat(small.properties().contains(PropertyId.REASON_STRING)).isFalse();
        Puback ack = new Puback(1, ReasonCode.NOT_AUTHORIZED, Dialect.V5.reasonString("denied"));
        assertThat(((Puback) Dialect.V5.fit(ack, 10)).properties().isEmpty()).isTrue();
        Connack big = new Connack(false, 0, MqttProperties.builder()
                .set(PropertyId.ASSIGNED_CLIENT_IDENTIFIER, "auto-1")
                .set(PropertyId.RESPONSE_INFORMATION, "r".repeat(50)).build());
        Connack fitted = (Connack) Dialect.V5.fit(big, 30);
        assertThat(MqttPacketEncoder.encodedSize(fitted, MqttVersion.MQTT_5)).isLessThanOrEqualTo(30);
        assertThat(fitted.properties().getString(PropertyId.ASSIGNED_CLIENT_IDENTIFIER)).isEqualTo("auto-1");
        assertThat(Dialect.V3.fit(d, 20)).isSameAs(d);
    }
}
