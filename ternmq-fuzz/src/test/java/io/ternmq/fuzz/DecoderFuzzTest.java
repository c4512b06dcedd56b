package io.ternmq.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.ternmq.codec.DecodeFailure;
import io.ternmq.codec.MalformedPacketException;
import io.ternmq.codec.MqttDecoder;
import io.ternmq.codec.MqttPacket;
import io.ternmq.codec.MqttPacketDecoder;
import io.ternmq.codec.MqttPacketEncoder;
import io.ternmq.codec.MqttVersion;

/**
 * Fuzz targets for the MQTT decoder. The only acceptable outcomes of any input are a packet or the codec's own
 * errors ({@link MalformedPacketException} from {@link MqttPacketDecoder}, a {@link DecodeFailure} from
 * {@link MqttDecoder}); any other exception, a hang or a leak fails. Without {@code JAZZER_FUZZ=1} these replay the
 * saved inputs under {@code src/test/resources/io/ternmq/fuzz/DecoderFuzzTestInputs/}.
 */
class DecoderFuzzTest {

    /** One whole packet, MQTT 3.1.1 rules (CONNECT names its own version). */
    @FuzzTest(maxDuration = "5m")
    void packetMqtt311(byte[] input) {
        decodeWhole(input, MqttVersion.MQTT_3_1_1);
    }

    /** One whole packet, MQTT 5.0 rules: properties, reason codes, AUTH. */
    @FuzzTest(maxDuration = "5m")
    void packetMqtt5(byte[] input) {
        decodeWhole(input, MqttVersion.MQTT_5);
    }

    /** One whole packet, MQTT 3.1 rules. */
    @FuzzTest(maxDuration = "5m")
    void packetMqtt31(byte[] input) {
        decodeWhole(input, MqttVersion.MQTT_3_1);
    }

    private static void decodeWhole(byte[] input, MqttVersion version) {
        ByteBuf buf = Unpooled.wrappedBuffer(input);
        MqttPacket packet;
        try {
            packet = MqttPacketDecoder.decode(buf, version);
        } catch (MalformedPacketException expected) {
            return;
        } finally {
            buf.release();
        }
        // what decodes must encode again (the broker forwards and echoes decoded packets)
        MqttVersion v = packet instanceof io.ternmq.codec.Connect c ? c.version() : version;
        MqttPacketEncoder.encode(io.netty.buffer.UnpooledByteBufAllocator.DEFAULT, packet, v).release();
    }

    /**
     * A byte stream through the Netty decoder with a small packet size limit, in fragments chosen by the fuzzer:
     * every output is a packet or one final DecodeFailure, nothing is left unreleased.
     */
    @FuzzTest(maxDuration = "5m")
    void stream(FuzzedDataProvider data) {
        int maxPacketSize = data.consumeInt(2, 512);
        boolean v5 = data.consumeBoolean();
        MqttDecoder decoder = new MqttDecoder(maxPacketSize);
        if (v5) {
            decoder.setVersion(MqttVersion.MQTT_5);
        }
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        try {
            boolean failed = false;
            while (data.remainingBytes() > 0) {
                int chunk = data.consumeInt(1, 64);
                byte[] bytes = data.consumeBytes(chunk);
                ch.writeInbound(Unpooled.wrappedBuffer(bytes));
                Object out;
                while ((out = ch.readInbound()) != null) {
                    if (failed) {
                        throw new AssertionError("output after a DecodeFailure: " + out);
                    }
                    if (out instanceof DecodeFailure) {
                        failed = true;
                    } else if (!(out instanceof MqttPacket)) {
                        throw new AssertionError("unexpected output " + out.getClass());
                    }
                }
            }
        } finally {
            ch.finishAndReleaseAll();
        }
    }
}
