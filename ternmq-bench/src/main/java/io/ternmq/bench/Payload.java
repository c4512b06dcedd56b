package io.ternmq.bench;

import io.netty.buffer.ByteBuf;

/**
 * The header every bench message payload starts with, big-endian, followed by filler up to the payload size:
 * <pre>
 *  0     magic 0xB7
 *  1     flags: bit 0 = counted (sent while the run was measuring, not during warm-up)
 *  2..3  run id (random per process), so messages of another run (a persistent session's backlog) are not counted
 *  4..7  stream id: the publisher's index
 *  8..15 sequence number within the stream, from 0
 * 16..23 send time, System.nanoTime() of the publisher (the intended send time at a fixed rate)
 * </pre>
 * System.nanoTime is CLOCK_MONOTONIC on Linux, the same clock for every process of the machine, so a subscriber in
 * another process on the same host can compute latencies too.
 */
final class Payload {
    static final int HEADER_SIZE = 24;
    static final int MAGIC = 0xB7;
    static final int FLAG_COUNTED = 1;

    private Payload() {
    }

    /** Writes the header and {@code size - HEADER_SIZE} filler bytes. */
    static void write(ByteBuf out, int flags, int runId, int stream, long seq, long sendNanos, int size) {
        out.writeByte(MAGIC);
        out.writeByte(flags);
        out.writeShort(runId);
        out.writeInt(stream);
        out.writeLong(seq);
        out.writeLong(sendNanos);
        out.writeZero(size - HEADER_SIZE);
    }

    /** @param runId the run whose messages count, or -1 for any run's */
    static boolean isBench(ByteBuf buf, int index, int length, int runId) {
        return length >= HEADER_SIZE && buf.getUnsignedByte(index) == MAGIC
                && (runId < 0 || buf.getUnsignedShort(index + 2) == runId);
    }

    static int runId(ByteBuf buf, int index) {
        return buf.getUnsignedShort(index + 2);
    }

    static boolean counted(ByteBuf buf, int index) {
        return (buf.getByte(index + 1) & FLAG_COUNTED) != 0;
    }

    static int stream(ByteBuf buf, int index) {
        return buf.getInt(index + 4);
    }

    static long seq(ByteBuf buf, int index) {
        return buf.getLong(index + 8);
    }

    static long sendNanos(ByteBuf buf, int index) {
        return buf.getLong(index + 16);
    }
}
