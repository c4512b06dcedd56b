package io.ternmq.broker.routing;

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
 * single lookup; only filters with {@code +} or {@code #} go into the trie, which match walks level by level.
 *
 * @param <K> who holds the entry (a session; a shared group's name)
 * @param <V> the entry (a subscription; a shared group)
 */
final class TopicFilterTree<K, V> {

    private final ConcurrentHashMap<String, Map<K, V>> exact = new ConcurrentHashMap<>();
    private final Node<K, V> root = new Node<>(null, "");
    private final Object trieWriteLock = new Object();
    private final AtomicLong size = new AtomicLong();

    /** @return the value it replaces, or null if the key had no entry for this filter */
    V put(String filter, K key, V value) {
        Object[] previous = new Object[1];
        if (!hasWildcard(filter)) {
            exact.compute(filter, (f, entries) -> {
                Map<K, V> m = entries == null ? new ConcurrentHashMap<>(4) : entries;
                previous[0] = m.put(key, value);
                return m;
            });
        } else {
            synchronized (trieWriteLock) {
                Node<K, V> node = root;
                int start = 0;
                while (true) {
                    int end = filter.indexOf('/', start);
                    String level = end < 0 ? filter.substring(start) : filter.substring(start, end);
                    node = node.childForWrite(level);
                    if (end < 0) {
                        break;
                    }
                    start = end + 1;
                }
                previous[0] = node.entriesForWrite().put(key, value);
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
        if (!hasWildcard(filter)) {
            entries = exact.get(filter);
        } else {
            Node<K, V> node = find(filter);
            entries = node == null ? null : node.entries;
        }
        return entries == null ? null : entries.get(key);
    }

    /** @return the removed value, or null if there was none */
    V remove(String filter, K key) {
        Object[] removed = new Object[1];
        if (!hasWildcard(filter)) {
            exact.computeIfPresent(filter, (f, entries) -> {
                removed[0] = entries.remove(key);
                return entries.isEmpty() ? null : entries;
            });
        } else {
            synchronized (trieWriteLock) {
                Node<K, V> node = find(filter);
                if (node != null && node.entries != null) {
                    removed[0] = node.entries.remove(key);
                    if (removed[0] != null) {
                        node.pruneIfEmpty();
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
        if (root.children != null) {
            // [MQTT-4.7.2-1] a filter starting with a wildcard never matches a topic starting with '$'
            matchLevel(root, topic, 0, topic.startsWith("$"), visitor);
        }
    }

    long size() {
        return size.get();
    }

    boolean isEmpty() {
        return size.get() == 0;
    }

    /** True when not even an empty node or map is left: removals prune everything. */
    boolean holdsNothing() {
        return exact.isEmpty() && (root.children == null || root.children.isEmpty());
    }

    private static <K, V> void matchLevel(Node<K, V> node, String topic, int start, boolean dollarFirstLevel,
                                          BiConsumer<K, V> visitor) {
        Map<String, Node<K, V>> children = node.children;
        if (children == null) {
            return;
        }
        if (!dollarFirstLevel) {
            // '#' matches this level and everything below, including the parent level itself ("a/#" matches "a")
            visitAll(children.get("#"), visitor);
        }
        int end = topic.indexOf('/', start);
        String level = end < 0 ? topic.substring(start) : topic.substring(start, end);
        Node<K, V> exactChild = children.get(level);
        if (exactChild != null) {
            descend(exactChild, topic, end, visitor);
        }
        if (!dollarFirstLevel) {
            Node<K, V> plus = children.get("+");
            if (plus != null) {
                descend(plus, topic, end, visitor);
            }
        }
    }

    private static <K, V> void descend(Node<K, V> child, String topic, int end, BiConsumer<K, V> visitor) {
        if (end < 0) {
            visitAll(child, visitor);
            Map<String, Node<K, V>> grandChildren = child.children;
            if (grandChildren != null) {
                visitAll(grandChildren.get("#"), visitor);
            }
        } else {
            matchLevel(child, topic, end + 1, false, visitor);
        }
    }

    private static <K, V> void visitAll(Node<K, V> node, BiConsumer<K, V> visitor) {
        if (node != null) {
            Map<K, V> entries = node.entries;
            if (entries != null) {
                entries.forEach(visitor);
            }
        }
    }

    private Node<K, V> find(String filter) {
        Node<K, V> node = root;
        int start = 0;
        while (node != null) {
            int end = filter.indexOf('/', start);
            String level = end < 0 ? filter.substring(start) : filter.substring(start, end);
            Map<String, Node<K, V>> children = node.children;
            node = children == null ? null : children.get(level);
            if (end < 0) {
                return node;
            }
            start = end + 1;
        }
        return null;
    }

    static boolean hasWildcard(String filter) {
        return filter.indexOf('+') >= 0 || filter.indexOf('#') >= 0;
    }

    /** A trie level. Fields are written under the trie lock and read without it, hence volatile. */
    private static final class Node<K, V> {
        private final Node<K, V> parent;
        private final String level;
        private volatile ConcurrentHashMap<String, Node<K, V>> children;
        private volatile ConcurrentHashMap<K, V> entries;

        Node(Node<K, V> parent, String level) {
            this.parent = parent;
            this.level = level;
        }

        Node<K, V> childForWrite(String level) {
            ConcurrentHashMap<String, Node<K, V>> c = children;
            if (c == null) {
                c = new ConcurrentHashMap<>(4);
                children = c;
            }
            return c.computeIfAbsent(level, l -> new Node<>(this, l));
        }

        Map<K, V> entriesForWrite() {
            ConcurrentHashMap<K, V> e = entries;
            if (e == null) {
                e = new ConcurrentHashMap<>(4);
                entries = e;
            }
            return e;
        }

        /** Unlinks empty nodes up to the root so removed filters leave no garbage behind. */
        void pruneIfEmpty() {
            Node<K, V> node = this;
            while (node.parent != null) {
                boolean noEntries = node.entries == null || node.entries.isEmpty();
                boolean noChildren = node.children == null || node.children.isEmpty();
                if (!noEntries || !noChildren) {
                    return;
                }
                node.parent.children.remove(node.level, node);
                node = node.parent;
            }
        }
    }
}
