package io.ternmq.broker.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;

import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * The cluster-wide session directory: client id to {@link DirectoryEntry} (holder node and fencing generation), a
 * Hazelcast map with {@code cluster.backup_count} synchronous backups. Every change is an entry processor, atomic
 * per key on the key's partition owner. Only asynchronous calls: the stages complete on Hazelcast's threads, and
 * callers continue on their own loop.
 */
final class SessionDirectory {
    static final String MAP = "ternmq.sessions";

    /** What a claim found and made. */
    record Claim(DirectoryEntry before, DirectoryEntry after) implements java.io.Serializable {
    }

    private final IMap<String, String> map;
    private final HazelcastInstance hazelcast;

    SessionDirectory(HazelcastInstance hazelcast) {
        this.hazelcast = hazelcast;
        this.map = hazelcast.getMap(MAP);
    }

    /**
     * The client ids of persistent sessions the directory says {@code node} holds. A query of every partition:
     * blocks, so never on an event loop.
     */
    java.util.Set<String> heldBy(String node) {
        return map.keySet(new HeldBy(node));
    }

    /** The node holding the client's session now, as the directory says (the admin API's lookups); null if none. */
    CompletionStage<String> holder(String clientId) {
        return map.getAsync(clientId).thenApply(v -> {
            DirectoryEntry e = DirectoryEntry.decode(v);
            return e == null ? null : e.holder();
        });
    }

    /** Whether this member owns the client id's partition now (adoptions start with those). */
    boolean ownedHere(String clientId) {
        com.hazelcast.cluster.Member owner = hazelcast.getPartitionService().getPartition(clientId).getOwner();
        return owner != null && owner.localMember();
    }

    /**
     * {@code adopter} takes the session of a client whose holder {@code dead} left the cluster: atomically, so that
     * of every node trying exactly one does; the generation goes up, fencing every earlier claim.
     *
     * @return the entry naming the adopter, or null if {@code dead} no longer holds it (another node adopted it, or
     * its client connected elsewhere)
     */
    CompletionStage<DirectoryEntry> adopt(String clientId, String dead, String adopter) {
        return map.submitToKey(clientId, new AdoptProcessor(dead, adopter));
    }

    CompletionStage<Claim> claim(String clientId, String node, boolean persistent) {
        return map.submitToKey(clientId, new ClaimProcessor(node, persistent));
    }

    /** @return the committed entry, or null if a later claim came first */
    CompletionStage<DirectoryEntry> commit(String clientId, long generation, String node, boolean persistent) {
        return map.submitToKey(clientId, new CommitProcessor(generation, node, persistent));
    }

    /**
     * A session this node restored from its store at start: recorded as held here unless the directory already
     * names a holder (the cluster outlived this node's restart).
     *
     * @return the entry as it stands afterwards
     */
    CompletionStage<DirectoryEntry> registerRestored(String clientId, String node) {
        return map.submitToKey(clientId, new RegisterProcessor(node));
    }

    /** The session ended on {@code node}: the entry goes, unless a later claim or another holder owns it. */
    void release(String clientId, String node, long generation) {
        map.submitToKey(clientId, new ReleaseProcessor(node, generation));
    }

    private record ClaimProcessor(String node, boolean persistent)
            implements EntryProcessor<String, String, Claim> {
        @Override
        public Claim process(Map.Entry<String, String> e) {
            DirectoryEntry before = DirectoryEntry.decode(e.getValue());
            DirectoryEntry after = DirectoryEntry.claim(before, node, persistent);
            e.setValue(after.encode());
            return new Claim(before, after);
        }
    }

    private record CommitProcessor(long generation, String node, boolean persistent)
            implements EntryProcessor<String, String, DirectoryEntry> {
        @Override
        public DirectoryEntry process(Map.Entry<String, String> e) {
            DirectoryEntry after = DirectoryEntry.commit(DirectoryEntry.decode(e.getValue()), generation, node,
                    persistent);
            if (after != null) {
                e.setValue(after.encode());
            }
            return after;
        }
    }

    private record RegisterProcessor(String node) implements EntryProcessor<String, String, DirectoryEntry> {
        @Override
        public DirectoryEntry process(Map.Entry<String, String> e) {
            DirectoryEntry current = DirectoryEntry.decode(e.getValue());
            if (current != null) {
                return current;
            }
            DirectoryEntry held = new DirectoryEntry(1, node, true);
            e.setValue(held.encode());
            return held;
        }
    }

    private record AdoptProcessor(String dead, String adopter)
            implements EntryProcessor<String, String, DirectoryEntry> {
        @Override
        public DirectoryEntry process(Map.Entry<String, String> e) {
            DirectoryEntry current = DirectoryEntry.decode(e.getValue());
            if (current == null || !current.holder().equals(dead)) {
                return null;
            }
            DirectoryEntry adopted = new DirectoryEntry(current.generation() + 1, adopter, current.persistent());
            e.setValue(adopted.encode());
            return adopted;
        }
    }

    /** Persistent sessions held by one node: run on every member over its own partitions. */
    private record HeldBy(String node) implements com.hazelcast.query.Predicate<String, String> {
        @Override
        public boolean apply(Map.Entry<String, String> e) {
            DirectoryEntry d = DirectoryEntry.decode(e.getValue());
            return d != null && d.persistent() && d.holder().equals(node);
        }
    }

    private record ReleaseProcessor(String node, long generation) implements EntryProcessor<String, String, Boolean> {
        @Override
        public Boolean process(Map.Entry<String, String> e) {
            if (DirectoryEntry.releases(DirectoryEntry.decode(e.getValue()), node, generation)) {
                e.setValue(null);
                return true;
            }
            return false;
        }
    }
}
