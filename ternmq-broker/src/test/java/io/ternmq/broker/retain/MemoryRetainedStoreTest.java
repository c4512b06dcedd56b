package io.ternmq.broker.retain;

import static org.assertj.core.api.Assertions.assertThat;

import io.ternmq.broker.message.Message;
import io.ternmq.codec.MqttProperties;
import io.ternmq.codec.QoS;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.TreeSet;

class MemoryRetainedStoreTest {

    private final MemoryRetainedStore store = new MemoryRetainedStore();

    static Message message(String topic, String payload) {
        return message(topic, payload.getBytes(StandardCharsets.UTF_8));
    }

    static Message message(String topic, byte[] payload) {
        return new Message(topic, QoS.AT_MOST_ONCE, true, payload, MqttProperties.EMPTY, "publisher", 0L);
    }

    static Message delete(String topic) {
        return message(topic, new byte[0]);
    }

    /** Topics of the visited messages, sorted, duplicates kept (each retained topic must be visited once). */
    List<String> matchedTopics(String filter) {
        List<String> out = new ArrayList<>();
        store.match(filter, m -> out.add(m.topic()));
        Collections.sort(out);
        return out;
    }

    /** Split filters and topics, memoized: the randomized tests call the oracle millions of times. */
    private static final Map<String, String[]> LEVELS_OF = new ConcurrentHashMap<>();

    /** The spec's matching rules (section 4.7), as the oracle; see SubscriptionTreeTest for the same matcher. */
    static boolean referenceMatches(String filter, String topic) {
        String[] f = LEVELS_OF.computeIfAbsent(filter, k -> k.split("/", -1));
        String[] t = LEVELS_OF.computeIfAbsent(topic, k -> k.split("/", -1));
        if (topic.startsWith("$") && (f[0].equals("+") || f[0].equals("#"))) {
            return false;
        }
        for (int i = 0; i < f.length; i++) {
            if (f[i].equals("#")) {
                return true;
            }
            if (i >= t.length) {
                return false;
            }
            if (!f[i].equals("+") && !f[i].equals(t[i])) {
                return false;
            }
        }
        return f.length == t.length;
    }

    /** Whether the trie has no node below the root: deleting every message must prune every branch. */
    static boolean trieIsEmpty(MemoryRetainedStore store) throws ReflectiveOperationException {
        Field trieField = MemoryRetainedStore.class.getDeclaredField("byLevel");
        trieField.setAccessible(true);
        return ((io.ternmq.broker.routing.TopicTrie<?>) trieField.get(store)).isEmpty();
    }

    // ------------------------------------------------------------------ put, replace, delete

    @Test
    void putStoresAndGetReturnsTheSameMessage() {
        Message m = message("a/b", "1");
        store.put(m);
        assertThat(store.get("a/b")).isSameAs(m);
        assertThat(store.get("a")).isNull();
        assertThat(store.get("a/b/c")).isNull();
        assertThat(store.size()).isEqualTo(1);
        List<Message> seen = new ArrayList<>();
        store.match("a/b", seen::add);
        assertThat(seen).containsExactly(m);
        seen.clear();
        store.match("a/+", seen::add);
        assertThat(seen).containsExactly(m);
    }

    @Test
    void putReplacesTheTopicsMessage() {
        Message first = message("a/b", "1");
        Message second = message("a/b", "2");
        store.put(first);
        store.put(second);
        assertThat(store.size()).isEqualTo(1);
        assertThat(store.get("a/b")).isSameAs(second);
        for (String filter : List.of("a/b", "a/+", "a/#", "#", "+/b", "+/+")) {
            List<Message> seen = new ArrayList<>();
            store.match(filter, seen::add);
            assertThat(seen).as(filter).containsExactly(second);
        }
    }

    @Test
    void anEmptyPayloadDeletesTheTopicsMessage() throws Exception {
        store.put(message("a/b", "1"));
        store.put(message("a/c", "2"));
        store.put(delete("a/b"));
        assertThat(store.get("a/b")).isNull();
        assertThat(store.size()).isEqualTo(1);
        assertThat(matchedTopics("a/b")).isEmpty();
        assertThat(matchedTopics("a/+")).containsExactly("a/c");
        assertThat(matchedTopics("#")).containsExactly("a/c");

        store.put(delete("a/c"));
        assertThat(store.size()).isZero();
        assertThat(matchedTopics("#")).isEmpty();
        assertThat(trieIsEmpty(store)).as("pruned").isTrue();
    }

    @Test
    void deletingATopicWithoutAMessageChangesNothing() throws Exception {
        store.put(delete("nothing/here"));
        assertThat(store.size()).isZero();
        assertThat(trieIsEmpty(store)).isTrue();

        store.put(message("a/b/c", "1"));
        store.put(delete("a/b")); // a prefix of a retained topic, itself without a message
        store.put(delete("a/b/c/d"));
        store.put(delete("a/x"));
        assertThat(store.size()).isEqualTo(1);
        assertThat(matchedTopics("#")).containsExactly("a/b/c");
        assertThat(matchedTopics("a/b/c")).containsExactly("a/b/c");
    }

    @Test
    void deletingAParentKeepsItsChildrenAndViceVersa() throws Exception {
        store.put(message("a", "p"));
        store.put(message("a/b", "c"));
        store.put(message("a/b/c", "g"));

        store.put(delete("a/b"));
        assertThat(matchedTopics("#")).containsExactly("a", "a/b/c");
        assertThat(matchedTopics("a/+/c")).containsExactly("a/b/c");
        assertThat(matchedTopics("a/+")).isEmpty();

        store.put(delete("a/b/c"));
        assertThat(matchedTopics("#")).containsExactly("a");
        assertThat(matchedTopics("a/#")).containsExactly("a");

        store.put(message("a/b/c", "g2"));
        assertThat(matchedTopics("a/#")).containsExactly("a", "a/b/c");

        store.put(delete("a"));
        store.put(delete("a/b/c"));
        assertThat(store.size()).isZero();
        assertThat(trieIsEmpty(store)).isTrue();
    }

    @Test
    void sizeCountsTopicsNotPuts() {
        for (int i = 0; i < 50; i++) {
            store.put(message("t/" + i, "x"));
            store.put(message("t/" + i, "y"));
        }
        assertThat(store.size()).isEqualTo(50);
        for (int i = 0; i < 50; i += 2) {
            store.put(delete("t/" + i));
            store.put(delete("t/" + i));
        }
        assertThat(store.size()).isEqualTo(25);
        assertThat(matchedTopics("t/+")).hasSize(25);
    }

    // ------------------------------------------------------------------ matching

    private static final List<String> TOPICS = List.of(
            "a", "a/b", "a/b/c", "a/b/c/d", "a/x/c", "b", "b/b", "/", "/a", "a/", "a//c", "//",
            "sport/tennis/player1", "sport/tennis/player1/ranking", "sport/tennis/player2", "sport", "sport/",
            "Sport/tennis", "$SYS", "$SYS/broker/clients", "$SYS/broker", "$share/g/t", "a/$x", "café/b");

    private void putAll() {
        for (String t : TOPICS) {
            store.put(message(t, "payload of " + t));
        }
    }

    private List<String> expected(String filter) {
        List<String> out = new ArrayList<>();
        for (String t : TOPICS) {
            if (referenceMatches(filter, t)) {
                out.add(t);
            }
        }
        Collections.sort(out);
        return out;
    }

    // filter | topics it must match, space separated ('-' for none); each row is also checked against the oracle
    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '\'', textBlock = """
            # exact filters take the fast path and never expand
            a                          | a
            a/b                        | a/b
            a/b/c                      | a/b/c
            /                          | /
            a/                         | a/
            a//c                       | a//c
            $SYS/broker                | $SYS/broker
            Sport/tennis               | Sport/tennis
            sport/Tennis               | -
            nope                       | -
            a/b/c/d/e                  | -
            # '+' at every position
            +                          | a b sport
            +/b                        | a/b b/b café/b
            a/+                        | a/b a/ a/$x
            a/+/c                      | a/b/c a/x/c a//c
            +/+/c                      | a/b/c a/x/c a//c
            +/b/+                      | a/b/c
            a/b/+                      | a/b/c
            +/+                        | a/b b/b / /a a/ Sport/tennis sport/ a/$x café/b
            +/+/+                      | a/b/c a/x/c a//c // sport/tennis/player1 sport/tennis/player2
            +/+/+/+                    | a/b/c/d sport/tennis/player1/ranking
            sport/+                    | sport/
            sport/tennis/+             | sport/tennis/player1 sport/tennis/player2
            /+                         | / /a
            +/a                        | /a
            # '#'
            '#'                        | a a/b a/b/c a/b/c/d a/x/c b b/b / /a a/ a//c // sport/tennis/player1 sport/tennis/player1/ranking sport/tennis/player2 sport sport/ Sport/tennis a/$x café/b
            a/#                        | a a/b a/b/c a/b/c/d a/x/c a/ a//c a/$x
            a/b/#                      | a/b a/b/c a/b/c/d
            a/b/c/d/#                  | a/b/c/d
            sport/#                    | sport sport/ sport/tennis/player1 sport/tennis/player1/ranking sport/tennis/player2
            sport/tennis/player1/#     | sport/tennis/player1 sport/tennis/player1/ranking
            nope/#                     | -
            /#                         | / /a //
            # '+' and '#' together
            +/#                        | a a/b a/b/c a/b/c/d a/x/c b b/b / /a a/ a//c // sport/tennis/player1 sport/tennis/player1/ranking sport/tennis/player2 sport sport/ Sport/tennis a/$x café/b
            +/b/#                      | a/b a/b/c a/b/c/d b/b café/b
            a/+/#                      | a/b a/b/c a/b/c/d a/x/c a/ a//c a/$x
            +/+/c/#                    | a/b/c a/b/c/d a/x/c a//c
            # [MQTT-4.7.2-1] '$' topics only for filters that name the first level
            $SYS/#                     | $SYS $SYS/broker $SYS/broker/clients
            $SYS/+                     | $SYS/broker
            $SYS/+/clients             | $SYS/broker/clients
            +/broker                   | -
            +/broker/clients           | -
            $share/#                   | $share/g/t
            $sys/#                     | -
            # case sensitivity
            SPORT/#                    | -
            Sport/+                    | Sport/tennis
            café/+                     | café/b
            """)
    void matchesEveryFilterForm(String filter, String topics) {
        putAll();
        List<String> want = topics.equals("-") ? List.of() : Arrays.stream(topics.split(" ")).sorted().toList();
        assertThat(expected(filter)).as("oracle for %s", filter).isEqualTo(want);
        assertThat(matchedTopics(filter)).isEqualTo(want);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a/#", "sport/#", "a/b/c/d/#", "$SYS/#", "+/#"})
    void multiLevelWildcardMatchesTheParentLevel(String filter) {
        String parent = filter.substring(0, filter.length() - 2).replace("+", "p");
        store.put(message(parent, "x"));
        assertThat(matchedTopics(filter)).containsExactly(parent);
    }

    @Test
    void visitsEachMatchingMessageOnce() {
        putAll();
        List<Message> seen = new ArrayList<>();
        store.match("#", seen::add);
        assertThat(seen).doesNotHaveDuplicates();
        for (Message m : seen) {
            assertThat(store.get(m.topic())).isSameAs(m);
        }
    }

    // ------------------------------------------------------------------ randomized

    private static final String[] LEVELS = {"a", "b", "c", "A", "", "$s", "sport"};

    private static String join(Random rnd, boolean filter) {
        int depth = 1 + rnd.nextInt(5);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < depth; i++) {
            if (i > 0) {
                sb.append('/');
            }
            int r = rnd.nextInt(10);
            if (filter && i == depth - 1 && r < 2) {
                sb.append('#');
            } else if (filter && r < 5) {
                sb.append('+');
            } else {
                sb.append(LEVELS[rnd.nextInt(LEVELS.length)]);
            }
        }
        return sb.length() == 0 ? "/" : sb.toString();
    }

    @Test
    void randomizedAgainstTheReferenceMatcher() throws Exception {
        Random rnd = new Random(0x5eed_0f_7e27L);
        Map<String, Message> expected = new HashMap<>();
        for (int i = 0; i < 4000; i++) {
            String topic = join(rnd, false);
            if (rnd.nextInt(4) == 0) {
                store.put(delete(topic));
                expected.remove(topic);
            } else {
                Message m = message(topic, "m" + i);
                store.put(m);
                expected.put(topic, m);
            }
        }
        assertThat(store.size()).isEqualTo(expected.size());
        compareRandomFilters(rnd, expected, 3000);

        // delete about half, compare again, then delete the rest: the trie must be empty
        List<String> topics = new ArrayList<>(new TreeSet<>(expected.keySet()));
        Collections.shuffle(topics, rnd);
        for (String t : topics.subList(0, topics.size() / 2)) {
            store.put(delete(t));
            expected.remove(t);
        }
        assertThat(store.size()).isEqualTo(expected.size());
        compareRandomFilters(rnd, expected, 3000);

        for (String t : new ArrayList<>(expected.keySet())) {
            store.put(delete(t));
        }
        expected.clear();
        assertThat(store.size()).isZero();
        assertThat(trieIsEmpty(store)).isTrue();
        compareRandomFilters(rnd, expected, 200);
    }

    private void compareRandomFilters(Random rnd, Map<String, Message> expected, int count) {
        int nonEmpty = 0;
        for (int i = 0; i < count; i++) {
            String filter = join(rnd, rnd.nextBoolean());
            List<Message> want = new ArrayList<>();
            expected.forEach((t, m) -> {
                if (referenceMatches(filter, t)) {
                    want.add(m);
                }
            });
            List<Message> got = new ArrayList<>();
            store.match(filter, got::add);
            // identity comparison: Message holds a byte[], and the store must hand back the very message put
            assertThat(got).as("filter '%s'", filter).doesNotHaveDuplicates()
                    .usingElementComparator((x, y) -> x == y ? 0 : 1)
                    .containsExactlyInAnyOrderElementsOf(want);
            if (!want.isEmpty()) {
                nonEmpty++;
            }
        }
        for (Map.Entry<String, Message> e : expected.entrySet()) {
            assertThat(store.get(e.getKey())).isSameAs(e.getValue());
        }
        if (!expected.isEmpty()) {
            assertThat(nonEmpty).as("the random data exercises matches").isGreaterThan(count / 4);
        }
    }
}
