package io.ternmq.broker.retain;

import io.ternmq.broker.message.Message;

/**
 * In a cluster, how a client's retained change reaches every node: routing hands the change over instead of applying
 * it to its own index, and acknowledges the publisher once {@code done} has run. Absent on a single node.
 */
public interface RetainedReplication {

    /**
     * Sets (or, with an empty payload, clears) the topic's retained message cluster-wide, this node's index included.
     * {@code done} runs on any thread once every node has applied it, or once it is given up (logged and counted).
     */
    void replicate(Message message, Runnable done);
}
