package io.ternmq.broker.transport;

import io.netty.channel.ChannelConfig;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Read sizes: start at 2 KiB, grow fast when a read fills the buffer, shrink after two small reads, 64 B–64 KiB. */
class CompactReceiveAllocatorTest {
    private final ChannelConfig config = new EmbeddedChannel().config();
    private final RecvByteBufAllocator.Handle handle = new CompactReceiveAllocator().newHandle();

    /** One read loop that read {@code bytes} into a buffer of the current guess. */
    private void read(int bytes) {
        handle.reset(config);
        handle.attemptedBytesRead(handle.guess());
        handle.lastBytesRead(bytes);
        handle.incMessagesRead(1);
        handle.readComplete();
    }

    @Test
    void growsWhenAReadFillsTheBuffer() {
        assertThat(handle.guess()).isEqualTo(2048);
        read(2048);
        assertThat(handle.guess()).isEqualTo(8192);
        for (int i = 0; i < 10; i++) {
            read(handle.guess());
        }
        assertThat(handle.guess()).isEqualTo(65536);
    }

    @Test
    void shrinksAfterTwoSmallReadsOnly() {
        read(100);
        assertThat(handle.guess()).as("one small read").isEqualTo(2048);
        read(100);
        assertThat(handle.guess()).isEqualTo(1024);
        read(1000);
        assertThat(handle.guess()).as("a read above half resets nothing").isEqualTo(1024);
        for (int i = 0; i < 40; i++) {
            read(1);
        }
        assertThat(handle.guess()).isEqualTo(64);
    }

    @Test
    void keepsReadingUpToSixteenTimes() {
        handle.reset(config);
        int reads = 0;
        do {
            handle.attemptedBytesRead(handle.guess());
            handle.lastBytesRead(handle.guess());
            handle.incMessagesRead(1);
            reads++;
        } while (handle.continueReading());
        assertThat(reads).isEqualTo(16);
    }
}
