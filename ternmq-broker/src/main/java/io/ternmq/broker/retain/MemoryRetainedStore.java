package io.ternmq.broker.retain;

import io.ternmq.broker.message.Message;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Retained messages in a trie of topic levels, so that a wildcard subscription walks only the matching branches
 * instead of every retained topic. Reads are lock-free; writes take one lock (retained writes are rare compared with
 * reads of the exact map, and pruning empty branches needs a consistent view).
 */
public final class MemoryRetainedStore implements RetainedStore {

    private final ConcurrentHashMap<String, Message> byTopic = new ConcurrentHashMap<>();
    private final Node root = new Node(null, "");
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
                    Node node = find(topic);
                    if (node != null) {
                        node.message = null;
                        node.pruneIfEmpty();
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
            Node node = root;
            int start = 0;
            while (true) {
                int end = topic.indexOf('/', start);
                node = node.child(end < 0 ? topic.substring(start) : topic.substring(start, end));
                if (end < 0) {
                    break;
                }
                start = end + 1;
            }
            node.message = message;
        }
    }

    @Override
    public Message get(String topic) {
        return byTopic.get(topic);
    }

    @Override
    public void match(String filter, Consumer<Message> visitor) {
        if (filter.indexOf('+') < 0 && filter.indexOf('#') < 0) {
            Message m = byTopic.get(filter);
            if (m != null) {
                visitor.accept(m);
            }
            return;
        }
        matchLevel(root, filter, 0, true, visitor);
    }

    @Override
    public long size() {
        return size.get();
    }

    @Override
    public long bytes() {
        return bytes.get();
    }

    private static void matchLevel(Node node, String filter, int start, boolean firstLevel, Consumer<Message> visitor) {
        Map<String, Node> children = node.children;
        int end = filter.indexOf('/', start);
        String level = end < 0 ? filter.substring(start) : filter.substring(start, end);
        if (level.equals("#")) {
            // "a/#" also matches "a" itself
            if (!firstLevel && node.message != null) {
                visitor.accept(node.message);
            }
            if (children != null) {
                children.forEach((name, child) -> {
                    // [MQTT-4.7.2-1] wildcards at the first level never match topics starting with '$'
                    if (!(firstLevel && name.startsWith("$"))) {
                        visitSubtree(child, visitor);
                    }
                });
            }
            return;
        }
        if (children == null) {
            return;
        }
        if (level.equals("+")) {
            children.forEach((name, child) -> {
                if (!(firstLevel && name.startsWith("$"))) {
                    matchChild(child, filter, end, visitor);
                }
            });
        } else {
            Node child = children.get(level);
            if (child != null) {
                matchChild(child, filter, end, visitor);
            }
        }
    }

    private static void matchChild(Node child, String filter, int end, Consumer<Message> visitor) {
        if (end < 0) {
            Message m = child.message;
            if (m != null) {
                visitor.accept(m);
            }
        } else {
            matchLevel(child, filter, end + 1, false, visitor);
        }
    }

    private static void visitSubtree(Node node, Consumer<Message> visitor) {
        Message m = node.message;
        if (m != null) {
            visitor.accept(m);
        }
        Map<String, Node> children = node.children;
        if (children != null) {
            children.values().forEach(c -> visitSubtree(c, visitor));
        }
    }

    private Node find(String topic) {
        Node node = root;
        int start = 0;
        while (node != null) {
            int end = topic.indexOf('/', start);
            Map<String, Node> children = node.children;
            node = children == null ? null
                    : children.get(end < 0 ? topic.substring(start) : topic.substring(start, end));
            if (end < 0) {
                return node;
            }
            start = end + 1;
        }
        return null;
    }

    private static final class Node {
        private final Node parent;
        private final String level;
        private volatile ConcurrentHashMap<String, Node> children;
        private volatile Message message;

        Node(Node parent, String level) {
            this.parent = parent;
            this.level = level;
        }

        Node child(String name) {
            ConcurrentHashMap<String, Node> c = children;
            if (c == null) {
                c = new ConcurrentHashMap<>(4);
                children = c;
            }
            return c.computeIfAbsent(name, n -> new Node(this, n));
        }

        void pruneIfEmpty() {
            Node node = this;
            while (node.parent != null && node.message == null
                    && (node.children == null || node.children.isEmpty())) {
                node.parent.children.remove(node.level, node);
                node = node.parent;
            }
        }
    }
}
