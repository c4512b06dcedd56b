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

/** The admin API's merging of the nodes' answers: pages in client id order, counts summed. */
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
