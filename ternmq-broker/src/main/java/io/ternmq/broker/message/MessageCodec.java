package io.ternmq.broker.message;

import io.netty.buffer.ByteBuf;
import io.ternmq.codec.MalformedPacketException;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttPacketDecoder;
import io.ternmq.codec.MqttPacketEncoder;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;

import java.nio.charset.StandardCharsets;

/**
 * The binary form of a {@link Message}, where it is kept (the store) or sent (the cluster's data link): a format
 * version byte, the publisher's client id, the creation and expiry times, then the message as an MQTT 5.0 PUBLISH
 * packet (the codec already knows every property). Publisher and times travel so that no-local and message expiry
 * work wherever the message is read.
 */
public final class MessageCodec {
    public static final byte VERSION = 1;

    private MessageCodec() {
    }

    /** Appends the message to {@code out}. */
    public static void write(Message m, ByteBuf out) {
        Publish p = new Publish(m.topic(), m.qos(), m.retain(), false, m.qos() == QoS.AT_MOST_ONCE ? 0 : 1,
                m.payload(), m.properties());
        out.writeByte(VERSION);
        int lengthAt = out.writerIndex();
        out.writeInt(0);
        int publisherLength = m.publisherId() == null ? 0 : out.writeCharSequence(m.publisherId(),
                StandardCharsets.UTF_8);
        out.setInt(lengthAt, publisherLength);
        out.writeLong(m.createdAtMillis()).writeLong(m.expiryAtMillis());
        MqttPacketEncoder.encode(out, p, MqttVersion.MQTT_5);
    }

    /**
     * Reads a message that takes the rest of {@code in}.
     *
     * @throws MalformedPacketException if it is not one (unknown version, truncated, a bad PUBLISH)
     */
    public static Message read(ByteBuf in) throws MalformedPacketException {
        try {
            byte v = in.readByte();
            if (v != VERSION) {
                throw new MalformedPacketException("message has format version " + v + ", this broker reads "
                        + VERSION);
            }
            int length = in.readInt();
            if (length < 0 || length > in.readableBytes()) {
                throw new MalformedPacketException("message publisher length " + length + " is out of range");
            }
            String publisher = in.readCharSequence(length, StandardCharsets.UTF_8).toString();
            long created = in.readLong();
            long expiry = in.readLong();
            MqttPacket decoded = MqttPacketDecoder.decode(in, MqttVersion.MQTT_5);
            if (!(decoded instanceof Publish p)) {
                throw new MalformedPacketException("message is not a PUBLISH");
            }
            return new Message(p.topic(), p.qos(), p.retain(), p.payload(), p.properties(),
                    publisher.isEmpty() ? null : publisher, created, expiry);
        } catch (IndexOutOfBoundsException e) {
            throw new MalformedPacketException("message is truncated");
        }
    }
}
