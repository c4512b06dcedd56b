package io.ternmq.broker.retain;

import io.ternmq.broker.message.Message;
import io.ternmq.broker.routing.TopicTrie;
import io.ternmq.codec.TopicSyntax;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Retained messages by topic, and in a {@link TopicTrie} of topic levels, so that a wildcard subscription walks only
 * the matching branches instead of every retained topic. Reads are lock-free; writes take one lock (retained writes are rare compared with
 * reads of the exact map, and pruning empty branches needs a consistent view).
 */
public final class MemoryRetainedStore implements RetainedStore {

    private final ConcurrentHashMap<String, Message> byTopic = new ConcurrentHashMap<>();
    private final TopicTrie<Message> byLevel = new TopicTrie<>();
    private final Object writeLock = new Object();
    private final AtomicLong size = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();

    @Override
    public void put(Message message) {
        String topic = message.topic();
        synchronized (writeLock) {
            if (message.payload().length == 0) {
                Message old = byTopic.remove(topic);
                if (old != null) {
                    size.decrementAndGet();
                    bytes.addAndGet(-old.payload().length);
                    TopicTrie.Node<Message> node = byLevel.find(topic);
                    if (node != null) {
                        node.value(null);
                        byLevel.prune(node);
                    }
                }
                return;
            }
            Message old = byTopic.put(topic, message);
            if (old == null) {
                size.incrementAndGet();
            } else {
                bytes.addAndGet(-old.payload().length);
            }
            bytes.addAndGet(message.payload().length);
            byLevel.nodeForWrite(topic).value(message);
        }
    }

    @Override
    public void forEach(Consumer<Message> visitor) {
        byTopic.values().forEach(visitor);
    }

    @Override
    public Message get(String topic) {
        return byTopic.get(topic);
    }

    @Override
    public void match(String filter, Consumer<Message> visitor) {
        if (!TopicSyntax.hasWildcard(filter)) {
            Message m = byTopic.get(filter);
            if (m != null) {
                visitor.accept(m);
            }
            return;
        }
        byLevel.matchTopics(filter, visitor);
    }

    @Override
    public long size() {
        return size.get();
    }

    @Override
    public long bytes() {
        return bytes.get();
    }
}
