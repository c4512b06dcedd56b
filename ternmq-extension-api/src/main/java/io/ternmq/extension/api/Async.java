package io.ternmq.extension.api;

/**
 * A decision moved off the client's event loop by {@code output.async(...)}: change the output from any thread, then
 * call {@link #resume()} once. The client's later packets wait, in order, until then. If {@code resume} has not been
 * called when the timeout passes, the declared {@link Fallback} applies and whatever the output says afterwards is
 * ignored. Broker-owned: do not implement.
 *
 * @since 0.1
 */
public interface Async {
    /** The decision is made: the broker goes on with the output as it is now. Later calls do nothing. @since 0.1 */
    void resume();
}
