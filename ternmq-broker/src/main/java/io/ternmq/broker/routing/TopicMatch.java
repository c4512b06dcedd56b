package io.ternmq.broker.routing;

/**
 * MQTT's wildcard rules (MQTT 3.1.1 and 5.0 section 4.7), the one place the broker decides what matches what:
 * {@code +} is one level, {@code #} the rest of the topic including its parent level ({@code a/#} matches {@code a}),
 * and a filter that starts with a wildcard never matches a topic name that starts with '$' [MQTT-4.7.2-1]. Subscription
 * and retained indexes ({@link TopicTrie}) walk by these rules; access rules match and compare filters with them here.
 */
public final class TopicMatch {
    static final String SINGLE_LEVEL = "+";
    static final String MULTI_LEVEL = "#";

    private TopicMatch() {
    }

    /**
     * [MQTT-4.7.2-1]: whether a topic name (or its first level) starts with '$', which keeps it from filters that
     * start with a wildcard.
     */
    static boolean hiddenFromWildcards(String topicOrFirstLevel) {
        return !topicOrFirstLevel.isEmpty() && topicOrFirstLevel.charAt(0) == '$';
    }

    /** A topic name or filter split into its levels (empty levels kept: "a//b" has three). */
    public static String[] levels(String topicOrFilter) {
        return topicOrFilter.split("/", -1);
    }

    /** Whether the topic name matches the filter, given as its {@link #levels}. */
    public static boolean matches(String[] filter, String topic) {
        int pos = 0;
        int n = topic.length();
        for (int i = 0; i < filter.length; i++) {
            String f = filter[i];
            if (f.equals(MULTI_LEVEL)) {
                return !(i == 0 && hiddenFromWildcards(topic));
            }
            if (pos > n) {
                return false; // the topic has fewer levels
            }
            int end = topic.indexOf('/', pos);
            if (end < 0) {
                end = n;
            }
            if (f.equals(SINGLE_LEVEL)) {
                if (i == 0 && hiddenFromWildcards(topic)) {
                    return false;
                }
            } else if (end - pos != f.length() || !topic.regionMatches(pos, f, 0, f.length())) {
                return false;
            }
            pos = end + 1;
        }
        return pos == n + 1; // every level consumed, none left
    }

    /**
     * Whether every topic the filter matches is also matched by the pattern: the pattern "covers" the filter (both as
     * {@link #levels}). {@code a/#} covers {@code a/b/+}; {@code a/+} does not cover {@code a/#}.
     */
    public static boolean covers(String[] pattern, String[] filter) {
        for (int i = 0; i < pattern.length; i++) {
            String p = pattern[i];
            if (p.equals(MULTI_LEVEL)) {
                // at the first level, '#' does not cover '$' topics, and a wildcard there matches none of them either
                return !(i == 0 && hiddenFromWildcards(filter[0]));
            }
            if (i >= filter.length) {
                return false;
            }
            String f = filter[i];
            if (f.equals(MULTI_LEVEL)) {
                return false; // only '#' covers '#'
            }
            if (p.equals(SINGLE_LEVEL)) {
                if (i == 0 && hiddenFromWildcards(f)) {
                    return false;
                }
                continue; // '+' covers '+' and any single name
            }
            if (f.equals(SINGLE_LEVEL) || !p.equals(f)) {
                return false;
            }
        }
        return pattern.length == filter.length;
    }
}
