package io.ternmq.broker.admin;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.BinaryOperator;
import java.util.function.Function;
import java.util.function.Predicate;

/** How the admin API joins the nodes' answers into one: pages merged in key order, counts summed. Pure functions. */
final class NodeMerge {
    private NodeMerge() {
    }

    /**
     * One page merged from each node's page, and whether more follow it.
     *
     * @param items   at most the limit, in key order, each key once
     * @param hasMore whether some node holds a key after the last one here
     */
    record Page<T>(List<T> items, boolean hasMore) {
    }

    /**
     * Merges pages each node listed in key order, each holding its first {@code limit + 1} keys after the cursor (or
     * all it has): the first {@code limit} distinct keys of their union are exactly the cluster's first {@code limit}
     * after the cursor, because a key a node left out comes after {@code limit + 1} keys it did list. A key on two
     * nodes (a session moving between them) is kept once, from the node listed first.
     */
    static <T> Page<T> page(List<List<T>> perNode, Function<T, String> key, int limit) {
        return page(perNode, key, limit, (first, later) -> first);
    }

    /**
     * As {@link #page(List, Function, int)}, but a key on several nodes (a topic subscribed on each) is one item,
     * {@code combine}d from theirs in node order. Each node that holds a key of the page listed it (the argument
     * above), so the combined item has every node's part.
     */
    static <T> Page<T> page(List<List<T>> perNode, Function<T, String> key, int limit, BinaryOperator<T> combine) {
        record Head<T>(String key, int node, int index, T item) {
        }
        PriorityQueue<Head<T>> heads = new PriorityQueue<>((a, b) -> {
            int c = a.key.compareTo(b.key);
            return c != 0 ? c : Integer.compare(a.node, b.node);
        });
        for (int n = 0; n < perNode.size(); n++) {
            List<T> l = perNode.get(n);
            if (!l.isEmpty()) {
                heads.add(new Head<>(key.apply(l.get(0)), n, 0, l.get(0)));
            }
        }
        List<T> items = new ArrayList<>(Math.min(limit, 1024));
        String last = null;
        boolean hasMore = false;
        while (!heads.isEmpty()) {
            Head<T> h = heads.poll();
            if (h.key.equals(last)) { // heads come in key order: a repeated key follows its first at once
                items.set(items.size() - 1, combine.apply(items.get(items.size() - 1), h.item));
            } else {
                if (items.size() == limit) {
                    hasMore = true;
                    break;
                }
                items.add(h.item);
                last = h.key;
            }
            List<T> l = perNode.get(h.node);
            if (h.index + 1 < l.size()) {
                T next = l.get(h.index + 1);
                heads.add(new Head<>(key.apply(next), h.node, h.index + 1, next));
            }
        }
        return new Page<>(items, hasMore);
    }

    /**
     * {@code base} (this node's map) with the values of the {@code summed} keys replaced by their sums over
     * {@code nodes} (numbers; maps of numbers are summed key by key, at any depth); other keys keep base's values.
     */
    static Map<String, Object> sum(Map<String, Object> base, List<Map<String, Object>> nodes,
                                   Predicate<String> summed) {
        Map<String, Object> total = new LinkedHashMap<>(base);
        for (Map.Entry<String, Object> e : total.entrySet()) {
            if (!summed.test(e.getKey())) {
                continue;
            }
            List<Object> values = new ArrayList<>();
            for (Map<String, Object> n : nodes) {
                values.add(n.get(e.getKey()));
            }
            e.setValue(sumValues(e.getValue(), values));
        }
        return total;
    }

    @SuppressWarnings("unchecked")
    private static Object sumValues(Object base, List<Object> values) {
        if (base instanceof Map<?, ?> m) {
            List<Map<String, Object>> maps = new ArrayList<>();
            for (Object v : values) {
                if (v instanceof Map<?, ?> vm) {
                    maps.add((Map<String, Object>) vm);
                }
            }
            return sum((Map<String, Object>) m, maps, k -> true);
        }
        if (base instanceof Double || base instanceof Float) {
            double d = 0;
            for (Object v : values) {
                if (v instanceof Number n) {
                    d += n.doubleValue();
                }
            }
            return d;
        }
        if (base instanceof Number) {
            long l = 0;
            for (Object v : values) {
                if (v instanceof Number n) {
                    l += n.longValue();
                }
            }
            return l;
        }
        return base;
    }
}
