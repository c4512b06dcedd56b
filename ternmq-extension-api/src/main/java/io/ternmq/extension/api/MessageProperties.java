package io.ternmq.extension.api;

import java.util.List;

/**
 * The MQTT 5 properties of a message an extension may read and change. Broker-owned: do not implement.
 *
 * @since 0.1
 */
public interface MessageProperties {
    /** @since 0.1 */
    List<UserProperty> userProperties();

    /** Replaces the User Properties. @since 0.1 */
    void userProperties(List<UserProperty> properties);

    /** The Content Type, or null. @since 0.1 */
    String contentType();

    /** @since 0.1 */
    void contentType(String contentType);

    /** The Response Topic, or null. @since 0.1 */
    String responseTopic();

    /** @since 0.1 */
    void responseTopic(String responseTopic);

    /** The Message Expiry Interval in seconds, or null for none. @since 0.1 */
    Long messageExpiryInterval();

    /** @since 0.1 */
    void messageExpiryInterval(Long seconds);
}
