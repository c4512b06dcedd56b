package io.ternmq.broker.sparkplug;

import java.io.ByteArrayOutputStream;

/**
 * Sets the {@code timestamp} of a Sparkplug B {@code Payload} (protobuf field 1, {@code uint64}, milliseconds since
 * the epoch, UTC) by editing the protobuf wire format directly: every other field stays byte for byte as it was, so
 * the broker needs no protobuf library and no schema. Stateless.
 */
public final class PayloadTimestamp {
    private static final int TIMESTAMP_FIELD = 1;
    private static final int VARINT = 0;
    private static final int FIXED64 = 1;
    private static final int LENGTH_DELIMITED = 2;
    private static final int FIXED32 = 5;

    private PayloadTimestamp() {
    }

    /**
     * The payload with its timestamp set to {@code millis}: the first timestamp field replaced where it stands (later
     * ones, which protobuf would let win, dropped), or one put first if it had none.
     *
     * @return the new payload, or null if {@code payload} is not a protobuf message this can read (then it is best
     *         delivered unchanged)
     */
    public static byte[] with(byte[] payload, long millis) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length + 11);
        boolean written = false;
        int pos = 0;
        while (pos < payload.length) {
            int fieldStart = pos;
            long[] tag = readVarint(payload, pos);
            if (tag == null) {
                return null;
            }
            pos = (int) tag[1];
            int field = (int) (tag[0] >>> 3);
            int wireType = (int) (tag[0] & 7);
            if (field == 0) {
                return null;
            }
            int end;
            switch (wireType) {
                case VARINT -> {
                    long[] v = readVarint(payload, pos);
                    if (v == null) {
                        return null;
                    }
                    end = (int) v[1];
                }
                case FIXED64 -> end = pos + 8;
                case FIXED32 -> end = pos + 4;
                case LENGTH_DELIMITED -> {
                    long[] len = readVarint(payload, pos);
                    if (len == null || len[0] < 0 || len[0] > payload.length - len[1]) {
                        return null;
                    }
                    end = (int) (len[1] + len[0]);
                }
                default -> {
                    return null; // groups (deprecated) are not in the Sparkplug B schema
                }
            }
            if (end > payload.length) {
                return null;
            }
            if (field == TIMESTAMP_FIELD) {
                if (wireType != VARINT) {
                    return null;
                }
                if (!written) {
                    writeTimestamp(out, millis);
                    written = true;
                }
            } else {
                out.write(payload, fieldStart, end - fieldStart);
            }
            pos = end;
        }
        if (!written) {
            ByteArrayOutputStream first = new ByteArrayOutputStream(payload.length + 11);
            writeTimestamp(first, millis);
            first.writeBytes(out.toByteArray());
            return first.toByteArray();
        }
        return out.toByteArray();
    }

    private static void writeTimestamp(ByteArrayOutputStream out, long millis) {
        writeVarint(out, (TIMESTAMP_FIELD << 3) | VARINT);
        writeVarint(out, millis);
    }

    private static void writeVarint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    /** @return {value, position after it}, or null if the varint is cut short or longer than 10 bytes */
    private static long[] readVarint(byte[] b, int pos) {
        long value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= b.length) {
                return null;
            }
            int x = b[pos++];
            value |= (long) (x & 0x7F) << shift;
            if ((x & 0x80) == 0) {
                return new long[] {value, pos};
            }
        }
        return null;
    }
}
