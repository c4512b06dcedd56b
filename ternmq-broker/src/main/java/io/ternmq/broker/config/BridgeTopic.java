package io.ternmq.broker.config;

import io.ternmq.codec.QoS;
import io.ternmq.codec.TopicSyntax;

/**
 * One {@code topic <pattern> [in|out|both] [qos] [local-prefix remote-prefix]} line of a bridge, with Mosquitto's
 * remapping: the local side subscribes to (or receives) {@code localPrefix + pattern}, the remote side to
 * {@code remotePrefix + pattern}; a message crossing loses one prefix (when its topic starts with it) and gains the
 * other. Whether a topic matches is the bridge's to decide (routing's wildcard rules). A pattern written
 * {@code ""} means "no pattern": then both prefixes are required and are the topics themselves.
 *
 * @param pattern      the pattern, or null for {@code ""}
 * @param localPrefix  null when not given (or given as {@code ""})
 * @param remotePrefix null when not given (or given as {@code ""})
 */
public record BridgeTopic(String pattern, Direction direction, QoS qos, String localPrefix, String remotePrefix) {

    /** Which way messages matching the pattern cross the bridge. */
    public enum Direction {
        /** Local messages go to the remote broker (Mosquitto's default). */
        OUT,
        /** Remote messages come to this broker. */
        IN,
        BOTH;

        public boolean outgoing() {
            return this != IN;
        }

        public boolean incoming() {
            return this != OUT;
        }
    }

    /**
     * Checks the line as Mosquitto does: prefixes hold no wildcard, prefix and pattern together make a valid filter,
     * and a {@code ""} pattern needs both prefixes.
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    public BridgeTopic {
        if (pattern != null && pattern.isEmpty()) {
            pattern = null;
        }
        if (pattern == null && (localPrefix == null || remotePrefix == null)) {
            throw new IllegalArgumentException("a \"\" pattern needs both a local and a remote prefix");
        }
        check(localPrefix, pattern, "local");
        check(remotePrefix, pattern, "remote");
        if (pattern != null && !TopicSyntax.isValidTopicFilter(pattern)) {
            throw new IllegalArgumentException("'" + pattern + "' is not a valid topic filter");
        }
    }

    private static void check(String prefix, String pattern, String side) {
        if (prefix == null) {
            return;
        }
        if (prefix.indexOf('+') >= 0 || prefix.indexOf('#') >= 0) {
            throw new IllegalArgumentException("the " + side + " prefix '" + prefix + "' holds a wildcard");
        }
        String full = pattern == null ? prefix : prefix + pattern;
        if (!TopicSyntax.isValidTopicFilter(full)) {
            throw new IllegalArgumentException("the " + side + " prefix and the pattern make '" + full
                    + "', not a valid topic filter");
        }
    }

    /** What the local side subscribes to (out) or what incoming messages become (in): prefix + pattern. */
    public String localTopic() {
        return join(localPrefix, pattern);
    }

    /** What the remote side is subscribed to (in) or what outgoing messages become (out). */
    public String remoteTopic() {
        return join(remotePrefix, pattern);
    }

    private static String join(String prefix, String pattern) {
        if (prefix == null) {
            return pattern;
        }
        return pattern == null ? prefix : prefix + pattern;
    }

    /** Whether this line remaps topics at all. */
    public boolean remaps() {
        return localPrefix != null || remotePrefix != null;
    }

    /** A local topic name this line sends out, as the remote side sees it: local prefix off, remote prefix on. */
    public String toRemote(String localTopicName) {
        return swap(localTopicName, localPrefix, remotePrefix);
    }

    /** A remote topic name this line brings in, as the local side sees it. */
    public String toLocal(String remoteTopicName) {
        return swap(remoteTopicName, remotePrefix, localPrefix);
    }

    private static String swap(String topic, String remove, String add) {
        String t = topic;
        if (remove != null && t.startsWith(remove)) {
            t = t.substring(remove.length());
        }
        return add == null ? t : add + t;
    }
}
