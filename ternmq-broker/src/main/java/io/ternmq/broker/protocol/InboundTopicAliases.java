package io.ternmq.broker.protocol;

/**
 * Topic aliases a client set on this connection (client to broker). Aliases live as long as the network connection
 * [MQTT-3.3.2-7]; the broker accepts 1..{@code maximum}, the Topic Alias Maximum it announced in CONNACK.
 */
final class InboundTopicAliases {
    private final String[] topics;

    InboundTopicAliases(int maximum) {
        this.topics = new String[maximum + 1];
    }

    boolean inRange(int alias) {
        return alias >= 1 && alias < topics.length;
    }

    void set(int alias, String topic) {
        topics[alias] = topic;
    }

    /** @return the topic set for this alias, or null if the client never set it */
    String get(int alias) {
        return topics[alias];
    }
}
