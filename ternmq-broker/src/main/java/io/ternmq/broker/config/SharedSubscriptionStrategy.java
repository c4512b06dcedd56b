package io.ternmq.broker.config;

/** How a shared subscription group picks the member that gets a message ({@code shared_subscription_strategy}). */
public enum SharedSubscriptionStrategy {
    ROUND_ROBIN, RANDOM, STICKY, HASH_CLIENT_ID
}
