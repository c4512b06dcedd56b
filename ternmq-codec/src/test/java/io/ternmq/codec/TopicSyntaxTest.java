package io.ternmq.codec;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Topic name and topic filter syntax (section 4.7, shared subscriptions 4.8.2). */
class TopicSyntaxTest {

    @ParameterizedTest
    @ValueSource(strings = {"a", "/", "a/b", "/a/", "//", "$SYS/broker", "sport/tennis/player1", " ", "é/€",
            "$share/g/x"})
    @DisplayName("valid topic names")
    void validNames(String name) {
        assertThat(TopicSyntax.isValidTopicName(name)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "+", "#", "a/+", "a/#", "a+", "a#b", "a\u0000b", "\uD800", "a\uDC00b"})
    @DisplayName("[MQTT-4.7.1-1] [MQTT-4.7.3-1] [MQTT-4.7.3-2] invalid topic names")
    void invalidNames(String name) {
        assertThat(TopicSyntax.isValidTopicName(name)).isFalse();
    }

    @Test
    @DisplayName("a topic name is at most 65,535 UTF-8 bytes")
    void nameLength() {
        assertThat(TopicSyntax.isValidTopicName("a".repeat(65_535))).isTrue();
        assertThat(TopicSyntax.isValidTopicName("a".repeat(65_536))).isFalse();
        assertThat(TopicSyntax.isValidTopicName("é".repeat(32_767) + "a")).isTrue(); // 65,535 bytes
        assertThat(TopicSyntax.isValidTopicName("é".repeat(32_768))).isFalse(); // 65,536 bytes
        assertThat(TopicSyntax.isValidTopicName("\uD834\uDD1E".repeat(16_384))).isFalse(); // 65,536 bytes
    }

    @ParameterizedTest
    @ValueSource(strings = {"#", "+", "a", "a/b", "a/#", "a/+", "+/+", "+/#", "/#", "/+", "a/+/b", "+/a/#", "/",
            "//", "$SYS/#", "$share/g/#", "$share/group/a/+/b", "$share/g//", "$share/g/x/", "$share", "$shared/a"})
    @DisplayName("valid topic filters")
    void validFilters(String filter) {
        assertThat(TopicSyntax.isValidTopicFilter(filter)).isTrue();
    }

    @ParameterizedTest
    @CsvSource({
            "'', MQTT-4.7.3-1",
            "a#, MQTT-4.7.1-2",
            "#/a, MQTT-4.7.1-2",
            "a/#/b, MQTT-4.7.1-2",
            "##, MQTT-4.7.1-2",
            "a/b#, MQTT-4.7.1-2",
            "a+, MQTT-4.7.1-3",
            "+a/b, MQTT-4.7.1-3",
            "a/++, MQTT-4.7.1-3",
            "a/+b/c, MQTT-4.7.1-3",
            "$share/, MQTT-4.8.2-1",
            "$share//a, MQTT-4.8.2-1",
            "$share/g, MQTT-4.8.2-2",
            "$share/g/, MQTT-4.8.2-2",
            "$share/g+/a, MQTT-4.8.2-2",
            "$share/#/a, MQTT-4.8.2-2",
            "$share/g/a#, MQTT-4.7.1-2",
            "$share/g/a+, MQTT-4.7.1-3",
            "$share+/a, MQTT-4.7.1-3"})
    @DisplayName("invalid topic filters, with the rule each breaks")
    void invalidFilters(String filter, String rule) {
        assertThat(TopicSyntax.isValidTopicFilter(filter)).isFalse();
        assertThat(TopicSyntax.filterProblem(filter).rule()).isEqualTo(rule);
    }

    @Test
    @DisplayName("[MQTT-4.7.3-2] a topic filter must not contain U+0000")
    void nullInFilter() {
        assertThat(TopicSyntax.filterProblem("a/\u0000").rule()).isEqualTo("MQTT-4.7.3-2");
    }

    @Test
    @DisplayName("shared subscriptions and wildcards are recognised")
    void helpers() {
        assertThat(TopicSyntax.isSharedSubscription("$share/g/a")).isTrue();
        assertThat(TopicSyntax.isSharedSubscription("$share")).isFalse();
        assertThat(TopicSyntax.isSharedSubscription("$SHARE/g/a")).isFalse();
        assertThat(TopicSyntax.hasWildcard("a/+/b")).isTrue();
        assertThat(TopicSyntax.hasWildcard("#")).isTrue();
        assertThat(TopicSyntax.hasWildcard("a/b")).isFalse();
    }

    @Test
    void sharedSubscriptionParts() {
        assertThat(TopicSyntax.shareName("$share/g/a/#")).isEqualTo("g");
        assertThat(TopicSyntax.messageFilter("$share/g/a/#")).isEqualTo("a/#");
        assertThat(TopicSyntax.messageFilter("$share/group/x")).isEqualTo("x");
        assertThat(TopicSyntax.messageFilter("a/#")).isEqualTo("a/#");
        assertThat(TopicSyntax.messageFilter("$shared/a")).isEqualTo("$shared/a");
    }
}
