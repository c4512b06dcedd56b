package io.ternmq.extension.api;

import java.time.Duration;

/**
 * The filters of one SUBSCRIBE, in order; index {@code i} answers the SUBACK's {@code i}-th code. Broker-owned: do
 * not implement.
 *
 * @since 0.1
 */
public interface SubscribeInboundOutput {
    /** @since 0.1 */
    int size();

    /** @since 0.1 */
    String filter(int index);

    /** Replaces the filter (then checked as the client's: an invalid one is refused with 0x8F). @since 0.1 */
    void filter(int index, String filter);

    /** @since 0.1 */
    int qos(int index);

    /** The QoS asked for (the broker still grants at most {@code max_qos}). @since 0.1 */
    void qos(int index, int qos);

    /** Refuses this filter with a SUBACK reason code of 0x80 or above (MQTT 3.x: 0x80). @since 0.1 */
    void refuse(int index, int reasonCode);

    /**
     * Moves the decision elsewhere: the SUBSCRIBE waits (with the client's later packets) until
     * {@link Async#resume()}, or until {@code timeout}, when {@code fallback} applies: every filter as the client
     * sent it, or every filter refused with the fallback's code. Call at most once per SUBSCRIBE, before returning
     * from the interceptor.
     *
     * @since 0.2
     */
    Async async(Duration timeout, Fallback fallback);
}
