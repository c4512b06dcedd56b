package io.ternmq.bench;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.ternmq.codec.MalformedPacketException;
import io.ternmq.codec.MqttPacketDecoder;
import io.ternmq.codec.MqttVersion;

import java.util.List;

/**
 * Frames the broker's byte stream. PUBLISH and its acknowledgements (the bulk of the traffic) are read in place and
 * handed straight to the {@link BenchClient}, without copying the payload or allocating a packet object; every other
 * packet (CONNACK, SUBACK, PINGRESP, DISCONNECT...) is decoded by the codec's {@link MqttPacketDecoder} and passed on.
 */
final class FrameDecoder extends ByteToMessageDecoder {
    private final BenchClient client;
    private final MqttVersion version;

    FrameDecoder(BenchClient client, MqttVersion version) {
        this.client = client;
        this.version = version;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        int start = in.readerIndex();
        int readable = in.readableBytes();
        if (readable < 2) {
            return;
        }
        int first = in.getUnsignedByte(start);
        int remaining = 0;
        int multiplier = 1;
        int i = 1;
        while (true) {
            if (i >= readable) {
                return;
            }
            if (i > 4) {
                throw new MalformedPacketException(0x81, null, "remaining length longer than 4 bytes");
            }
            int b = in.getUnsignedByte(start + i);
            remaining += (b & 0x7F) * multiplier;
            i++;
            if ((b & 0x80) == 0) {
                break;
            }
            multiplier <<= 7;
        }
        int total = i + remaining;
        if (readable < total) {
            return;
        }
        int body = start + i;
        int type = first >>> 4;
        if (type == 3) {
            client.onPublishFrame(first, in, body, remaining);
        } else if (type >= 4 && type <= 7 && remaining >= 2) {
            client.onAck(type, in.getUnsignedShort(body), remaining > 2 ? in.getUnsignedByte(body + 2) : 0);
        } else {
            out.add(MqttPacketDecoder.decode(in.slice(start, total), version));
        }
        in.readerIndex(start + total);
    }
}
