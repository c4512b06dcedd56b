package io.ternmq.extension.api;

/**
 * Counters an extension keeps; the broker reports them with its own, as {@code extension.<id>.<name>} (for now in
 * its log when it stops). Broker-owned: do not implement.
 *
 * @since 0.1
 */
public interface MetricsService {
    /** A monotonic counter. Broker-owned: do not implement. @since 0.1 */
    interface Counter {
        /** @since 0.1 */
        void increment();

        /** @since 0.1 */
        void add(long n);

        /** @since 0.1 */
        long value();
    }

    /** The counter of this name, created on first use. @since 0.1 */
    Counter counter(String name);
}
