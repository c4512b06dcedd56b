package io.ternmq.broker.routing;

import io.ternmq.broker.session.Session;
import io.ternmq.broker.session.Subscription;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Topic filters to subscribers. Reads ({@link #match}) are lock-free and run on every publisher's event loop at
 * once; writes are serialized (filters without wildcards per key by the map, the wildcard trie by one lock), which
 * is cheap because subscribing is rare next to publishing.
 *
 * <p>Filters without wildcards live in one hash map keyed by the whole filter, so the common exact-topic case is a
 * single lookup; only filters with {@code +} or {@code #} go into the trie, which match walks level by level.
 */
public final class SubscriptionTree implements SubscriptionTable {

    /** Visits each matching (session, subscription) pair; a session with overlapping filters is visited per filter. */
    @FunctionalInterface
    public interface MatchVisitor {
        void visit(Session session, Subscription subscription);
    }

    private final ConcurrentHashMap<String, Map<Session, Subscription>> exact = new ConcurrentHashMap<>();
    private final Node root = new Node(null, "");
    private final Object trieWriteLock = new Object();
    private final AtomicLong size = new AtomicLong();

    /**
     * Adds or replaces the session's subscription to {@code subscription.filter()}.
     *
     * @return true if the session had no subscription to that filter before
     */
    @Override
    public boolean subscribe(Session session, Subscription subscription) {
        String filter = subscription.filter();
        boolean[] added = new boolean[1];
        if (!hasWildcard(filter)) {
            exact.compute(filter, (k, subs) -> {
                Map<Session, Subscription> m = subs == null ? new ConcurrentHashMap<>(4) : subs;
                added[0] = m.put(session, subscription) == null;
                return m;
            });
        } else {
            synchronized (trieWriteLock) {
                Node node = root;
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
                added[0] = node.subscribersForWrite().put(session, subscription) == null;
            }
        }
        if (added[0]) {
            size.incrementAndGet();
        }
        return added[0];
    }

    /** @return true if the session had a subscription to this filter */
    @Override
    public boolean unsubscribe(Session session, String filter) {
        boolean removed;
        if (!hasWildcard(filter)) {
            boolean[] r = new boolean[1];
            exact.computeIfPresent(filter, (k, subs) -> {
                r[0] = subs.remove(session) != null;
                return subs.isEmpty() ? null : subs;
            });
            removed = r[0];
        } else {
            synchronized (trieWriteLock) {
                Node node = find(filter);
                removed = node != null && node.subscribers != null && node.subscribers.remove(session) != null;
                if (removed) {
                    node.pruneIfEmpty();
                }
            }
        }
        if (removed) {
            size.decrementAndGet();
        }
        return removed;
    }

    /** Visits every subscription whose filter matches this topic name. */
    @Override
    public void match(String topic, MatchVisitor visitor) {
        Map<Session, Subscription> subs = exact.get(topic);
        if (subs != null) {
            subs.forEach(visitor::visit);
        }
        if (root.children != null) {
            // [MQTT-4.7.2-1] a filter starting with a wildcard never matches a topic starting with '$'
            matchLevel(root, topic, 0, topic.startsWith("$"), visitor);
        }
    }

    @Override
    public long size() {
        return size.get();
    }

    private static void matchLevel(Node node, String topic, int start, boolean dollarFirstLevel,
                                   MatchVisitor visitor) {
        Map<String, Node> children = node.children;
        if (children == null) {
            return;
        }
        if (!dollarFirstLevel) {
            // '#' matches this level and everything below, including the parent level itself ("a/#" matches "a")
            visitAll(children.get("#"), visitor);
        }
        int end = topic.indexOf('/', start);
        String level = end < 0 ? topic.substring(start) : topic.substring(start, end);
        Node exactChild = children.get(level);
        if (exactChild != null) {
            descend(exactChild, topic, end, visitor);
        }
        if (!dollarFirstLevel) {
            Node plus = children.get("+");
            if (plus != null) {
                descend(plus, topic, end, visitor);
            }
        }
    }

    private static void descend(Node child, String topic, int end, MatchVisitor visitor) {
        if (end < 0) {
            visitAll(child, visitor);
            Map<String, Node> grandChildren = child.children;
            if (grandChildren != null) {
                visitAll(grandChildren.get("#"), visitor);
            }
        } else {
            matchLevel(child, topic, end + 1, false, visitor);
        }
    }

    private static void visitAll(Node node, MatchVisitor visitor) {
        if (node != null) {
            Map<Session, Subscription> subs = node.subscribers;
            if (subs != null) {
                subs.forEach(visitor::visit);
            }
        }
    }

    private Node find(String filter) {
        Node node = root;
        int start = 0;
        while (node != null) {
            int end = filter.indexOf('/', start);
            String level = end < 0 ? filter.substring(start) : filter.substring(start, end);
            Map<String, Node> children = node.children;
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
    private static final class Node {
        private final Node parent;
        private final String level;
        private volatile ConcurrentHashMap<String, Node> children;
        private volatile ConcurrentHashMap<Session, Subscription> subscribers;

        Node(Node parent, String level) {
            this.parent = parent;
            this.level = level;
        }

        Node childForWrite(String level) {
            ConcurrentHashMap<String, Node> c = children;
            if (c == null) {
                c = new ConcurrentHashMap<>(4);
                children = c;
            }
            return c.computeIfAbsent(level, l -> new Node(this, l));
        }

        Map<Session, Subscription> subscribersForWrite() {
            ConcurrentHashMap<Session, Subscription> s = subscribers;
            if (s == null) {
                s = new ConcurrentHashMap<>(4);
                subscribers = s;
            }
            return s;
        }

        /** Unlinks empty nodes up to the root so unsubscribed filters leave no garbage behind. */
        void pruneIfEmpty() {
            Node node = this;
            while (node.parent != null) {
                boolean noSubscribers = node.subscribers == null || node.subscribers.isEmpty();
                boolean noChildren = node.children == null || node.children.isEmpty();
                if (!noSubscribers || !noChildren) {
                    return;
                }
                node.parent.children.remove(node.level, node);
                node = node.parent;
            }
        }
    }
}
