package io.ternmq.broker.session;

/**
 * An inbound QoS 2 message of a session adopted from a node that died, which that node had routed (its packet id was
 * durable there) but perhaps not yet sent to every other node: that node's run (its membership id), and when the
 * message was created there.
 * A resend of its packet id is routed again to the targets that lack it
 * ({@link io.ternmq.broker.routing.Router#publishResent}).
 */
public record DeadNodeInbound(String deadNode, long createdAtMillis) {
}
