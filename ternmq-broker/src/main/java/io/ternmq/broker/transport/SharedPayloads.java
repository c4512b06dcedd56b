package io.ternmq.broker.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;

import java.util.concurrent.RejectedExecutionException;

/**
 * One pooled copy of a message's payload per event loop, shared by reference count between every receiver of the
 * message on that loop: each receiver's PUBLISH is its own few header bytes followed by a retained duplicate of the
 * copy, instead of a whole packet with the payload copied into it again. Receivers differ in packet id, DUP, RETAIN,
 * properties and topic alias, never in payload bytes, so only the header is built per receiver.
 * <p>
 * A message is recognised by its payload array: every receiver's packet holds the same immutable array. Its first
 * receiver on a loop is encoded whole as before (most messages have one receiver, and a second buffer would only
 * cost); from the second on, the copy is made once and shared. The loop lets go of the copy after the batch of tasks
 * it was made in; the bytes stay until the last write holding a duplicate completes.
 */
final class SharedPayloads implements Runnable {
    /**
     * Below this size a payload is copied into each receiver's packet: a shared one costs each receiver a duplicate
     * buffer object and a second outbound entry, which equals copying 1 KiB (fan-out 1→32 at 1 KiB: same throughput
     * either way) and pays from a few KiB on (64 KiB: 18 % more throughput; docs/benchmarks.md).
     */
    static final int MIN_SHARED_BYTES = 2048;

    private static final FastThreadLocal<SharedPayloads> PER_LOOP = new FastThreadLocal<>() {
        @Override
        protected SharedPayloads initialValue() {
            return new SharedPayloads();
        }
    };

    /** The payload last written on this loop, compared by identity; held only until the end of the batch. */
    private byte[] last;
    /** Its pooled copy, once a second receiver asked for it. */
    private ByteBuf copy;
    private boolean releaseScheduled;

    /**
     * @return a duplicate of the loop's shared copy of {@code payload}, retained for the caller (who writes it), or
     * null if the payload is to be written inside the packet's own buffer (small, first receiver, or not on a loop)
     */
    static ByteBuf sharedCopy(byte[] payload, ByteBufAllocator alloc, EventExecutor loop) {
        if (payload.length < MIN_SHARED_BYTES || !loop.inEventLoop()) {
            return null;
        }
        return PER_LOOP.get().share(payload, alloc, loop);
    }

    private ByteBuf share(byte[] payload, ByteBufAllocator alloc, EventExecutor loop) {
        if (!releaseScheduled) {
            try {
                loop.execute(this); // after the tasks queued now: those deliver this message to the loop's receivers
            } catch (RejectedExecutionException e) {
                return null; // the loop is shutting down: nothing to share with
            }
            releaseScheduled = true;
        }
        if (payload != last) {
            release();
            last = payload;
            return null;
        }
        if (copy == null) {
            copy = alloc.directBuffer(payload.length, payload.length).writeBytes(payload);
        }
        return copy.retainedDuplicate();
    }

    /** End of the batch: the loop keeps no payload (nor its array) alive between batches. */
    @Override
    public void run() {
        releaseScheduled = false;
        release();
        last = null;
    }

    private void release() {
        if (copy != null) {
            copy.release();
            copy = null;
        }
    }
}
