package io.ternmq.broker.admin;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/** The admin API's merging of the nodes' answers: pages in key order (combined or not), rows per node, sums. */
class NodeMergeTest {

    /** What one node answers for a page after {@code after}: its first limit + 1 ids, in order. */
    private static List<String> nodePage(TreeSet<String> held, String after, int limit) {
        List<String> page = new ArrayList<>();
        for (String id : after == null ? held : held.tailSet(after, false)) {
            if (page.size() == limit + 1) {
                break;
            }
            page.add(id);
        }
        return page;
    }

    @Test
    @DisplayName("pages merged from three nodes' pages walk every client id once, in order, whatever the page size; "
            + "an id on two nodes (a session moving) shows once")
    void pagesWalkEveryIdOnceInOrder() {
        Random random = new Random(7);
        for (int round = 0; round < 50; round++) {
            List<TreeSet<String>> nodes = List.of(new TreeSet<>(), new TreeSet<>(), new TreeSet<>());
            TreeSet<String> all = new TreeSet<>();
            int n = random.nextInt(200);
            for (int i = 0; i < n; i++) {
                String id = "c" + random.nextInt(1000);
                nodes.get(random.nextInt(3)).add(id);
                if (random.nextInt(20) == 0) {
                    nodes.get(random.nextInt(3)).add(id); // on two nodes at once
                }
                all.add(id);
            }
            int limit = 1 + random.nextInt(30);
            List<String> walked = new ArrayList<>();
            String cursor = null;
            int pages = 0;
            while (true) {
                List<List<String>> answers = new ArrayList<>();
                for (TreeSet<String> held : nodes) {
                    answers.add(nodePage(held, cursor, limit));
                }
                NodeMerge.Page<String> page = NodeMerge.page(answers, Function.identity(), limit);
                assertThat(page.items().size()).isLessThanOrEqualTo(limit);
                walked.addAll(page.items());
                pages++;
                if (!page.hasMore()) {
                    break;
                }
                assertThat(page.items()).as("a page with more after it is full").hasSize(limit);
                cursor = page.items().get(page.items().size() - 1);
            }
            assertThat(walked).as("round %d, limit %d", round, limit).containsExactlyElementsOf(all);
            assertThat(pages).isEqualTo(Math.max(1, (all.size() + limit - 1) / limit));
        }
    }

    @Test
    @DisplayName("a page has more exactly when some node listed an id past it")
    void hasMore() {
        assertThat(NodeMerge.page(List.of(List.of("a", "c"), List.of("b")), Function.identity(), 3).hasMore())
                .isFalse();
        assertThat(NodeMerge.page(List.of(List.of("a", "c"), List.of("b", "d")), Function.identity(), 3))
                .isEqualTo(new NodeMerge.Page<>(List.of("a", "b", "c"), true));
        assertThat(NodeMerge.page(List.of(List.of("a", "b"), List.of("a", "b")), Function.identity(), 2).hasMore())
                .isFalse();
        assertThat(NodeMerge.page(List.of(), Function.identity(), 2)).isEqualTo(new NodeMerge.Page<>(List.of(),
                false));
    }

    @Test
    @DisplayName("combined pages (topics): a key several nodes list is one item holding every node's part, also at "
            + "a page's end, and paging walks every key once")
    void combinedPagesHoldEveryNodesPart() {
        Random random = new Random(11);
        for (int round = 0; round < 50; round++) {
            List<TreeSet<String>> nodes = List.of(new TreeSet<>(), new TreeSet<>(), new TreeSet<>());
            Map<String, TreeSet<Integer>> holders = new java.util.TreeMap<>();
            for (int i = random.nextInt(150); i > 0; i--) {
                String key = "t" + random.nextInt(300);
                int node = random.nextInt(3);
                nodes.get(node).add(key);
                holders.computeIfAbsent(key, k -> new TreeSet<>()).add(node);
            }
            int limit = 1 + random.nextInt(20);
            Map<String, TreeSet<Integer>> walked = new LinkedHashMap<>();
            String cursor = null;
            do {
                List<List<Map.Entry<String, TreeSet<Integer>>>> answers = new ArrayList<>();
                for (int n = 0; n < 3; n++) {
                    int node = n;
                    answers.add(nodePage(nodes.get(n), cursor, limit).stream()
                            .map(k -> Map.entry(k, new TreeSet<>(List.of(node)))).toList());
                }
                NodeMerge.Page<Map.Entry<String, TreeSet<Integer>>> page = NodeMerge.page(answers, Map.Entry::getKey,
                        limit, (a, b) -> {
                            TreeSet<Integer> both = new TreeSet<>(a.getValue());
                            both.addAll(b.getValue());
                            return Map.entry(a.getKey(), both);
                        });
                page.items().forEach(e -> assertThat(walked.put(e.getKey(), e.getValue())).isNull());
                cursor = page.hasMore() ? page.items().get(page.items().size() - 1).getKey() : null;
            } while (cursor != null);
            assertThat(walked).as("round %d, limit %d", round, limit).containsExactlyEntriesOf(holders);
        }
        // at the end of a page: the last key's later parts are combined before the page is cut
        NodeMerge.Page<String> cut = NodeMerge.page(List.of(List.of("a", "b", "c"), List.of("b", "c")),
                s -> s.substring(0, 1), 2, (a, b) -> a + "+");
        assertThat(cut).isEqualTo(new NodeMerge.Page<>(List.of("a", "b+"), true));
    }

    @Test
    @DisplayName("node rows: answered nodes' rows carry their node, in node order; an unanswered node is named with "
            + "its reason; JSON rows get their node, a paged listing its next cursor")
    void nodeRows() {
        NodeRows<String> rows = NodeRows.of(List.of(
                new io.ternmq.broker.cluster.NodeQueries.Answer<>("n1", List.of("a", "c"), null),
                new io.ternmq.broker.cluster.NodeQueries.Answer<>("n2", null, "no answer within 2000 ms"),
                new io.ternmq.broker.cluster.NodeQueries.Answer<>("n3", List.of("b"), null)));
        assertThat(rows.all()).containsExactly(new ClusterListings.Located<>("n1", "a"),
                new ClusterListings.Located<>("n1", "c"), new ClusterListings.Located<>("n3", "b"));
        assertThat(rows.unanswered()).containsExactly(Map.of("node", "n2", "error", "no answer within 2000 ms"));
        Map<String, Object> json = rows.paged("items", rows.page(Function.identity(), 2),
                v -> new LinkedHashMap<>(Map.of("v", v)), v -> "after-" + v);
        assertThat(json.toString()).isEqualTo("{items=[{v=a, node=n1}, {v=b, node=n3}], next=after-b, "
                + "unanswered=[{node=n2, error=no answer within 2000 ms}]}");
        assertThat(rows.json("items", rows.all(), v -> new LinkedHashMap<>(Map.of("v", v))))
                .doesNotContainKey("next").containsKey("unanswered");
    }

    @Test
    @DisplayName("counts: the summed keys (nested maps too) add up over the nodes, the others keep this node's")
    void sums() {
        Map<String, Object> here = new LinkedHashMap<>();
        here.put("version", "1.0");
        here.put("sessions", 2L);
        here.put("retained", 5L);
        here.put("dropped", new LinkedHashMap<>(Map.of("expired", 1L, "queueFull", 0L)));
        Map<String, Object> other = new LinkedHashMap<>();
        other.put("version", "0.9");
        other.put("sessions", 3L);
        other.put("retained", 5L);
        other.put("dropped", new LinkedHashMap<>(Map.of("expired", 4L, "queueFull", 2L)));
        Map<String, Object> total = NodeMerge.sum(here, List.of(here, other),
                k -> k.equals("sessions") || k.equals("dropped"));
        assertThat(total).containsEntry("version", "1.0").containsEntry("sessions", 5L)
                .containsEntry("retained", 5L)
                .containsEntry("dropped", Map.of("expired", 5L, "queueFull", 2L));
        // a node that did not answer is not in the list: the sum is over those that did
        assertThat(NodeMerge.sum(here, List.of(other), k -> k.equals("sessions"))).containsEntry("sessions", 3L);
        assertThat(new ArrayList<>(total.keySet())).containsExactly("version", "sessions", "retained", "dropped");
    }
}
