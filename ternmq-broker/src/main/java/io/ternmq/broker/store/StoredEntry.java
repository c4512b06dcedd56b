package io.ternmq.broker.store;

import io.ternmq.broker.message.Message;

/** A queue entry read back with its message. */
public record StoredEntry(QueueEntry entry, Message message) {
}
