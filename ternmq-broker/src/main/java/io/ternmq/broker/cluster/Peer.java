package io.ternmq.broker.cluster;

/**
 * Another node of the cluster as the membership announces it: its node id (kept in its data directory) and where
 * its data link listens.
 */
public record Peer(String nodeId, String host, int linkPort) {
}
