package io.ternmq.broker.config;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** sparkplug_*, delayed_publish, topic_rewrite and auto_subscribe in the file: repeated rows, bad rows. */
class TopicFeaturesConfigTest {

    private static BrokerConfig parse(String... lines) {
        return ConfigFileParser.parse("t.conf", List.of(lines)).build();
    }

    private static void assertError(String expected, String... lines) {
        assertThatThrownBy(() -> parse(lines)).isInstanceOf(ConfigException.class).hasMessage(expected);
    }

    @Test
    @DisplayName("off by default: no Sparkplug awareness, no delayed publish, no rules; 100,000 delayed at most")
    void defaults() {
        TopicFeatures t = parse().topics();
        assertThat(t.sparkplugAware()).isFalse();
        assertThat(t.sparkplugNdeathTimestamp()).isFalse();
        assertThat(t.delayedPublish()).isFalse();
        assertThat(t.maxDelayedMessages()).isEqualTo(100_000);
        assertThat(t.rewrites()).isEmpty();
        assertThat(t.autoSubscriptions()).isEmpty();
    }

    @Test
    @DisplayName("topic_rewrite and auto_subscribe rows add up, in file order")
    void repeatedRowsKeepFileOrder() {
        TopicFeatures t = parse("topic_rewrite publish a/# ^a/(.*)$ b/$1", "topic_rewrite subscribe x/+ x/(.+) y/$1",
                "topic_rewrite all # ^(.*)$ all/$1", "auto_subscribe inbox/%c", "auto_subscribe users/%u/# 2").topics();
        assertThat(t.rewrites()).extracting(r -> r.scope() + " " + r.filter()).containsExactly("PUBLISH a/#",
                "SUBSCRIBE x/+", "ALL #");
        assertThat(t.autoSubscriptions()).containsExactly(new TopicFeatures.AutoSubscription("inbox/%c", 0),
                new TopicFeatures.AutoSubscription("users/%u/#", 2));
    }

    @Test
    @DisplayName("a bad topic_rewrite row names file, line, key and problem")
    void badRewriteRows() {
        assertError("t.conf:2: topic_rewrite: '^a/(.*$' is not a regular expression: Unclosed group near index 7",
                "delayed_publish true", "topic_rewrite publish a/# ^a/(.*$ b/$1");
        assertError("t.conf:1: topic_rewrite: 'sometimes' is not one of publish, subscribe, all",
                "topic_rewrite sometimes a/# ^a/(.*)$ b/$1");
        assertError("t.conf:1: topic_rewrite: 'a/#/b' is not a topic filter", "topic_rewrite all a/#/b ^a b");
        assertError("t.conf:1: topic_rewrite: replacement 'b/$2' refers to $2, but the expression has 1 group(s) "
                + "($1..$9)", "topic_rewrite all a/# ^a/(.*)$ b/$2");
        assertError("t.conf:1: topic_rewrite: expected 'topic_rewrite publish|subscribe|all <filter> <regex> "
                + "<replacement>' (four words, none with spaces)", "topic_rewrite all a/# ^a/(.*)$");
    }

    @Test
    @DisplayName("bad auto_subscribe, max_delayed_messages and sparkplug rows name file, line, key and problem")
    void badOtherRows() {
        assertError("t.conf:1: auto_subscribe: 'a/#/%c' is not a topic filter", "auto_subscribe a/#/%c");
        assertError("t.conf:1: auto_subscribe: 3 is out of range 0..2", "auto_subscribe inbox/%c 3");
        assertError("t.conf:1: max_delayed_messages: 0 is out of range 1..10000000", "max_delayed_messages 0");
        assertError("t.conf:1: sparkplug_aware: 'yes' is not true or false", "sparkplug_aware yes");
        assertError("t.conf:1: delayed_publish: missing value", "delayed_publish");
    }
}
