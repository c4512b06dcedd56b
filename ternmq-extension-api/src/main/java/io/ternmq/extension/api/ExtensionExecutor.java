package io.ternmq.extension.api;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * A bounded pool (threads and queue) shared by every extension, for work that must not run on an event loop.
 * Broker-owned: do not implement.
 *
 * @since 0.1
 */
public interface ExtensionExecutor extends Executor {
    /**
     * @throws RejectedExecutionException when the queue is full (counted for the extension) or the broker stops
     * @since 0.1
     */
    @Override
    void execute(Runnable task);

    /** Runs the task on this pool after the delay. @since 0.1 */
    void schedule(Runnable task, Duration delay);
}
