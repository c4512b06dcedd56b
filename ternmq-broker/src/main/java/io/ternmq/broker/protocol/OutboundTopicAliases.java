package io.ternmq.broker.protocol;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Topic aliases the broker uses towards one client (broker to client), at most the client's Topic Alias Maximum.
 * Least recently used topics give up their alias number to new ones, so busy topics keep short packets. Looking up
 * and assigning are separate, so a sender can decide against an alias (say, when it would make the packet too large)
 * without changing what the client knows.
 */
final class OutboundTopicAliases {
    private final int maximum;
    private final LinkedHashMap<String, Integer> byTopic;

    OutboundTopicAliases(int maximum) {
        this.maximum = maximum;
        this.byTopic = new LinkedHashMap<>(16, 0.75f, true);
    }

    /** @return the alias the client already knows for this topic (marking it recently used), or 0 */
    int known(String topic) {
        Integer alias = byTopic.get(topic);
        return alias == null ? 0 : alias;
    }

    /** @return the alias a new topic would get: a free number, or the least recently used topic's */
    int next(String topic) {
        if (byTopic.size() < maximum) {
            return byTopic.size() + 1;
        }
        return byTopic.entrySet().iterator().next().getValue();
    }

    /** Records that the client now knows {@code alias} as {@code topic} (the alias from {@link #next}). */
    void assign(String topic, int alias) {
        if (byTopic.size() >= maximum) {
            Map.Entry<String, Integer> eldest = byTopic.entrySet().iterator().next();
            byTopic.remove(eldest.getKey());
        }
        byTopic.put(topic, alias);
    }
}
