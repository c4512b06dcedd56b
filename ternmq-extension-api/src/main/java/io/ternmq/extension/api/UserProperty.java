package io.ternmq.extension.api;

import java.util.Objects;

/**
 * An MQTT 5 User Property. A value type.
 *
 * @since 0.1
 */
public record UserProperty(String name, String value) {
    public UserProperty {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
    }
}
