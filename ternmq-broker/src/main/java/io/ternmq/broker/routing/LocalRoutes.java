package io.ternmq.broker.routing;


import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * In a cluster, the topic filters this node's sessions subscribe, as the other nodes must know them to send this node
 * what matches; and which of the other nodes has acknowledged which change. Each node is the authority for its own
 * routes: a filter's first local subscriber makes a change "add", its last one leaving a change "remove", each
 * numbered from one increasing sequence. A shared subscription {@code $share/g/f} is a route of its own (the node
 * has members of that group).
 *
 * <p>Changes are numbered and announced under one lock, so that the announcements of one filter are never
 * reordered, and a snapshot taken under the same lock is followed by exactly the changes after it. Acknowledgements
 * are cumulative (a peer that acknowledged {@code n} has applied every change up to {@code n}, since they travel on
 * one ordered connection), so a SUBACK waits for one number per peer. Exists only when the cluster is enabled.
 */
public final class LocalRoutes {

    /** One change of this node's routes. */
    public record Change(long seq, String filter, boolean added) {
    }

    /** A filter's local subscriptions and the number of its latest add. */
    private static final class Count {
        int subscribers;
        long addSeq;
    }

    /** A continuation waiting until every peer has acknowledged {@code seq}. */
    private record Waiter(long seq, Runnable then) {
    }

    private final Map<String, Count> counts = new HashMap<>();
    private final Map<String, Long> acknowledged = new HashMap<>();
    private final List<Waiter> waiters = new ArrayList<>();
    private long seq;
    private Consumer<Change> announce = c -> { };

    /** Where changes go (the cluster's links); called under this object's lock, so it must not block. */
    public synchronized void announceTo(Consumer<Change> announce) {
        this.announce = announce;
    }

    /** A local target subscribed to a filter it had not subscribed to. */
    public void subscribed(String filter) {
        String f = routeFilter(filter);
        synchronized (this) {
            Count c = counts.computeIfAbsent(f, k -> new Count());
            if (c.subscribers++ == 0) {
                c.addSeq = ++seq;
                announce.accept(new Change(c.addSeq, f, true));
            }
        }
    }

    /** A local target's subscription to a filter ended. */
    public void unsubscribed(String filter) {
        String f = routeFilter(filter);
        synchronized (this) {
            Count c = counts.get(f);
            if (c == null) {
                return;
            }
            if (--c.subscribers == 0) {
                counts.remove(f);
                announce.accept(new Change(++seq, f, false));
            }
        }
    }

    /**
     * Writes every current filter to {@code each}, under the lock (the caller marks its link as taking changes in
     * the same breath, so that it misses none and gets none twice).
     *
     * @return the number of the latest change the snapshot includes
     */
    public synchronized long snapshot(Consumer<String> each) {
        counts.keySet().forEach(each);
        return seq;
    }

    /**
     * Runs {@code then} once every current peer has acknowledged the latest add of each of these filters (at once,
     * on this thread, if they have; else on the thread of the acknowledgement or membership change that completes
     * it). A filter with no local subscriber left waits for nothing.
     */
    public void whenPeersHave(List<String> filters, Runnable then) {
        synchronized (this) {
            long needed = 0;
            for (String filter : filters) {
                Count c = counts.get(routeFilter(filter));
                if (c != null) {
                    needed = Math.max(needed, c.addSeq);
                }
            }
            if (!allAcknowledged(needed)) {
                waiters.add(new Waiter(needed, then));
                return;
            }
        }
        then.run();
    }

    /**
     * Runs {@code then} once every current peer has acknowledged every change made so far (removals included): from
     * then on no other node routes by a filter this node has dropped.
     */
    public void whenPeersHaveAll(Runnable then) {
        synchronized (this) {
            if (!allAcknowledged(seq)) {
                waiters.add(new Waiter(seq, then));
                return;
            }
        }
        then.run();
    }

    /**
     * A node joined (or a new run of it, restarted on its data): from now on SUBACKs wait for it too, for what it
     * acknowledges from here on (it gets a snapshot when its link connects).
     */
    public synchronized void peerJoined(String nodeId) {
        acknowledged.put(nodeId, 0L);
    }

    /** A node left the membership: nobody waits for it any more. */
    public void peerLeft(String nodeId) {
        List<Runnable> ready;
        synchronized (this) {
            acknowledged.remove(nodeId);
            ready = takeReady();
        }
        ready.forEach(Runnable::run);
    }

    /** A peer applied every change up to {@code upTo}. */
    public void acknowledged(String nodeId, long upTo) {
        List<Runnable> ready;
        synchronized (this) {
            Long before = acknowledged.get(nodeId);
            if (before == null || before >= upTo) {
                return;
            }
            acknowledged.put(nodeId, upTo);
            ready = takeReady();
        }
        ready.forEach(Runnable::run);
    }

    private boolean allAcknowledged(long needed) {
        if (needed == 0) {
            return true;
        }
        for (long a : acknowledged.values()) {
            if (a < needed) {
                return false;
            }
        }
        return true;
    }

    private List<Runnable> takeReady() {
        if (waiters.isEmpty()) {
            return List.of();
        }
        List<Runnable> ready = new ArrayList<>();
        for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
            Waiter w = it.next();
            if (allAcknowledged(w.seq)) {
                it.remove();
                ready.add(w.then);
            }
        }
        return ready;
    }

    /**
     * The filter a subscription routes by: the filter itself. A shared subscription {@code $share/g/f} is its own
     * route, so that other nodes know which nodes have members of which group and send one copy per group.
     */
    private static String routeFilter(String filter) {
        return filter;
    }
}
