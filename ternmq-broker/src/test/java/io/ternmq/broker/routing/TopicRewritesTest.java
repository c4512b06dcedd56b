package io.ternmq.broker.routing;

import io.ternmq.broker.config.ConfigFileParser;
import io.ternmq.broker.config.TopicFeatures;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** topic_rewrite rules as the flows apply them: first applying rule in file order, groups, shared subscriptions. */
class TopicRewritesTest {

    private static List<TopicFeatures.RewriteRule> rules(String... lines) {
        return ConfigFileParser.parse("t.conf", List.of(lines).stream().map(l -> "topic_rewrite " + l).toList())
                .build().topics().rewrites();
    }

    @Test
    @DisplayName("no rules for a direction: null, so the flows skip rewriting entirely")
    void noneIsNull() {
        List<TopicFeatures.RewriteRule> subscribeOnly = rules("subscribe a/# ^a/(.*)$ b/$1");
        assertThat(TopicRewrites.forPublish(subscribeOnly)).isNull();
        assertThat(TopicRewrites.forSubscribe(subscribeOnly)).isNotNull();
        assertThat(TopicRewrites.forPublish(List.of())).isNull();
    }

    @Test
    @DisplayName("the first rule in file order whose filter matches and whose expression finds applies, wildcard "
            + "first levels included")
    void firstMatchInFileOrder() {
        TopicRewrites r = TopicRewrites.forPublish(rules(
                "publish a/+/x ^a/(.+)/x$ first/$1",
                "all +/+/x ^(.+)/(.+)/x$ second/$2/$1",
                "publish a/# ^a/(.*)$ third/$1",
                "publish a/# ^nomatch$ never"));
        assertThat(r.rewriteTopic("a/b/x")).isEqualTo("first/b");
        assertThat(r.rewriteTopic("z/b/x")).isEqualTo("second/b/z");
        assertThat(r.rewriteTopic("a/b/y")).isEqualTo("third/b/y");
        assertThat(r.rewriteTopic("q/r")).isEqualTo("q/r");
        assertThat(r.rewriteTopic("a")).as("a/# matches its parent").isEqualTo("a");
    }

    @Test
    @DisplayName("a wildcard rule earlier in the file wins over a literal one later")
    void wildcardBeforeLiteral() {
        TopicRewrites r = TopicRewrites.forPublish(rules("all # ^(.*)$ all/$1", "publish a/# ^a/(.*)$ a-only/$1"));
        assertThat(r.rewriteTopic("a/b")).isEqualTo("all/a/b");
        assertThat(r.rewriteTopic("$SYS/x")).as("'#' does not match $ topics").isEqualTo("$SYS/x");
    }

    @Test
    @DisplayName("a filter whose expression does not find leaves the next rule its chance; $N of a group that did not "
            + "take part is empty")
    void regexMustFind() {
        TopicRewrites r = TopicRewrites.forPublish(rules("publish a/# ^a/(x)?(y)$ g/$1-$2", "publish a/# a k"));
        assertThat(r.rewriteTopic("a/y")).isEqualTo("g/-y");
        assertThat(r.rewriteTopic("a/zz")).isEqualTo("k");
    }

    @Test
    @DisplayName("a shared subscription keeps its $share/<group>/; only the filter after it is rewritten")
    void sharedKeepsGroup() {
        TopicRewrites r = TopicRewrites.forSubscribe(rules("subscribe view/+ ^view/(.+)$ sensors/$1/temp"));
        assertThat(r.rewriteFilter("$share/g1/view/kitchen")).isEqualTo("$share/g1/sensors/kitchen/temp");
        assertThat(r.rewriteFilter("view/kitchen")).isEqualTo("sensors/kitchen/temp");
        assertThat(r.rewriteFilter("$share/g1/other/x")).isEqualTo("$share/g1/other/x");
    }

    @Test
    @DisplayName("100 rules, none matching: the topic comes back as it was (the same string)")
    void manyNonMatching() {
        String[] lines = new String[100];
        for (int i = 0; i < 100; i++) {
            lines[i] = "publish rule" + i + "/# ^rule" + i + "/(.*)$ moved/$1";
        }
        TopicRewrites r = TopicRewrites.forPublish(rules(lines));
        String topic = "bench/topic/1";
        assertThat(r.rewriteTopic(topic)).isSameAs(topic);
        assertThat(r.rewriteTopic("rule57/x")).isEqualTo("moved/x");
    }
}
