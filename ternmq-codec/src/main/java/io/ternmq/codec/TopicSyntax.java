package io.ternmq.codec;

/**
 * Syntax of topic names and topic filters (MQTT 3.1.1 section 4.7, MQTT 5.0 sections 4.7 and 4.8.2). Only syntax:
 * whether a server accepts a topic ($SYS, shared subscriptions, wildcards...) is the broker's decision.
 */
public final class TopicSyntax {
    /** The prefix of an MQTT 5.0 shared subscription's topic filter, "$share/{ShareName}/{filter}". */
    public static final String SHARE_PREFIX = "$share/";

    /** UTF-8 encoded strings carry a two-byte length. */
    private static final int MAX_UTF8_BYTES = 65_535;

    /** Why a topic filter is invalid: the normative statement broken (null if none is numbered) and a message. */
    record Problem(String rule, String message) {
    }

    private TopicSyntax() {
    }

    /**
     * A topic name is at least one character long [MQTT-4.7.3-1], has no wildcard [MQTT-4.7.1-1], no U+0000
     * [MQTT-4.7.3-2] and fits a UTF-8 encoded string.
     */
    public static boolean isValidTopicName(String name) {
        if (name == null || name.isEmpty()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '+' || c == '#' || c == '\0') {
                return false;
            }
        }
        return fitsUtf8String(name);
    }

    /**
     * A topic filter is at least one character long; '#' stands alone in the last level; '+' stands alone in its
     * level. A shared subscription "$share/{ShareName}/{filter}" needs a non-empty ShareName without '+', '#' or '/',
     * followed by a valid non-empty filter.
     */
    public static boolean isValidTopicFilter(String filter) {
        return filterProblem(filter) == null;
    }

    /** @return true if the filter names a shared subscription (starts with "$share/") */
    public static boolean isSharedSubscription(String filter) {
        return filter.startsWith(SHARE_PREFIX);
    }

    /**
     * The topic filter a subscription applies to messages: the part after "$share/{ShareName}/" of a shared
     * subscription, any other filter as it is.
     */
    public static String messageFilter(String filter) {
        if (isSharedSubscription(filter)) {
            int slash = filter.indexOf('/', SHARE_PREFIX.length());
            if (slash > 0) {
                return filter.substring(slash + 1);
            }
        }
        return filter;
    }

    /** The ShareName of a valid shared subscription's filter, "$share/{ShareName}/{filter}". */
    public static String shareName(String sharedFilter) {
        return sharedFilter.substring(SHARE_PREFIX.length(), sharedFilter.indexOf('/', SHARE_PREFIX.length()));
    }

    /** @return true if the string contains a wildcard character ('+' or '#') */
    public static boolean hasWildcard(String topic) {
        return topic.indexOf('+') >= 0 || topic.indexOf('#') >= 0;
    }

    /**
     * @return why the filter is invalid, or null if it is valid. Rule identifiers follow MQTT 3.1.1 numbering for the
     *         wildcard rules (the decoder only enforces filter syntax for 3.x) and MQTT 5.0 for shared subscriptions.
     */
    static Problem filterProblem(String filter) {
        if (filter == null || filter.isEmpty()) {
            return new Problem("MQTT-4.7.3-1", "topic filter is empty");
        }
        if (filter.indexOf('\0') >= 0) {
            return new Problem("MQTT-4.7.3-2", "topic filter contains U+0000");
        }
        if (!fitsUtf8String(filter)) {
            return new Problem(null, "topic filter does not fit a UTF-8 encoded string");
        }
        if (!isSharedSubscription(filter)) {
            return levelsProblem(filter);
        }
        int groupEnd = filter.indexOf('/', SHARE_PREFIX.length());
        String shareName = filter.substring(SHARE_PREFIX.length(), groupEnd < 0 ? filter.length() : groupEnd);
        if (shareName.isEmpty()) {
            return new Problem("MQTT-4.8.2-1", "shared subscription has an empty ShareName");
        }
        if (shareName.indexOf('+') >= 0 || shareName.indexOf('#') >= 0) {
            return new Problem("MQTT-4.8.2-2", "ShareName contains a wildcard");
        }
        if (groupEnd < 0 || groupEnd == filter.length() - 1) {
            return new Problem("MQTT-4.8.2-2", "shared subscription has no topic filter after its ShareName");
        }
        return levelsProblem(filter.substring(groupEnd + 1));
    }

    private static Problem levelsProblem(String filter) {
        int levelStart = 0;
        while (true) {
            int levelEnd = filter.indexOf('/', levelStart);
            boolean last = levelEnd < 0;
            if (last) {
                levelEnd = filter.length();
            }
            int length = levelEnd - levelStart;
            for (int i = levelStart; i < levelEnd; i++) {
                char c = filter.charAt(i);
                if (c == '#' && (length != 1 || !last)) {
                    return new Problem("MQTT-4.7.1-2", "'#' must be alone in the last level of a topic filter");
                }
                if (c == '+' && length != 1) {
                    return new Problem("MQTT-4.7.1-3", "'+' must occupy a whole level of a topic filter");
                }
            }
            if (last) {
                return null;
            }
            levelStart = levelEnd + 1;
        }
    }

    /** False for strings longer than 65,535 UTF-8 bytes and for unpaired surrogates, which UTF-8 cannot encode. */
    private static boolean fitsUtf8String(String s) {
        if (s.length() > MAX_UTF8_BYTES) {
            return false; // every char is at least one byte
        }
        int bytes = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes++;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    return false;
                }
                i++;
                bytes += 4;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            } else {
                bytes += 3;
            }
        }
        return bytes <= MAX_UTF8_BYTES;
    }
}
