package io.ternmq.broker.routing;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * A trie of topic levels with a value per node, matched by {@link TopicMatch}'s rules in either direction: stored
 * filters against a topic name ({@link #matchFilters}: which subscriptions get a message) or stored topic names
 * against a filter ({@link #matchTopics}: which retained messages a subscription gets). Reads are lock-free; writes
 * must be serialized by the owner (one lock), which also decides when a node's value counts as empty.
 *
 * @param <T> the value of a node
 */
public final class TopicTrie<T> {
    private final Node<T> root = new Node<>(null, "");

    /** One level. Fields are written under the owner's lock and read without it, hence volatile. */
    public static final class Node<T> {
        private final Node<T> parent;
        private final String level;
        private volatile ConcurrentHashMap<String, Node<T>> children;
        private volatile T value;

        private Node(Node<T> parent, String level) {
            this.parent = parent;
            this.level = level;
        }

        public T value() {
            return value;
        }

        /** Sets the value; writers only. */
        public void value(T value) {
            this.value = value;
        }

        private Node<T> childForWrite(String name) {
            ConcurrentHashMap<String, Node<T>> c = children;
            if (c == null) {
                c = new ConcurrentHashMap<>(4);
                children = c;
            }
            return c.computeIfAbsent(shared(name), n -> new Node<>(this, n));
        }
    }

    /**
     * A level as the trie keeps it: "+" and "#" as one shared string each. Levels are cut out of each filter, and most
     * filters end in a wildcard or two: two strings of their own cost a filter 96 bytes on every node, the
     * subscriber's and each other node's route table (docs/benchmarks.md, cluster memory).
     */
    private static String shared(String level) {
        if (level.equals(TopicMatch.SINGLE_LEVEL)) {
            return TopicMatch.SINGLE_LEVEL;
        }
        return level.equals(TopicMatch.MULTI_LEVEL) ? TopicMatch.MULTI_LEVEL : level;
    }

    /** The node of exactly this topic or filter, created with its parents if missing; writers only. */
    public Node<T> nodeForWrite(String path) {
        Node<T> node = root;
        int start = 0;
        while (true) {
            int end = path.indexOf('/', start);
            node = node.childForWrite(end < 0 ? path.substring(start) : path.substring(start, end));
            if (end < 0) {
                return node;
            }
            start = end + 1;
        }
    }

    /** @return the node of exactly this topic or filter, or null */
    public Node<T> find(String path) {
        Node<T> node = root;
        int start = 0;
        while (node != null) {
            int end = path.indexOf('/', start);
            Map<String, Node<T>> children = node.children;
            node = children == null ? null
                    : children.get(end < 0 ? path.substring(start) : path.substring(start, end));
            if (end < 0) {
                return node;
            }
            start = end + 1;
        }
        return null;
    }

    /** Unlinks the node, and its parents up to the root, while they hold no value and no children; writers only. */
    public void prune(Node<T> node) {
        while (node.parent != null && node.value == null && (node.children == null || node.children.isEmpty())) {
            node.parent.children.remove(node.level, node);
            node = node.parent;
        }
    }

    /** True when no level is left: removals pruned everything. */
    public boolean isEmpty() {
        return root.children == null || root.children.isEmpty();
    }

    // ------------------------------------------------------------------ filters stored, a topic name given

    /** Visits the value of every stored filter that matches the topic name. */
    public void matchFilters(String topic, Consumer<T> visitor) {
        if (root.children != null) {
            matchFilterLevel(root, topic, 0, TopicMatch.hiddenFromWildcards(topic), visitor);
        }
    }

    private static <T> void matchFilterLevel(Node<T> node, String topic, int start, boolean hidden,
                                             Consumer<T> visitor) {
        Map<String, Node<T>> children = node.children;
        if (children == null) {
            return;
        }
        if (!hidden) {
            // '#' matches this level and everything below, and the parent level itself ("a/#" matches "a")
            visit(children.get(TopicMatch.MULTI_LEVEL), visitor);
        }
        int end = topic.indexOf('/', start);
        Node<T> exact = children.get(end < 0 ? topic.substring(start) : topic.substring(start, end));
        if (exact != null) {
            descendFilters(exact, topic, end, visitor);
        }
        if (!hidden) {
            Node<T> plus = children.get(TopicMatch.SINGLE_LEVEL);
            if (plus != null) {
                descendFilters(plus, topic, end, visitor);
            }
        }
    }

    private static <T> void descendFilters(Node<T> child, String topic, int end, Consumer<T> visitor) {
        if (end < 0) {
            visit(child, visitor);
            Map<String, Node<T>> grandChildren = child.children;
            if (grandChildren != null) {
                visit(grandChildren.get(TopicMatch.MULTI_LEVEL), visitor);
            }
        } else {
            matchFilterLevel(child, topic, end + 1, false, visitor);
        }
    }

    // ------------------------------------------------------------------ topic names stored, a filter given

    /** Visits the value of every stored topic name that the filter matches. */
    public void matchTopics(String filter, Consumer<T> visitor) {
        matchTopicLevel(root, filter, 0, true, visitor);
    }

    private static <T> void matchTopicLevel(Node<T> node, String filter, int start, boolean firstLevel,
                                            Consumer<T> visitor) {
        Map<String, Node<T>> children = node.children;
        int end = filter.indexOf('/', start);
        String level = end < 0 ? filter.substring(start) : filter.substring(start, end);
        if (level.equals(TopicMatch.MULTI_LEVEL)) {
            if (!firstLevel) {
                visit(node, visitor); // "a/#" matches "a" itself
            }
            if (children != null) {
                children.forEach((name, child) -> {
                    if (!(firstLevel && TopicMatch.hiddenFromWildcards(name))) {
                        visitSubtree(child, visitor);
                    }
                });
            }
            return;
        }
        if (children == null) {
            return;
        }
        if (level.equals(TopicMatch.SINGLE_LEVEL)) {
            children.forEach((name, child) -> {
                if (!(firstLevel && TopicMatch.hiddenFromWildcards(name))) {
                    descendTopics(child, filter, end, visitor);
                }
            });
        } else {
            Node<T> child = children.get(level);
            if (child != null) {
                descendTopics(child, filter, end, visitor);
            }
        }
    }

    private static <T> void descendTopics(Node<T> child, String filter, int end, Consumer<T> visitor) {
        if (end < 0) {
            visit(child, visitor);
        } else {
            matchTopicLevel(child, filter, end + 1, false, visitor);
        }
    }

    private static <T> void visitSubtree(Node<T> node, Consumer<T> visitor) {
        visit(node, visitor);
        Map<String, Node<T>> children = node.children;
        if (children != null) {
            children.values().forEach(c -> visitSubtree(c, visitor));
        }
    }

    private static <T> void visit(Node<T> node, Consumer<T> visitor) {
        if (node != null) {
            T v = node.value;
            if (v != null) {
                visitor.accept(v);
            }
        }
    }

    /** Visits every node holding a value with its path (levels joined by '/'); a listing's walk, not a hot path. */
    public void forEach(java.util.function.BiConsumer<String, T> visitor) {
        Map<String, Node<T>> children = root.children;
        if (children != null) {
            children.values().forEach(c -> walk(c, c.level, visitor));
        }
    }

    private static <T> void walk(Node<T> node, String path, java.util.function.BiConsumer<String, T> visitor) {
        T v = node.value;
        if (v != null) {
            visitor.accept(path, v);
        }
        Map<String, Node<T>> children = node.children;
        if (children != null) {
            children.values().forEach(c -> walk(c, path + "/" + c.level, visitor));
        }
    }
}
