package io.ternmq.broker.config;

/**
 * Bounds of the retained messages the broker keeps. When one is reached, a retained PUBLISH to a new topic is
 * delivered but not retained; replacing or clearing a retained message always works.
 *
 * @param maxCount retained messages kept at most; negative: no cap
 * @param maxBytes retained payload bytes kept at most; negative: no cap
 */
public record RetainedSettings(long maxCount, long maxBytes) {
}
