package io.ternmq.broker.session;

import io.ternmq.broker.store.StoredEntry;

/**
 * Where a session handed to another node goes (the cluster's data link). Called on the session's owner loop: the
 * state ({@link #begin}), every stored queue entry in seq order ({@link #entry}), {@link #end}; then each stored entry
 * that arrives after the snapshot ({@link #carry}) until the session ends here. Each returns false if the frame could
 * not be sent (the link's backlog is full): then the handover stops and the session stays here.
 */
public interface SessionHandover {
    boolean begin(SessionSnapshot snapshot);

    boolean entry(StoredEntry entry);

    boolean end(int entries);

    boolean carry(StoredEntry entry);

    /** A later claim (a handover elsewhere, or a connection here) took the session first: this one stops. */
    void superseded();

    /** Whether the way to the other node is backed up: the export then waits before reading its next page. */
    default boolean congested() {
        return false;
    }
}
