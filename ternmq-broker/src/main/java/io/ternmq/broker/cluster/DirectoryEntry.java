package io.ternmq.broker.cluster;

import java.io.Serializable;

/**
 * One client id's entry in the cluster-wide session directory: which node holds its session, and the fencing
 * generation, raised by every claim (every CONNECT of that client id anywhere). A node that takes a session over
 * from another records itself as holder only with the generation of its own claim ({@link #commit}), so of several
 * concurrent CONNECTs only the latest claim can complete; a node gives its session up only for a generation above
 * any it has seen. Stored in Hazelcast as its string form; the transitions are pure functions, run inside entry
 * processors so that each is atomic per key.
 *
 * @param persistent whether the holder's session outlives its connection (a session that does not has nothing to
 *                   lose when its node dies)
 */
record DirectoryEntry(long generation, String holder, boolean persistent) implements Serializable {

    String encode() {
        return generation + " " + (persistent ? 1 : 0) + " " + holder;
    }

    /** @return the entry, or null for a value that is absent or not an entry */
    static DirectoryEntry decode(String s) {
        if (s == null) {
            return null;
        }
        int a = s.indexOf(' ');
        int b = a < 0 ? -1 : s.indexOf(' ', a + 1);
        if (b < 0) {
            return null;
        }
        try {
            return new DirectoryEntry(Long.parseLong(s.substring(0, a)), s.substring(b + 1),
                    s.charAt(a + 1) == '1');
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * A CONNECT on {@code claimant}: the next generation. The claimant becomes the holder at once when nobody holds
     * the session or it holds it itself; otherwise the holder stays until the claimant commits after the handover.
     */
    static DirectoryEntry claim(DirectoryEntry current, String claimant, boolean persistent) {
        if (current == null) {
            return new DirectoryEntry(1, claimant, persistent);
        }
        if (current.holder.equals(claimant)) {
            return new DirectoryEntry(current.generation + 1, claimant, persistent);
        }
        return new DirectoryEntry(current.generation + 1, current.holder, current.persistent);
    }

    /**
     * The claimant of {@code generation} has the session now (handed over, or nothing to hand over).
     *
     * @return the new entry, or null if a later claim was made meanwhile: the claimant lost
     */
    static DirectoryEntry commit(DirectoryEntry current, long generation, String claimant, boolean persistent) {
        if (current == null || current.generation != generation) {
            return null;
        }
        return new DirectoryEntry(generation, claimant, persistent);
    }

    /** Whether a session that ended on {@code holder} (claimed at {@code generation} or earlier) removes the entry. */
    static boolean releases(DirectoryEntry current, String holder, long generation) {
        return current != null && current.holder.equals(holder) && current.generation <= generation;
    }
}
