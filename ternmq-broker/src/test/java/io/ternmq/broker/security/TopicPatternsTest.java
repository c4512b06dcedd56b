package io.ternmq.broker.security;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class TopicPatternsTest {

    @ParameterizedTest(name = "{0} matches {1}: {2}")
    @CsvSource({
            "a/b, a/b, true", "a/b, a/c, false", "a/b, a/b/c, false", "a/b/c, a/b, false",
            "a/+, a/b, true", "a/+, a/, true", "a/+, a, false", "a/+, a/b/c, false",
            "+/+, a/b, true", "+, a, true", "+, /a, false",
            "a/#, a, true", "a/#, a/b/c, true", "a/#, ab, false", "#, a/b, true", "#, /, true",
            "#, $SYS/x, false", "+/x, $SYS/x, false", "$SYS/#, $SYS/x, true", "/+, /a, true",
            "a//b, a//b, true", "a/+/b, a//b, true"})
    void matches(String pattern, String topic, boolean expected) {
        assertThat(TopicPatterns.matches(TopicPatterns.levels(pattern), topic)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} covers {1}: {2}")
    @CsvSource({
            "a/#, a/#, true", "a/#, a/b/#, true", "a/#, a/+, true", "a/#, a, true", "a/#, #, false",
            "a/+, a/b, true", "a/+, a/+, true", "a/+, a/#, false", "a/+, a/b/c, false",
            "#, #, true", "#, +/+, true", "+/#, a/b, true", "a/b, a/+, false", "a/b, a/b, true",
            "#, $SYS/#, false", "$SYS/#, $SYS/a, true", "+, $SYS, false", "a/+/c, a/+/c, true", "a/+/c, a/#, false"})
    void covers(String pattern, String filter, boolean expected) {
        assertThat(TopicPatterns.covers(TopicPatterns.levels(pattern), TopicPatterns.levels(filter)))
                .isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({"$share/g/a/#, a/#", "a/#, a/#", "$share/g/x, x", "$shared/a, $shared/a"})
    void effectiveFilter(String filter, String expected) {
        assertThat(TopicPatterns.effectiveFilter(filter)).isEqualTo(expected);
    }
}
