package io.ternmq.broker.config;

/** A configuration problem; the message names the file, line and key when there are ones, and what is wrong. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }
}
