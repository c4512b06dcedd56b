package io.ternmq.broker.message;

import io.ternmq.codec.QoS;

/**
 * One message on its way to one session: the QoS it is delivered at (min of publish and subscription QoS), the
 * RETAIN flag it carries (set only for retained messages sent on subscribe, or with retain-as-published), the
 * subscription identifiers of the matching subscriptions (MQTT 5.0), and, when it came through a shared
 * subscription, that subscription's filter ({@code $share/{group}/{filter}}), so that it can go to another member
 * if this session ends before acknowledging it; and what to run once it is settled ({@link #settle}), or null.
 */
public record Delivery(Message message, QoS qos, boolean retain, int[] subscriptionIds, String sharedGroup,
                       Runnable settled) {
    private static final int[] NONE = new int[0];

    public Delivery(Message message, QoS qos, boolean retain, int[] subscriptionIds, String sharedGroup) {
        this(message, qos, retain, subscriptionIds, sharedGroup, null);
    }

    /**
     * The receiving client has taken the message (PUBACK, PUBREC), or it is done with otherwise (expired, dropped):
     * tells whoever waits for that ({@code settled}; in a cluster, the node that forwarded it through a shared
     * subscription). May run more than once.
     */
    public void settle() {
        if (settled != null) {
            settled.run();
        }
    }

    public Delivery(Message message, QoS qos, boolean retain, int[] subscriptionIds) {
        this(message, qos, retain, subscriptionIds, null);
    }

    public Delivery(Message message, QoS qos, boolean retain) {
        this(message, qos, retain, NONE, null);
    }
}
