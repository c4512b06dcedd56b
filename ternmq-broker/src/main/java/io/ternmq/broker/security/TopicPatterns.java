package io.ternmq.broker.security;

/**
 * Topic matching for access rules, by MQTT's rules: {@code +} one level, {@code #} the rest (including the parent
 * level: {@code a/#} matches {@code a}), and wildcards in the first level never match topics starting with '$'.
 */
public final class TopicPatterns {
    private TopicPatterns() {
    }

    public static String[] levels(String topic) {
        return topic.split("/", -1);
    }

    /** Whether the topic name matches the pattern (a topic filter). */
    public static boolean matches(String[] pattern, String topic) {
        int pos = 0;
        int n = topic.length();
        for (int i = 0; i < pattern.length; i++) {
            String p = pattern[i];
            if (p.equals("#")) {
                return !(i == 0 && n > 0 && topic.charAt(0) == '$');
            }
            if (pos > n) {
                return false; // the topic has fewer levels
            }
            int end = topic.indexOf('/', pos);
            if (end < 0) {
                end = n;
            }
            if (p.equals("+")) {
                if (i == 0 && end > 0 && topic.charAt(0) == '$') {
                    return false;
                }
            } else if (!topic.regionMatches(pos, p, 0, p.length()) || end - pos != p.length()) {
                return false;
            }
            pos = end + 1;
        }
        return pos == n + 1; // every level consumed, none left
    }

    /**
     * Whether every topic the filter matches is also matched by the pattern: the pattern "covers" the filter. Used to
     * decide subscriptions: {@code a/#} covers {@code a/b/+}, {@code a/+} does not cover {@code a/#}.
     */
    public static boolean covers(String[] pattern, String[] filter) {
        for (int i = 0; i < pattern.length; i++) {
            String p = pattern[i];
            if (p.equals("#")) {
                // at the first level, '#' does not cover '$' topics; a wildcard there matches none of those either
                return !(i == 0 && filter[0].startsWith("$"));
            }
            if (i >= filter.length) {
                return false;
            }
            String f = filter[i];
            if (f.equals("#")) {
                return false; // only '#' covers '#'
            }
            if (p.equals("+")) {
                if (i == 0 && f.startsWith("$")) {
                    return false;
                }
                continue; // '+' covers '+' and any single name
            }
            if (f.equals("+") || !p.equals(f)) {
                return false;
            }
        }
        return pattern.length == filter.length;
    }

    /** The filter a possibly shared subscription ({@code $share/group/filter}) applies to messages. */
    public static String effectiveFilter(String filter) {
        if (filter.startsWith("$share/")) {
            int slash = filter.indexOf('/', "$share/".length());
            if (slash > 0) {
                return filter.substring(slash + 1);
            }
        }
        return filter;
    }
}
