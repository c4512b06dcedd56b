package io.ternmq.broker.config;

/** When a write counts as stored ({@code storage.durability}); docs/durability.md says what each can lose. */
public enum Durability {
    FSYNC, PERIODIC, NONE
}
