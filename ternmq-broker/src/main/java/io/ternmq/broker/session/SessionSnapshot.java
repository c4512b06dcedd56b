package io.ternmq.broker.session;

import io.ternmq.broker.message.Subscription;

import java.util.List;

/**
 * A session's state as it moves to another node, beside its stored queue entries.
 *
 * @param inflight    how many of the first queue entries were in flight (resent with DUP where they arrive)
 * @param inboundQos2 packet ids of inbound QoS 2 messages awaiting their PUBREL
 * @param deadNodeInbound of those, the ones a node that died had routed ({@link DeadNodeInbound})
 * @param adoption        where it was adopted from, or null ({@link Session#adoptedFrom(Adoption)})
 */
public record SessionSnapshot(long expiryInterval, int protocolLevel, int inflight, List<Subscription> subscriptions,
                              List<Integer> inboundQos2, java.util.Map<Integer, DeadNodeInbound> deadNodeInbound,
                              Adoption adoption) {
}
