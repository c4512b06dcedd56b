package io.ternmq.broker.cluster;

/**
 * Another node of the cluster as the membership announces it: its node id (kept in its data directory, so the same
 * after a restart), the membership's id of this run of it, and where its data link listens.
 */
public record Peer(String nodeId, String memberId, String host, int linkPort) {
}
