package io.ternmq.broker.session;

import io.ternmq.broker.message.Message;
import io.ternmq.broker.message.MessageIdentity;

import java.util.Set;

/**
 * Where an adopted session came from, kept when it moves on to another node: the run (membership id) of the node
 * that died holding it, and the QoS 2 messages the replica it was made from held. A publisher whose own node died
 * sends its unreleased QoS 2 messages again; the replica of the publisher's session and those of its subscribers are
 * written apart, so a resent message may be in this session's queue already (skip it) or not (give it). The set is
 * known until {@code knownUntilMillis}; after it, a resend is taken to be held (resends come within seconds of a
 * death, and a session in doubt rather gets no duplicate).
 *
 * @param deadRun          the dead node's run: a node restarted on its data and dying again is another run
 * @param replicaQos2      the QoS 2 messages in the replica's queue, and the latest that left it (completed);
 *                         empty once forgotten
 * @param knownUntilMillis wall-clock time until which {@code replicaQos2} is complete
 */
public record Adoption(String deadRun, Set<MessageIdentity> replicaQos2, long knownUntilMillis) {

    /** Whether the replica held {@code m}, as far as this node can still tell. */
    public boolean held(Message m, long nowMillis) {
        return nowMillis > knownUntilMillis || replicaQos2.contains(MessageIdentity.of(m));
    }

    /** Whether the replica's set names {@code m} (never once forgotten). */
    public boolean named(Message m) {
        return replicaQos2.contains(MessageIdentity.of(m));
    }

    /** The same adoption without its set, once it is no longer needed (it may hold many messages' identities). */
    Adoption forgotten() {
        return new Adoption(deadRun, Set.of(), 0);
    }
}
