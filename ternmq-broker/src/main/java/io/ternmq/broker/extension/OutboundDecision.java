package io.ternmq.broker.extension;

import io.ternmq.codec.MqttProperties;
import io.ternmq.extension.api.PublishOutboundOutput;
import io.ternmq.extension.api.UserProperty;

import java.nio.ByteBuffer;
import java.util.List;

/** One delivery as the {@code PublishOutbound} interceptors see and change it, on the receiver's loop. */
public final class OutboundDecision implements PublishOutboundOutput {
    private final String topic;
    private final byte[] payload;
    private final int qos;
    private MqttProperties properties;
    private boolean skipped;

    public OutboundDecision(String topic, byte[] payload, int qos, MqttProperties properties) {
        this.topic = topic;
        this.payload = payload;
        this.qos = qos;
        this.properties = properties;
    }

    public MqttProperties properties() {
        return properties;
    }

    public boolean skipped() {
        return skipped;
    }

    @Override
    public String topic() {
        return topic;
    }

    @Override
    public ByteBuffer payload() {
        return ByteBuffer.wrap(payload).asReadOnlyBuffer();
    }

    @Override
    public int qos() {
        return qos;
    }

    @Override
    public List<UserProperty> userProperties() {
        return Properties5.userProperties(properties);
    }

    @Override
    public void userProperties(List<UserProperty> userProperties) {
        properties = properties.toBuilder().clearUserProperties()
                .userProperties(Properties5.toCodec(userProperties)).build();
    }

    @Override
    public void skip() {
        skipped = true;
    }
}
