package io.ternmq.broker.transport;

import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The diagnostic bench/admin-latency.sh reads: it tells a loop held by work from one held waiting. */
class LoopHoldProbeTest {
    private final EventLoop loop = new DefaultEventLoop();
    private final List<LoopHoldProbe.Window> windows = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    @Test
    void aTaskThatWorksIsAHoldTheLoopSpentWorking() {
        LoopHoldProbe.start(loop, TimeUnit.MILLISECONDS.toNanos(200), windows::add);
        loop.schedule(() -> spin(30), 50, TimeUnit.MILLISECONDS);
        await().atMost(5, TimeUnit.SECONDS).until(() -> windows.size() >= 2);
        LoopHoldProbe.Window held = windows.get(0);
        assertThat(held.longestNanos()).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(25));
        assertThat(held.over5ms()).isGreaterThanOrEqualTo(1);
        assertThat(held.mostBusyNanos()).as("the loop's thread used the CPU all along")
                .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(30));
    }

    @Test
    void aTaskThatWaitsIsAHoldWithoutWork() throws Exception {
        LoopHoldProbe.start(loop, TimeUnit.MILLISECONDS.toNanos(200), windows::add);
        loop.schedule(() -> sleep(30), 50, TimeUnit.MILLISECONDS);
        await().atMost(5, TimeUnit.SECONDS).until(() -> windows.size() >= 2);
        LoopHoldProbe.Window held = windows.get(0);
        assertThat(held.longestNanos()).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(25));
        assertThat(held.over5ms()).isGreaterThanOrEqualTo(1);
        assertThat(held.mostBusyNanos()).as("sleeping uses no CPU").isLessThan(TimeUnit.MILLISECONDS.toNanos(15));
    }

    /** Works for {@code millis} of CPU time (more wall time on a busy machine). */
    private static void spin(long millis) {
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long end = threads.getCurrentThreadCpuTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (threads.getCurrentThreadCpuTime() < end) {
            Thread.onSpinWait();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
