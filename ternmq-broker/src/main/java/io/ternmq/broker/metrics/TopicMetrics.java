package io.ternmq.broker.metrics;

import io.ternmq.broker.routing.TopicMatch;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Messages and bytes in and out per registered topic filter (at most {@value #MAX}; the admin API's
 * {@code topic-metrics}). The publish paths call {@link #received} and {@link #sent} for every message: with nothing
 * registered that is one volatile read of an empty array. A message counts once for each registered filter it
 * matches; bytes are payload bytes. Registering is rare and copies the array (copy on write). In a cluster each node
 * counts what it receives and writes, for the cluster's registrations ({@link #sync}).
 */
public final class TopicMetrics {
    public static final int MAX = 64;
    private static final Counts[] NONE = new Counts[0];

    /** One registered filter's counters. */
    public static final class Counts {
        private final String filter;
        private final String[] levels;
        private final long registeredAtMillis;
        private final LongAdder messagesIn = new LongAdder();
        private final LongAdder bytesIn = new LongAdder();
        private final LongAdder messagesOut = new LongAdder();
        private final LongAdder bytesOut = new LongAdder();

        Counts(String filter, long registeredAtMillis) {
            this.filter = filter;
            this.levels = TopicMatch.levels(filter);
            this.registeredAtMillis = registeredAtMillis;
        }

        public String filter() {
            return filter;
        }

        public long registeredAtMillis() {
            return registeredAtMillis;
        }

        public long messagesIn() {
            return messagesIn.sum();
        }

        public long bytesIn() {
            return bytesIn.sum();
        }

        public long messagesOut() {
            return messagesOut.sum();
        }

        public long bytesOut() {
            return bytesOut.sum();
        }
    }

    /** What {@link #register} did. */
    public enum Registration { ADDED, ALREADY, FULL }

    private volatile Counts[] registered = NONE;

    /** A message published to the broker (by a client, a will, the admin API, an extension). Any thread. */
    public void received(String topic, int payloadBytes) {
        Counts[] r = registered;
        if (r.length == 0) {
            return;
        }
        for (Counts c : r) {
            if (TopicMatch.matches(c.levels, topic)) {
                c.messagesIn.increment();
                c.bytesIn.add(payloadBytes);
            }
        }
    }

    /** A PUBLISH written to a client. Any thread. */
    public void sent(String topic, int payloadBytes) {
        Counts[] r = registered;
        if (r.length == 0) {
            return;
        }
        for (Counts c : r) {
            if (TopicMatch.matches(c.levels, topic)) {
                c.messagesOut.increment();
                c.bytesOut.add(payloadBytes);
            }
        }
    }

    /** Starts counting for a (valid) topic filter, from zero. */
    public synchronized Registration register(String filter, long nowMillis) {
        Counts[] r = registered;
        for (Counts c : r) {
            if (c.filter.equals(filter)) {
                return Registration.ALREADY;
            }
        }
        if (r.length >= MAX) {
            return Registration.FULL;
        }
        Counts[] more = java.util.Arrays.copyOf(r, r.length + 1);
        more[r.length] = new Counts(filter, nowMillis);
        registered = more;
        return Registration.ADDED;
    }

    /** Stops counting for a filter. @return whether it was registered */
    public synchronized boolean unregister(String filter) {
        Counts[] r = registered;
        List<Counts> kept = new ArrayList<>(r.length);
        for (Counts c : r) {
            if (!c.filter.equals(filter)) {
                kept.add(c);
            }
        }
        if (kept.size() == r.length) {
            return false;
        }
        registered = kept.isEmpty() ? NONE : kept.toArray(NONE);
        return true;
    }

    /**
     * Makes the registered filters the cluster's (filter to the time it was registered, in registration order; every
     * version of it, in order, from the cluster's shared state): a filter registered at the same time keeps its
     * counts, others count from zero, those missing stop. Any thread.
     */
    public synchronized void sync(Map<String, Long> shared) {
        Map<String, Counts> now = new HashMap<>();
        for (Counts c : registered) {
            now.put(c.filter, c);
        }
        List<Counts> next = new ArrayList<>(shared.size());
        for (Map.Entry<String, Long> e : shared.entrySet()) {
            Counts c = now.get(e.getKey());
            next.add(c != null && c.registeredAtMillis == e.getValue() ? c : new Counts(e.getKey(), e.getValue()));
        }
        registered = next.isEmpty() ? NONE : next.toArray(NONE);
    }

    /** The registered filters, in the order they were registered. */
    public List<Counts> registered() {
        return List.of(registered);
    }
}
