package io.ternmq.broker.protocol;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Topic aliases the broker uses towards one client (broker to client), at most the client's Topic Alias Maximum.
 * Least recently used topics give up their alias number to new ones, so busy topics keep short packets.
 */
final class OutboundTopicAliases {
    private final int maximum;
    private final LinkedHashMap<String, Integer> byTopic;

    OutboundTopicAliases(int maximum) {
        this.maximum = maximum;
        this.byTopic = new LinkedHashMap<>(16, 0.75f, true);
    }

    /**
     * @return the alias for this topic: positive if the client already knows it (send an empty topic), negative
     *         (minus the alias) if it is newly assigned (send the topic with it)
     */
    int aliasFor(String topic) {
        Integer known = byTopic.get(topic);
        if (known != null) {
            return known;
        }
        int alias;
        if (byTopic.size() < maximum) {
            alias = byTopic.size() + 1;
        } else {
            Map.Entry<String, Integer> eldest = byTopic.entrySet().iterator().next();
            alias = eldest.getValue();
            byTopic.remove(eldest.getKey());
        }
        byTopic.put(topic, alias);
        return -alias;
    }
}
