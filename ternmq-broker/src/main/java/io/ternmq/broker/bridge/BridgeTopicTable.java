package io.ternmq.broker.bridge;

import io.ternmq.broker.config.BridgeTopic;
import io.ternmq.broker.routing.TopicMatch;
import io.ternmq.codec.TopicSubscription;

import java.util.ArrayList;
import java.util.List;

/**
 * A bridge's {@code topic} lines split by direction, with their filters parsed once: which local topics go out and
 * which remote topics come in, and how a topic is remapped as it crosses (the first matching line's prefixes).
 */
final class BridgeTopicTable {
    private final List<BridgeTopic> out = new ArrayList<>();
    private final List<String[]> outFilters = new ArrayList<>();
    private final List<BridgeTopic> in = new ArrayList<>();
    private final List<String[]> inFilters = new ArrayList<>();

    BridgeTopicTable(List<BridgeTopic> topics) {
        for (BridgeTopic t : topics) {
            if (t.direction().outgoing()) {
                out.add(t);
                outFilters.add(TopicMatch.levels(t.localTopic()));
            }
            if (t.direction().incoming()) {
                in.add(t);
                inFilters.add(TopicMatch.levels(t.remoteTopic()));
            }
        }
    }

    /** The {@code out}/{@code both} lines, in file order. */
    List<BridgeTopic> outgoing() {
        return out;
    }

    /** The {@code in}/{@code both} lines, in file order. */
    List<BridgeTopic> incoming() {
        return in;
    }

    /** Whether a local topic goes out over the bridge (an {@code out}/{@code both} line matches it). */
    boolean carriesOut(String localTopic) {
        for (String[] f : outFilters) {
            if (TopicMatch.matches(f, localTopic)) {
                return true;
            }
        }
        return false;
    }

    /** Whether a remote topic comes in (an {@code in}/{@code both} line matches it). */
    boolean carriesIn(String remoteTopic) {
        for (String[] f : inFilters) {
            if (TopicMatch.matches(f, remoteTopic)) {
                return true;
            }
        }
        return false;
    }

    /** A local topic as it is published on the remote broker. */
    String toRemote(String localTopic) {
        for (int i = 0; i < out.size(); i++) {
            if (TopicMatch.matches(outFilters.get(i), localTopic)) {
                return out.get(i).toRemote(localTopic);
            }
        }
        return localTopic;
    }

    /** A remote topic as it is published here. */
    String toLocal(String remoteTopic) {
        for (int i = 0; i < in.size(); i++) {
            if (TopicMatch.matches(inFilters.get(i), remoteTopic)) {
                return in.get(i).toLocal(remoteTopic);
            }
        }
        return remoteTopic;
    }

    /** The subscriptions made on the remote broker; at MQTT 5 with no-local and retain as published. */
    List<TopicSubscription> remoteSubscriptions(boolean v5) {
        List<TopicSubscription> subs = new ArrayList<>();
        for (BridgeTopic t : in) {
            // MQTT 5: no-local keeps what the bridge sends from coming back; retained flags as published
            subs.add(v5 ? new TopicSubscription(t.remoteTopic(), t.qos(), true, true, 0)
                    : new TopicSubscription(t.remoteTopic(), t.qos()));
        }
        return subs;
    }
}
