package io.ternmq.broker.session;

/** Per-session bounds from the configuration. */
public record SessionLimits(int maxQueuedMessages, boolean queueQos0Messages) {
}
