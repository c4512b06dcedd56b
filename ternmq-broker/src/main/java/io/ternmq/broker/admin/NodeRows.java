package io.ternmq.broker.admin;

import io.ternmq.broker.admin.ClusterListings.Located;
import io.ternmq.broker.cluster.NodeQueries;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A listing's answers from the nodes asked ({@link ClusterListings#listed}), split: each answering node's rows with
 * its id, in node id order, and the nodes that did not answer in time, as every listing names them in
 * {@code unanswered}: {@code {"node", "error"}}.
 */
record NodeRows<T>(List<List<Located<T>>> perNode, List<Map<String, Object>> unanswered) {

    static <T> NodeRows<T> of(List<NodeQueries.Answer<List<T>>> answers) {
        List<List<Located<T>>> perNode = new ArrayList<>();
        List<Map<String, Object>> unanswered = new ArrayList<>();
        for (NodeQueries.Answer<List<T>> a : answers) {
            if (a.answered()) {
                perNode.add(a.value().stream().map(v -> new Located<>(a.nodeId(), v)).toList());
            } else {
                unanswered.add(unanswered(a));
            }
        }
        return new NodeRows<>(perNode, unanswered);
    }

    /** A node that did not answer, as listings name it. */
    static Map<String, Object> unanswered(NodeQueries.Answer<?> a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("node", a.nodeId());
        m.put("error", a.error());
        return m;
    }

    /** Every answering node's rows, one node after the other. */
    List<Located<T>> all() {
        List<Located<T>> all = new ArrayList<>();
        perNode.forEach(all::addAll);
        return all;
    }

    /** The page of the cluster merged from each node's page in key order ({@link NodeMerge#page}). */
    NodeMerge.Page<Located<T>> page(Function<T, String> key, int limit) {
        return NodeMerge.page(perNode, l -> key.apply(l.value()), limit);
    }

    /**
     * The listing's JSON: under {@code key} each row as {@code json} makes it with its {@code node}, then
     * {@code unanswered}.
     */
    Map<String, Object> json(String key, List<Located<T>> rows, Function<T, Map<String, Object>> json) {
        return json(key, rows, json, false, null);
    }

    /**
     * A paging listing's JSON: as {@link #json(String, List, Function)}, with {@code next} between, the cursor of
     * the page's last row if more follow.
     */
    Map<String, Object> paged(String key, NodeMerge.Page<Located<T>> page, Function<T, Map<String, Object>> json,
                              Function<T, String> cursor) {
        List<Located<T>> items = page.items();
        return json(key, items, json, true, page.hasMore() ? cursor.apply(items.get(items.size() - 1).value()) : null);
    }

    private Map<String, Object> json(String key, List<Located<T>> rows, Function<T, Map<String, Object>> json,
                                     boolean paged, String next) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(key, rows.stream().map(l -> {
            Map<String, Object> j = json.apply(l.value());
            j.put("node", l.nodeId());
            return j;
        }).toList());
        if (paged) {
            m.put("next", next);
        }
        m.put("unanswered", unanswered);
        return m;
    }
}
