package io.ternmq.codec;

import java.util.Objects;

/** An MQTT 5.0 user property: a name/value pair of UTF-8 strings; order and duplicates are significant. */
public record UserProperty(String name, String value) {
    public UserProperty {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
    }
}
