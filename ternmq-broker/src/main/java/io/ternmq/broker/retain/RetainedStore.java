package io.ternmq.broker.retain;

import io.ternmq.broker.message.Message;

import java.util.function.Consumer;

/**
 * The last retained message of each topic. Implementations: {@link MemoryRetainedStore} now, a disk store and a
 * cluster-wide store later. Called from any event loop; implementations are thread-safe.
 */
public interface RetainedStore {

    /** Stores the message as its topic's retained message, or deletes the topic's one if the payload is empty. */
    void put(Message message);

    /** Visits the retained message of every topic matching this filter (wildcards allowed). */
    void match(String filter, Consumer<Message> visitor);

    /** @return the retained message of exactly this topic, or null */
    Message get(String topic);

    long size();

    /** Visits every retained message, {@code $} topics included (listings; weakly consistent with writes). */
    void forEach(Consumer<Message> visitor);

    /** Sum of the retained payload sizes. */
    long bytes();
}
