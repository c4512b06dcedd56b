package io.ternmq.extension.api;

/**
 * An extension's entry point, found with {@link java.util.ServiceLoader}
 * in the extension's own jars ({@code META-INF/services/io.ternmq.extension.api.ExtensionMain}); exactly one per
 * extension folder. Implemented by the extension.
 *
 * @since 0.1
 */
public interface ExtensionMain {
    /**
     * Called once, before any listener opens, in {@code priority} order (highest first). Register interceptors and
     * listeners here: the chain is fixed once every extension has started. Throwing refuses the extension: a
     * {@code required} one stops the broker (exit status 2), any other is logged and left out.
     *
     * @since 0.1
     */
    void start(ExtensionContext context) throws Exception;

    /**
     * Called once when the broker stops, after the listeners have closed, in the reverse order of {@link #start}.
     * Not called for an extension whose {@code start} threw.
     *
     * @since 0.1
     */
    default void stop() throws Exception {
    }
}
