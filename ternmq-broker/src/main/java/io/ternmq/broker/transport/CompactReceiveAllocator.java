package io.ternmq.broker.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelConfig;
import io.netty.channel.DefaultMaxMessagesRecvByteBufAllocator;
import io.netty.channel.MaxMessagesRecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;

/**
 * Sizes each socket read like Netty's {@code AdaptiveRecvByteBufAllocator} (grow fast when a read fills the buffer,
 * shrink after two reads that would have fitted in half), between 64 B and 64 KiB in powers of two, with the state
 * in two fields of the per-connection handle instead of a separate calculator object: 72 bytes less for each idle
 * connection. One instance serves every connection.
 */
final class CompactReceiveAllocator extends DefaultMaxMessagesRecvByteBufAllocator {
    private static final byte MIN_SHIFT = 6;      // 64 B
    private static final byte INITIAL_SHIFT = 11; // 2 KiB, Netty's initial guess too
    private static final byte MAX_SHIFT = 16;     // 64 KiB

    CompactReceiveAllocator() {
        // what Netty gives a socket channel's own allocator (an allocator set as an option keeps its value, 1)
        super(16);
    }

    @Override
    public Handle newHandle() {
        return new CompactHandle();
    }

    /**
     * Netty's {@code MaxMessageHandle} with its state and nothing else: no reference to the allocator and no
     * "maybe more data" supplier object (32 bytes less per connection), the same decisions.
     */
    private static final class CompactHandle implements ExtendedHandle {
        private ChannelConfig config;
        private int maxMessages;
        private int messages;
        private int totalBytes;
        private int attemptedBytes;
        private int lastBytes;
        private byte shift = INITIAL_SHIFT;
        private boolean shrinkNext;

        @Override
        public void reset(ChannelConfig config) {
            this.config = config;
            maxMessages = ((MaxMessagesRecvByteBufAllocator) config.getRecvByteBufAllocator()).maxMessagesPerRead();
            messages = 0;
            totalBytes = 0;
        }

        @Override
        public ByteBuf allocate(ByteBufAllocator alloc) {
            return alloc.ioBuffer(guess());
        }

        @Override
        public int guess() {
            return 1 << shift;
        }

        @Override
        public void incMessagesRead(int n) {
            messages += n;
        }

        @Override
        public void lastBytesRead(int bytes) {
            if (bytes == attemptedBytes) {
                record(bytes); // the buffer filled up: more is probably waiting
            }
            lastBytes = bytes;
            if (bytes > 0) {
                totalBytes += bytes;
            }
        }

        @Override
        public int lastBytesRead() {
            return lastBytes;
        }

        @Override
        public void attemptedBytesRead(int bytes) {
            attemptedBytes = bytes;
        }

        @Override
        public int attemptedBytesRead() {
            return attemptedBytes;
        }

        @Override
        public boolean continueReading() {
            // Netty's default "maybe more data": the last read filled the buffer
            return keepReading(attemptedBytes == lastBytes);
        }

        @Override
        public boolean continueReading(UncheckedBooleanSupplier maybeMoreData) {
            return keepReading(maybeMoreData.get());
        }

        private boolean keepReading(boolean maybeMoreData) {
            return config.isAutoRead() && maybeMoreData && messages < maxMessages && totalBytes > 0;
        }

        @Override
        public void readComplete() {
            record(totalBytes < 0 ? Integer.MAX_VALUE : totalBytes);
        }

        private void record(int bytes) {
            if (shift > MIN_SHIFT && bytes <= 1 << (shift - 1)) {
                if (shrinkNext) {
                    shift--;
                    shrinkNext = false;
                } else {
                    shrinkNext = true;
                }
            } else if (bytes >= 1 << shift) {
                shift = (byte) Math.min(shift + 2, MAX_SHIFT);
                shrinkNext = false;
            }
        }
    }
}
