package io.ternmq.jmh;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.ternmq.codec.MalformedPacketException;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttPacketDecoder;
import io.ternmq.codec.MqttPacketEncoder;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.MqttVersion;
import io.ternmq.codec.Publish;
import io.ternmq.codec.QoS;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Decoding and encoding one QoS 1 PUBLISH of 64 bytes or 1 KiB of payload, in MQTT 3.1.1 and in 5.0 (where the packet
 * carries two user properties, as MQTT 5 applications typically add).
 *
 * <p>Run: {@code java -jar ternmq-jmh/target/ternmq-jmh.jar Codec}
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class CodecBenchmark {

    @Param({"64", "1024"})
    public int payloadSize;

    @Param({"MQTT_3_1_1", "MQTT_5"})
    public MqttVersion version;

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private Publish publish;
    /** The encoded packet; decode reads it from the start every time. */
    private ByteBuf wire;

    @Setup(Level.Trial)
    public void setUp() throws MalformedPacketException {
        byte[] payload = new byte[payloadSize];
        new Random(42).nextBytes(payload);
        MqttProperties properties = version.isV5()
                ? MqttProperties.builder()
                        .userProperty("tenant", "acme")
                        .userProperty("trace-id", "4bf92f3577b34da6a3ce929d0e0e4736")
                        .build()
                : MqttProperties.EMPTY;
        publish = new Publish("site/42/device/7/temp", QoS.AT_LEAST_ONCE, false, false, 4711, payload, properties);

        ByteBuf encoded = MqttPacketEncoder.encode(alloc, publish, version);
        try {
            wire = Unpooled.directBuffer(encoded.readableBytes()).writeBytes(encoded);
        } finally {
            encoded.release();
        }
        MqttPacket decoded = decode();
        if (!(decoded instanceof Publish p) || p.packetId() != 4711 || p.payload().length != payloadSize
                || !p.properties().equals(properties)) {
            throw new IllegalStateException("round trip failed: " + decoded);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        wire.release();
    }

    @Benchmark
    public MqttPacket decode() throws MalformedPacketException {
        wire.readerIndex(0);
        return MqttPacketDecoder.decode(wire, version);
    }

    /** Encodes into a fresh pooled buffer and releases it, as the channel's write path does. */
    @Benchmark
    public int encode() {
        ByteBuf out = MqttPacketEncoder.encode(alloc, publish, version);
        try {
            return out.readableBytes() + out.getByte(out.writerIndex() - 1);
        } finally {
            out.release();
        }
    }
}
