package io.ternmq.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;
import java.util.Objects;

/**
 * Frames an MQTT byte stream into {@link MqttPacket}s, whatever the fragmentation. On the first protocol violation it
 * emits one {@link DecodeFailure} and from then on discards every byte: the connection must be closed.
 * <p>
 * The protocol version is learnt from the first CONNECT decoded; until then (and on a client, until
 * {@link #setVersion} is called) packets are decoded with MQTT 3.1.1 rules, so AUTH and 5.0 reason codes/properties
 * are only understood once the version is 5.0.
 * <p>
 * The packet size limit is checked from the fixed header alone, before any of the body is buffered: a packet larger
 * than {@code maxPacketSize} fails with reason code 0x95 (Packet Too Large) at once. Decoded packets hold copies of
 * their bytes, never slices of the cumulation buffer. Not sharable: it holds per-connection state.
 * <p>
 * Decoded packets go down the pipeline; a subclass may take them itself instead by overriding {@link #decoded}
 * (a server does, to spare each connection a handler of its own).
 */
public class MqttDecoder extends ByteToMessageDecoder {
    private volatile MqttVersion version = MqttVersion.MQTT_3_1_1;
    private volatile int maxPacketSize;
    private boolean versionLearnt;
    private boolean failed;
    /** The fixed header of the packet whose body is awaited, or -1 between packets. */
    private int firstByte = -1;
    private int bodyLength;

    /** @param maxPacketSize the largest packet accepted, fixed header included */
    public MqttDecoder(int maxPacketSize) {
        setMaxPacketSize(maxPacketSize);
    }

    /** Changes the limit for packets whose fixed header has not been read yet. */
    public void setMaxPacketSize(int maxPacketSize) {
        if (maxPacketSize < 2) {
            throw new IllegalArgumentException("maxPacketSize must be at least 2, not " + maxPacketSize);
        }
        this.maxPacketSize = maxPacketSize;
    }

    public int maxPacketSize() {
        return maxPacketSize;
    }

    /** @return the version packets are decoded with: 3.1.1 until a CONNECT (or {@link #setVersion}) says otherwise */
    public MqttVersion version() {
        return version;
    }

    /** Fixes the version, e.g. on a client that sent CONNECT itself; a CONNECT decoded later no longer changes it. */
    public void setVersion(MqttVersion version) {
        this.version = Objects.requireNonNull(version, "version");
        this.versionLearnt = true;
    }

    /** @return true once a {@link DecodeFailure} has been emitted */
    public boolean hasFailed() {
        return failed;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (firstByte < 0 && !readFixedHeader(ctx, in, out)) {
            return;
        }
        if (in.readableBytes() < bodyLength) {
            return;
        }
        int header = firstByte;
        firstByte = -1;
        ByteBuf body = in.readSlice(bodyLength);
        PacketType type = PacketType.of(header >>> 4);
        try {
            MqttPacket packet = MqttPacketDecoder.decodeBody(header, body, version);
            if (packet instanceof Connect connect && !versionLearnt) {
                version = connect.version();
                versionLearnt = true;
            }
            decoded(ctx, packet, out);
        } catch (MalformedPacketException e) {
            fail(ctx, in, out, type, type == PacketType.CONNECT ? connectVersion(body, e) : version, e);
        }
    }

    /**
     * Reads the fixed header once it is complete, checking it and the size limit.
     *
     * @return false if more bytes are needed or the packet was refused
     */
    private boolean readFixedHeader(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (!in.isReadable()) {
            return false;
        }
        int first = in.getUnsignedByte(in.readerIndex());
        PacketType type = PacketType.of(first >>> 4);
        long header;
        try {
            header = MqttPacketDecoder.peekFixedHeader(in, version);
        } catch (MalformedPacketException e) {
            fail(ctx, in, out, type, type == PacketType.CONNECT ? null : version, e);
            return false;
        }
        if (header == MqttPacketDecoder.NEED_MORE) {
            return false;
        }
        int headerLength = MqttPacketDecoder.headerLength(header);
        int remainingLength = MqttPacketDecoder.remainingLength(header);
        long packetSize = (long) headerLength + remainingLength;
        if (packetSize > maxPacketSize) {
            // For an oversized CONNECT, report the version it asks for if that much of it has arrived already.
            MqttVersion concerned = type == PacketType.CONNECT
                    ? MqttPacketDecoder.peekConnectVersion(in, in.readerIndex() + headerLength) : version;
            fail(ctx, in, out, type, concerned, new MalformedPacketException(ReasonCode.PACKET_TOO_LARGE, null,
                    "packet of " + packetSize + " bytes exceeds the maximum of " + maxPacketSize));
            return false;
        }
        in.skipBytes(headerLength);
        firstByte = first;
        bodyLength = remainingLength;
        return true;
    }

    /** The version a failed CONNECT asked for, so the broker can answer in the right CONNACK format. */
    private static MqttVersion connectVersion(ByteBuf body, MalformedPacketException e) {
        if (e instanceof UnsupportedProtocolVersionException) {
            return null;
        }
        return MqttPacketDecoder.peekConnectVersion(body, 0);
    }

    private void fail(ChannelHandlerContext ctx, ByteBuf in, List<Object> out, PacketType type,
                      MqttVersion concerned, MalformedPacketException e) {
        failed = true;
        in.skipBytes(in.readableBytes());
        decoded(ctx, new DecodeFailure(type, concerned, e.reasonCode(), e.getMessage(),
                e instanceof UnsupportedProtocolVersionException), out);
    }

    /**
     * Receives each decoded {@link MqttPacket}, and the {@link DecodeFailure} that ends the stream, in order. This
     * one adds it to {@code out}, which passes it to the next handler.
     */
    protected void decoded(ChannelHandlerContext ctx, Object packetOrFailure, List<Object> out) {
        out.add(packetOrFailure);
    }
}
