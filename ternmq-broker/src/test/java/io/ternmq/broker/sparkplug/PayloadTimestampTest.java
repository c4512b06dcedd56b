package io.ternmq.broker.sparkplug;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.DynamicMessage;
import io.ternmq.broker.testing.SparkplugB;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The wire-format edit of a Sparkplug B payload's timestamp, checked against protobuf-java's reading of it. */
class PayloadTimestampTest {
    private static final long NOW = 1_765_000_000_123L;

    @Test
    @DisplayName("an NDEATH's timestamp is replaced; the bdSeq metric and the rest decode as before")
    void replacesTimestamp() {
        byte[] ndeath = SparkplugB.ndeath(1_000L, 17);
        DynamicMessage out = SparkplugB.parse(PayloadTimestamp.with(ndeath, NOW));
        assertThat(SparkplugB.timestamp(out)).isEqualTo(NOW);
        assertThat(SparkplugB.withoutTimestamp(out))
                .isEqualTo(SparkplugB.withoutTimestamp(SparkplugB.parse(ndeath)));
    }

    @Test
    @DisplayName("a payload without a timestamp gets one, put first; the rest is byte for byte what it was")
    void addsMissingTimestamp() {
        byte[] ndeath = SparkplugB.ndeath(null, 3);
        byte[] out = PayloadTimestamp.with(ndeath, NOW);
        assertThat(SparkplugB.timestamp(SparkplugB.parse(out))).isEqualTo(NOW);
        byte[] timestampField = SparkplugB.payload(NOW, null, List.of()).toByteArray();
        assertThat(Arrays.copyOfRange(out, timestampField.length, out.length)).isEqualTo(ndeath);
    }

    @Test
    @DisplayName("fields protobuf-java does not know (every wire type) stay, in order; a repeated timestamp goes")
    void keepsUnknownFieldsAndDropsLaterTimestamps() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream o = CodedOutputStream.newInstance(bytes);
        o.writeUInt64(3, 9);                                   // seq
        o.writeUInt64(1, 5);                                   // timestamp
        o.writeFixed64(100, 0x0102030405060708L);              // unknown, 64-bit
        o.writeFixed32(101, 0x0A0B0C0D);                       // unknown, 32-bit
        o.writeBytes(102, ByteString.copyFromUtf8("extension"));  // unknown, length-delimited
        o.writeUInt64(1, 6);                                   // a second timestamp (protobuf would take this one)
        o.writeString(4, "uuid-1");
        o.flush();
        byte[] in = bytes.toByteArray();
        DynamicMessage out = SparkplugB.parse(PayloadTimestamp.with(in, NOW));
        assertThat(SparkplugB.timestamp(out)).isEqualTo(NOW);
        assertThat(out.getField(SparkplugB.field(SparkplugB.PAYLOAD, "seq"))).isEqualTo(9L);
        assertThat(out.getField(SparkplugB.field(SparkplugB.PAYLOAD, "uuid"))).isEqualTo("uuid-1");
        assertThat(out.getUnknownFields().getField(100).getFixed64List()).containsExactly(0x0102030405060708L);
        assertThat(out.getUnknownFields().getField(101).getFixed32List()).containsExactly(0x0A0B0C0D);
        assertThat(out.getUnknownFields().getField(102).getLengthDelimitedList())
                .containsExactly(ByteString.copyFromUtf8("extension"));
    }

    @Test
    @DisplayName("what is not a readable protobuf message is left alone (null): truncated, bad lengths, groups")
    void unreadableIsLeftAlone() {
        byte[] valid = SparkplugB.ndeath(1_000L, 17);
        assertThat(PayloadTimestamp.with(Arrays.copyOf(valid, valid.length - 1), NOW)).isNull();
        assertThat(PayloadTimestamp.with(new byte[] {0x12, 0x7F, 0x01}, NOW)).as("length beyond the end").isNull();
        assertThat(PayloadTimestamp.with(new byte[] {0x0B, 0x0C}, NOW)).as("a group").isNull();
        assertThat(PayloadTimestamp.with(new byte[] {0x09, 1, 2, 3, 4, 5, 6, 7, 8}, NOW))
                .as("field 1 not a varint").isNull();
        assertThat(PayloadTimestamp.with("{\"online\":false}".getBytes(), NOW)).as("JSON").isNull();
    }

    @Test
    @DisplayName("an empty payload becomes one holding just the timestamp")
    void emptyPayload() {
        assertThat(SparkplugB.timestamp(SparkplugB.parse(PayloadTimestamp.with(new byte[0], NOW)))).isEqualTo(NOW);
    }
}
