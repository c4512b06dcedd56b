package io.ternmq.broker.message;

import java.util.Arrays;

/**
 * What tells one message from another when it reached a node twice, as two decoded copies of the same original (a
 * forward and its orphan; a carried entry and a routed one): who published it, when the broker took it, its topic and
 * its payload's hash. Two messages alike in all four are the same for a subscriber anyway.
 */
public record MessageIdentity(String publisherId, long createdAtMillis, String topic, int payloadHash) {

    public static MessageIdentity of(Message m) {
        return new MessageIdentity(m.publisherId(), m.createdAtMillis(), m.topic(), Arrays.hashCode(m.payload()));
    }
}
