package io.ternmq.broker.extension;

import io.netty.util.concurrent.EventExecutor;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.PropertyId;
import io.ternmq.extension.api.ClientInfo;
import io.ternmq.extension.api.PublishInboundOutput;
import io.ternmq.extension.api.UserProperty;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;

/**
 * A client's PUBLISH as the {@code PublishInbound} interceptors see and change it. The payload array is the one the
 * decoder made and is never written: an extension reads it through a read-only buffer, and a change replaces it with a
 * copy.
 */
public final class PublishDecision extends Decision<PublishDecision> implements PublishInboundOutput {
    private final ClientInfo client;
    private String topic;
    private byte[] payload;
    private int qos;
    private boolean retain;
    private MqttProperties properties;

    public PublishDecision(ClientInfo client, String topic, byte[] payload, int qos, boolean retain,
                           MqttProperties properties, EventExecutor loop) {
        super(loop);
        this.client = client;
        this.topic = topic;
        this.payload = payload;
        this.qos = qos;
        this.retain = retain;
        this.properties = properties;
    }

    @Override
    protected PublishDecision copy() {
        return new PublishDecision(client, topic, payload, qos, retain, properties, loop);
    }

    public ClientInfo client() {
        return client;
    }

    /** The payload array the broker goes on with (the original one unless an interceptor replaced it). */
    public byte[] payloadBytes() {
        return payload;
    }

    public MqttProperties properties() {
        return properties;
    }

    @Override
    public String topic() {
        return topic;
    }

    @Override
    public void topic(String topic) {
        this.topic = Objects.requireNonNull(topic, "topic");
    }

    @Override
    public ByteBuffer payload() {
        return ByteBuffer.wrap(payload).asReadOnlyBuffer();
    }

    @Override
    public void payload(ByteBuffer payload) {
        byte[] copy = new byte[payload.remaining()];
        payload.duplicate().get(copy);
        this.payload = copy;
    }

    @Override
    public int qos() {
        return qos;
    }

    @Override
    public void qos(int qos) {
        if (qos < 0 || qos > 2) {
            throw new IllegalArgumentException("QoS is 0, 1 or 2, not " + qos);
        }
        this.qos = qos;
    }

    @Override
    public boolean retain() {
        return retain;
    }

    @Override
    public void retain(boolean retain) {
        this.retain = retain;
    }

    @Override
    public void preventDelivery(int reasonCode, String reasonString) {
        refuseWith(reasonCode, reasonString);
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
    public String contentType() {
        return properties.getString(PropertyId.CONTENT_TYPE);
    }

    @Override
    public void contentType(String contentType) {
        properties = properties.toBuilder().set(PropertyId.CONTENT_TYPE, contentType).build();
    }

    @Override
    public String responseTopic() {
        return properties.getString(PropertyId.RESPONSE_TOPIC);
    }

    @Override
    public void responseTopic(String responseTopic) {
        properties = properties.toBuilder().set(PropertyId.RESPONSE_TOPIC, responseTopic).build();
    }

    @Override
    public Long messageExpiryInterval() {
        return properties.getLong(PropertyId.MESSAGE_EXPIRY_INTERVAL);
    }

    @Override
    public void messageExpiryInterval(Long seconds) {
        if (seconds != null && (seconds < 0 || seconds > 0xFFFF_FFFFL)) {
            throw new IllegalArgumentException("Message Expiry Interval is 0..4294967295 s, not " + seconds);
        }
        properties = properties.toBuilder().set(PropertyId.MESSAGE_EXPIRY_INTERVAL, seconds).build();
    }
}
