package io.ternmq.broker.routing;

import io.ternmq.codec.TopicSyntax;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * Topic filters to entries (key to value per filter), matched against topic names. Reads ({@link #match}) are
 * lock-free and run on every publisher's event loop at once; writes are serialized (filters without wildcards per
 * key by the map, the wildcard trie by one lock), which is cheap because subscribing is rare next to publishing.
 *
 * <p>Filters without wildcards live in one hash map keyed by the whole filter, so the common exact-topic case is a
 * single lookup; only filters with {@code +} or {@code #} go into a {@link TopicTrie}, which match walks level by
 * level.
 *
 * @param <K> who holds the entry (a session; a shared group's name)
 * @param <V> the entry (a subscription; a shared group)
 */
final class TopicFilterTree<K, V> {

    private final ConcurrentHashMap<String, Map<K, V>> exact = new ConcurrentHashMap<>();
    /** Filters with wildcards; a node's value is the entries of its filter, null when it has none. */
    private final TopicTrie<ConcurrentHashMap<K, V>> wildcards = new TopicTrie<>();
    private final Object trieWriteLock = new Object();
    private final AtomicLong size = new AtomicLong();

    /** @return the value it replaces, or null if the key had no entry for this filter */
    V put(String filter, K key, V value) {
        Object[] previous = new Object[1];
        if (!TopicSyntax.hasWildcard(filter)) {
            exact.compute(filter, (f, entries) -> {
                Map<K, V> m = entries == null ? new ConcurrentHashMap<>(4) : entries;
                previous[0] = m.put(key, value);
                return m;
            });
        } else {
            synchronized (trieWriteLock) {
                TopicTrie.Node<ConcurrentHashMap<K, V>> node = wildcards.nodeForWrite(filter);
                ConcurrentHashMap<K, V> entries = node.value();
                if (entries == null) {
                    entries = new ConcurrentHashMap<>(4);
                    node.value(entries);
                }
                previous[0] = entries.put(key, value);
            }
        }
        if (previous[0] == null) {
            size.incrementAndGet();
        }
        @SuppressWarnings("unchecked")
        V v = (V) previous[0];
        return v;
    }

    /** @return the entry of this key for this filter, or null */
    V get(String filter, K key) {
        Map<K, V> entries;
        if (!TopicSyntax.hasWildcard(filter)) {
            entries = exact.get(filter);
        } else {
            TopicTrie.Node<ConcurrentHashMap<K, V>> node = wildcards.find(filter);
            entries = node == null ? null : node.value();
        }
        return entries == null ? null : entries.get(key);
    }

    /** @return the removed value, or null if there was none */
    V remove(String filter, K key) {
        Object[] removed = new Object[1];
        if (!TopicSyntax.hasWildcard(filter)) {
            exact.computeIfPresent(filter, (f, entries) -> {
                removed[0] = entries.remove(key);
                return entries.isEmpty() ? null : entries;
            });
        } else {
            synchronized (trieWriteLock) {
                TopicTrie.Node<ConcurrentHashMap<K, V>> node = wildcards.find(filter);
                ConcurrentHashMap<K, V> entries = node == null ? null : node.value();
                if (entries != null) {
                    removed[0] = entries.remove(key);
                    if (entries.isEmpty()) {
                        node.value(null);
                        wildcards.prune(node);
                    }
                }
            }
        }
        if (removed[0] != null) {
            size.decrementAndGet();
        }
        @SuppressWarnings("unchecked")
        V v = (V) removed[0];
        return v;
    }

    /** Visits every entry whose filter matches this topic name. */
    void match(String topic, BiConsumer<K, V> visitor) {
        Map<K, V> entries = exact.get(topic);
        if (entries != null) {
            entries.forEach(visitor);
        }
        if (!wildcards.isEmpty()) { // no lambda for the common case of exact filters only
            wildcards.matchFilters(topic, matching -> matching.forEach(visitor));
        }
    }

    long size() {
        return size.get();
    }

    /** True when no filter is held; removals prune every map and level a filter leaves behind. */
    boolean isEmpty() {
        return exact.isEmpty() && wildcards.isEmpty();
    }

    /** Visits every filter held with its entries (listings; weakly consistent with writes). */
    void forEachFilter(BiConsumer<String, Map<K, V>> visitor) {
        exact.forEach(visitor);
        wildcards.forEach(visitor::accept);
    }
}
