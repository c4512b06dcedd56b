package io.ternmq.broker.session;

import io.ternmq.broker.store.StoredEntry;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One handover of a {@link Session} to another node under way: the export of its state and stored queue to a
 * {@link SessionHandover}, page by page from the store once every earlier write of the session is durable (so the
 * snapshot has every PUBREC and acknowledgement), and then the carrying of each stored entry that arrives after the
 * snapshot. Lives while the session is moving; the session's owner loop only. A later handover, a connection here
 * again, or the session's end replaces or drops it ({@link Session#export()} is then another one, or null), and
 * whatever it still had under way stops.
 */
final class SessionExport {
    private static final int PAGE = 256;
    private static final long WAIT_MILLIS = 20;

    private final Session session;
    private final SessionHandover to;
    /** How many messages were in flight when the first of the current handovers cleared the window. */
    private final int inflightBefore;
    /** While the export reads the store: entries that arrived meanwhile, to carry if the snapshot lacks them. */
    private List<StoredEntry> arrivedDuringExport = new ArrayList<>();
    /** Entries up to this seq were in the snapshot sent; later ones are carried. */
    private long exportedUpTo = Long.MAX_VALUE;

    SessionExport(Session session, SessionHandover to, int inflightBefore) {
        this.session = session;
        this.to = to;
        this.inflightBefore = inflightBefore;
    }

    SessionHandover to() {
        return to;
    }

    int inflightBefore() {
        return inflightBefore;
    }

    /**
     * Sends the state, then, once every write of the session so far is durable, the stored queue.
     *
     * @return false if the state could not be sent: the handover stops at once
     */
    boolean start(SessionSnapshot snapshot) {
        if (!to.begin(snapshot)) {
            return false;
        }
        session.storedQueue().barrier(() -> exportFrom(0, 0, 0));
        return true;
    }

    /** Whether this is still the session's handover (not replaced, dropped or ended). */
    private boolean current() {
        return session.export() == this && !session.isEnded();
    }

    private void exportFrom(long fromSeq, long lastSeq, int sent) {
        if (!current()) {
            return;
        }
        if (to.congested()) {
            // a page more would overflow the link's backlog and stop the move: read it once the link drained
            session.owner().schedule(() -> session.submit(() -> exportFrom(fromSeq, lastSeq, sent)), WAIT_MILLIS,
                    TimeUnit.MILLISECONDS);
            return;
        }
        session.storedQueue().read(fromSeq, PAGE, entries -> {
            if (!current()) {
                return;
            }
            long last = lastSeq;
            for (StoredEntry e : entries) {
                if (!to.entry(e)) {
                    session.handoverAborted(); // the other node would import a queue with a gap
                    return;
                }
                last = e.entry().seq();
            }
            int total = sent + entries.size();
            if (entries.size() == PAGE) {
                exportFrom(last + 1, last, total);
                return;
            }
            if (!to.end(total)) {
                session.handoverAborted();
                return;
            }
            exportedUpTo = last;
            List<StoredEntry> arrived = arrivedDuringExport;
            arrivedDuringExport = null;
            for (StoredEntry e : arrived) {
                arrived(e);
            }
        });
    }

    /** What arrives while the session is being handed over: stored entries are carried, the rest dropped (QoS 0). */
    void arrived(Object work) {
        if (!(work instanceof StoredEntry e) || session.export() != this) {
            return; // the move stopped while carrying what arrived during the export: it is in the store
        }
        if (arrivedDuringExport != null) {
            arrivedDuringExport.add(e);
        } else if (e.entry().seq() > exportedUpTo && !to.carry(e)) {
            session.handoverAborted(); // the entry is in the store here; the other node would miss it
        }
    }
}
