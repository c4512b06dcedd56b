package io.ternmq.broker.routing;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The wildcard rules, and that the indexes ({@link TopicTrie} in both directions, as the subscription tree and the
 * retained store use it) agree with them on every pair of a generated set of filters and topics.
 */
class TopicMatchTest {

    @ParameterizedTest(name = "{0} matches {1}: {2}")
    @CsvSource({
            "a/b, a/b, true", "a/b, a/c, false", "a/b, a/b/c, false", "a/b/c, a/b, false",
            "a/+, a/b, true", "a/+, a/, true", "a/+, a, false", "a/+, a/b/c, false",
            "+/+, a/b, true", "+, a, true", "+, /a, false",
            "a/#, a, true", "a/#, a/b/c, true", "a/#, ab, false", "#, a/b, true", "#, /, true",
            "#, $SYS/x, false", "+/x, $SYS/x, false", "$SYS/#, $SYS/x, true", "/+, /a, true",
            "a//b, a//b, true", "a/+/b, a//b, true"})
    void matches(String pattern, String topic, boolean expected) {
        assertThat(TopicMatch.matches(TopicMatch.levels(pattern), topic)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} covers {1}: {2}")
    @CsvSource({
            "a/#, a/#, true", "a/#, a/b/#, true", "a/#, a/+, true", "a/#, a, true", "a/#, #, false",
            "a/+, a/b, true", "a/+, a/+, true", "a/+, a/#, false", "a/+, a/b/c, false",
            "#, #, true", "#, +/+, true", "+/#, a/b, true", "a/b, a/+, false", "a/b, a/b, true",
            "#, $SYS/#, false", "$SYS/#, $SYS/a, true", "+, $SYS, false", "a/+/c, a/+/c, true", "a/+/c, a/#, false"})
    void covers(String pattern, String filter, boolean expected) {
        assertThat(TopicMatch.covers(TopicMatch.levels(pattern), TopicMatch.levels(filter)))
                .isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({"$share/g/a/#, a/#", "a/#, a/#", "$share/g/x, x", "$shared/a, $shared/a"})
    void effectiveFilter(String filter, String expected) {
        assertThat(io.ternmq.codec.TopicSyntax.messageFilter(filter)).isEqualTo(expected);
    }

    @org.junit.jupiter.api.Test
    @org.junit.jupiter.api.DisplayName("the trie, filters stored or topic names stored, matches exactly what TopicMatch.matches says")
    void triesAgreeWithTheRules() {
        java.util.List<String> topics = new java.util.ArrayList<>();
        java.util.List<String> filters = new java.util.ArrayList<>();
        String[] names = {"a", "b", "$SYS", "$x", ""};
        // every topic of up to three levels over the names, and every filter over the names plus '+' and '#'
        for (String l1 : names) {
            topics.add(l1);
            for (String l2 : names) {
                topics.add(l1 + "/" + l2);
                for (String l3 : new String[] {"a", ""}) {
                    topics.add(l1 + "/" + l2 + "/" + l3);
                }
            }
        }
        String[] filterLevels = {"a", "$SYS", "", "+"};
        for (String f1 : filterLevels) {
            filters.add(f1);
            filters.add(f1 + "/#");
            for (String f2 : filterLevels) {
                filters.add(f1 + "/" + f2);
                filters.add(f1 + "/" + f2 + "/#");
            }
        }
        filters.add("#");
        TopicTrie<String> byFilter = new TopicTrie<>();
        filters.forEach(f -> byFilter.nodeForWrite(f).value(f));
        TopicTrie<String> byTopic = new TopicTrie<>();
        topics.forEach(t -> byTopic.nodeForWrite(t).value(t));
        for (String topic : topics) {
            java.util.Set<String> expected = new java.util.TreeSet<>();
            for (String f : filters) {
                if (TopicMatch.matches(TopicMatch.levels(f), topic)) {
                    expected.add(f);
                }
            }
            java.util.Set<String> found = new java.util.TreeSet<>();
            byFilter.matchFilters(topic, found::add);
            assertThat(found).as("filters matching '" + topic + "'").isEqualTo(expected);
        }
        for (String filter : filters) {
            java.util.Set<String> expected = new java.util.TreeSet<>();
            for (String t : topics) {
                if (TopicMatch.matches(TopicMatch.levels(filter), t)) {
                    expected.add(t);
                }
            }
            java.util.Set<String> found = new java.util.TreeSet<>();
            byTopic.matchTopics(filter, found::add);
            assertThat(found).as("topics matched by '" + filter + "'").isEqualTo(expected);
        }
    }

    @org.junit.jupiter.api.Test
    @org.junit.jupiter.api.DisplayName("pruning removes the empty levels a value leaves behind, and only those")
    void pruning() {
        TopicTrie<String> trie = new TopicTrie<>();
        TopicTrie.Node<String> deep = trie.nodeForWrite("a/b/c");
        deep.value("c");
        trie.nodeForWrite("a").value("a");
        deep.value(null);
        trie.prune(deep);
        assertThat(trie.find("a/b")).isNull();
        assertThat(trie.find("a").value()).isEqualTo("a");
        TopicTrie.Node<String> a = trie.find("a");
        a.value(null);
        trie.prune(a);
        assertThat(trie.isEmpty()).isTrue();
    }
}
