package io.ternmq.broker.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.AbstractEventExecutor;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/** {@link SharedPayloads}: one pooled copy per loop and batch, shared by reference count, never leaked. */
class SharedPayloadsTest {
    private final EventLoop loop = new DefaultEventLoop();
    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;

    @AfterEach
    void stop() {
        loop.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get();
    }

    private static byte[] payload(int size, int seed) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[i] = (byte) (i * 7 + seed);
        }
        return b;
    }

    /** The pooled buffer under a duplicate (and under the leak detector's wrappers, which tests switch on). */
    private static ByteBuf root(ByteBuf b) {
        while (b.unwrap() != null) {
            b = b.unwrap();
        }
        return b;
    }

    @Test
    @DisplayName("the first receiver gets no copy; later ones in the batch share one, released when the last is written")
    void sharedWithinBatchAndReleased() throws Exception {
        byte[] payload = payload(4096, 1);
        List<ByteBuf> written = onLoop(() -> {
            List<ByteBuf> dups = new ArrayList<>();
            assertThat(SharedPayloads.sharedCopy(payload, alloc, loop)).isNull(); // encoded whole with its header
            for (int i = 0; i < 3; i++) {
                dups.add(SharedPayloads.sharedCopy(payload, alloc, loop));
            }
            return dups;
        });
        ByteBuf copy = root(written.get(0));
        assertThat(written).allSatisfy(d -> {
            assertThat(root(d)).as("one copy for all").isSameAs(copy);
            assertThat(ByteBufUtil.getBytes(d)).isEqualTo(payload);
        });
        // the batch is over (the loop ran the release queued behind it): only the three writes hold the copy
        onLoop(() -> null);
        assertThat(copy.refCnt()).isEqualTo(3);
        written.get(0).readerIndex(100); // a write consuming its duplicate leaves the others whole
        assertThat(written.get(1).readableBytes()).isEqualTo(4096);
        written.forEach(ByteBuf::release);
        assertThat(copy.refCnt()).isZero();
    }

    @Test
    @DisplayName("a new batch starts over: its first receiver of the same payload is encoded whole again")
    void batchEndForgetsPayload() throws Exception {
        byte[] payload = payload(SharedPayloads.MIN_SHARED_BYTES, 2);
        assertThat(onLoop(() -> SharedPayloads.sharedCopy(payload, alloc, loop))).isNull();
        ByteBuf second = onLoop(() -> SharedPayloads.sharedCopy(payload, alloc, loop));
        assertThat(second).isNull();
    }

    @Test
    @DisplayName("payloads are told apart by identity: equal bytes in another array are another message")
    void identityNotEquality() throws Exception {
        byte[] a = payload(SharedPayloads.MIN_SHARED_BYTES + 1, 3);
        byte[] b = Arrays.copyOf(a, a.length);
        ByteBuf[] got = onLoop(() -> new ByteBuf[] {
                SharedPayloads.sharedCopy(a, alloc, loop), SharedPayloads.sharedCopy(b, alloc, loop),
                SharedPayloads.sharedCopy(b, alloc, loop), SharedPayloads.sharedCopy(a, alloc, loop)});
        assertThat(got[0]).isNull();
        assertThat(got[1]).isNull();
        assertThat(got[2]).isNotNull();
        assertThat(got[3]).as("a again after b: the loop holds one payload at a time").isNull();
        onLoop(() -> null);
        ByteBuf copyOfB = root(got[2]);
        assertThat(copyOfB.refCnt()).isEqualTo(1);
        got[2].release();
        assertThat(copyOfB.refCnt()).isZero();
    }

    @Test
    @DisplayName("a loop that no longer takes tasks (the last drain of a shutdown) shares nothing and keeps nothing")
    void loopRefusingTasks() throws Exception {
        byte[] payload = payload(4096, 6);
        // on a loop thread, but asking an executor that refuses the end-of-batch release, as a stopped loop does
        EventExecutor refusing = new AbstractEventExecutor() {
            @Override
            public boolean inEventLoop(Thread thread) {
                return true;
            }

            @Override
            public void execute(Runnable task) {
                throw new RejectedExecutionException("stopped");
            }

            @Override
            public boolean isShuttingDown() {
                return true;
            }

            @Override
            public Future<?> shutdownGracefully(long quietPeriod, long timeout, TimeUnit unit) {
                return terminationFuture();
            }

            @Override
            public Future<?> terminationFuture() {
                return ImmediateEventExecutor.INSTANCE.newSucceededFuture(null);
            }

            @Override
            @Deprecated
            public void shutdown() {
            }

            @Override
            public boolean isShutdown() {
                return true;
            }

            @Override
            public boolean isTerminated() {
                return true;
            }

            @Override
            public boolean awaitTermination(long timeout, TimeUnit unit) {
                return true;
            }
        };
        assertThat(onLoop(() -> new Object[] {SharedPayloads.sharedCopy(payload, alloc, refusing),
                SharedPayloads.sharedCopy(payload, alloc, refusing)})).containsOnlyNulls();
        // nothing was remembered either: on the real loop the same payload starts over as a first receiver
        assertThat(onLoop(() -> SharedPayloads.sharedCopy(payload, alloc, loop))).isNull();
    }

    @Test
    @DisplayName("small payloads and callers off the loop always get their own copy")
    void smallOrOffLoopNotShared() throws Exception {
        byte[] small = payload(SharedPayloads.MIN_SHARED_BYTES - 1, 4);
        assertThat(onLoop(() -> new Object[] {SharedPayloads.sharedCopy(small, alloc, loop),
                SharedPayloads.sharedCopy(small, alloc, loop)})).containsOnlyNulls();
        byte[] big = payload(8192, 5);
        assertThat(SharedPayloads.sharedCopy(big, alloc, loop)).isNull();
        assertThat(SharedPayloads.sharedCopy(big, alloc, loop)).isNull();
    }
}
