package io.ternmq.broker.extension;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The pool every extension shares for work that must not run on an event loop: a fixed number of threads and a
 * bounded queue (a task beyond it is refused, not queued without end), plus one timer thread that only hands
 * scheduled tasks to the pool. Made only when an extension is loaded.
 */
final class SharedExtensionExecutor implements AutoCloseable {
    static final int QUEUE = 10_000;

    private final ThreadPoolExecutor pool;
    private final ScheduledExecutorService timer;

    SharedExtensionExecutor(int threads) {
        pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE),
                threads("ternmq-extension-"), new ThreadPoolExecutor.AbortPolicy());
        timer = Executors.newSingleThreadScheduledExecutor(threads("ternmq-extension-timer-"));
    }

    private static ThreadFactory threads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** @throws RejectedExecutionException when the queue is full or the broker stops */
    void execute(Runnable task) {
        pool.execute(task);
    }

    void schedule(Runnable task, long delayNanos, ExtensionStats owner) {
        timer.schedule(() -> {
            try {
                pool.execute(task);
            } catch (RejectedExecutionException e) {
                owner.rejectedTasks.increment();
            }
        }, delayNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void close() {
        timer.shutdownNow();
        pool.shutdown();
        try {
            if (!pool.awaitTermination(5, TimeUnit.SECONDS)) {
                pool.shutdownNow();
            }
        } catch (InterruptedException e) {
            pool.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
