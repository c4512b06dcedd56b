package io.ternmq.jmh;

import io.ternmq.broker.config.ConfigFileParser;
import io.ternmq.broker.config.TopicFeatures;
import io.ternmq.broker.routing.TopicRewrites;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What {@code topic_rewrite} costs a PUBLISH that no rule rewrites: 100 rules whose filters start with another
 * level ({@code other}: the index skips them all), or with the topic's own first level ({@code same}: each filter is
 * compared, none matches), against the topic of the pairs benchmark, {@code bench/pairs/17}.
 *
 * <p>Run: {@code java -jar ternmq-jmh/target/ternmq-jmh.jar TopicRewrite}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class TopicRewriteBenchmark {

    @Param({"other", "same"})
    public String firstLevel;

    private TopicRewrites rewrites;
    private String topic;

    @Setup
    public void setUp() {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            String level = firstLevel.equals("other") ? "rule" + i : "bench/x" + i;
            lines.add("topic_rewrite publish " + level + "/# ^" + level + "/(.*)$ moved/$1");
        }
        List<TopicFeatures.RewriteRule> rules = ConfigFileParser.parse("bench.conf", lines).build().topics()
                .rewrites();
        rewrites = TopicRewrites.forPublish(rules);
        topic = "bench/pairs/17";
    }

    @Benchmark
    public String hundredNonMatchingRules() {
        return rewrites.rewriteTopic(topic);
    }
}
