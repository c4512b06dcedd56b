package io.ternmq.broker.config;

/** {@code log_level}: the root log level. */
public enum LogLevel {
    ERROR, WARN, INFO, DEBUG, TRACE
}
