package io.ternmq.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;

import java.util.Objects;

/**
 * Encodes {@link MqttPacket}s for the connection's protocol version, which the broker sets once CONNECT has been
 * decoded. Anything else written to the pipeline (e.g. pre-encoded {@link ByteBuf}s) passes through untouched. Not
 * sharable: the version is per connection.
 */
public final class MqttEncoder extends MessageToByteEncoder<MqttPacket> {
    private volatile MqttVersion version = MqttVersion.MQTT_3_1_1;

    public MqttEncoder() {
        super(MqttPacket.class);
    }

    public MqttVersion version() {
        return version;
    }

    public void setVersion(MqttVersion version) {
        this.version = Objects.requireNonNull(version, "version");
    }

    @Override
    protected ByteBuf allocateBuffer(ChannelHandlerContext ctx, MqttPacket msg, boolean preferDirect) {
        // The exact size is cheap to compute and saves the buffer from growing while it is written.
        int size = MqttPacketEncoder.encodedSize(msg, version);
        return preferDirect ? ctx.alloc().ioBuffer(size) : ctx.alloc().heapBuffer(size);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, MqttPacket msg, ByteBuf out) {
        MqttPacketEncoder.encode(out, msg, version);
    }
}
