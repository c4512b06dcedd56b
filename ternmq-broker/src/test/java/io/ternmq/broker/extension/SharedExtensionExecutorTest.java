package io.ternmq.broker.extension;

import io.ternmq.broker.testing.SampleExtensionFolder;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The pool extensions share: bounded, and a refusal counted for the extension that asked. */
class SharedExtensionExecutorTest {
    @TempDir
    Path dir;

    @Test
    @DisplayName("beyond its threads and queue the pool refuses a task, counted for the extension; scheduled tasks run")
    void boundedAndCounted() throws Exception {
        ExtensionDescriptor d = ExtensionDescriptor.read(SampleExtensionFolder.copyInto(dir, "sample"));
        ExtensionStats stats = new ExtensionStats("sample", 10);
        try (SharedExtensionExecutor pool = new SharedExtensionExecutor(1)) {
            BrokerExtensionContext context = new BrokerExtensionContext(d, stats, null, pool,
                    new Interceptors.Builder());
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch running = new CountDownLatch(1);
            context.executor().execute(() -> {
                running.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
            for (int i = 0; i < SharedExtensionExecutor.QUEUE; i++) {
                context.executor().execute(() -> { });
            }
            assertThatThrownBy(() -> context.executor().execute(() -> { }))
                    .isInstanceOf(RejectedExecutionException.class);
            assertThat(stats.rejectedTasks()).isEqualTo(1);
            release.countDown();
            CountDownLatch scheduled = new CountDownLatch(1);
            context.executor().schedule(scheduled::countDown, Duration.ofMillis(20));
            assertThat(scheduled.await(5, TimeUnit.SECONDS)).isTrue();
        }
    }
}
