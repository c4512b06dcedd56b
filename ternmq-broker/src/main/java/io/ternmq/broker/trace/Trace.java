package io.ternmq.broker.trace;

import io.ternmq.broker.routing.TopicMatch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One trace: what clients matching it do (by client id, by address, or PUBLISHes and SUBSCRIBEs on a topic filter),
 * kept in a ring of the last {@link #MAX_EVENTS} events, payloads (at most {@link #MAX_PAYLOAD_BYTES} each) only if
 * asked: its memory is bounded whatever the traffic. Written from any event loop under its own lock (only while it
 * runs), read by the admin loop (and, in a cluster, by the {@code ternmq.node-queries} thread answering another node).
 * In a cluster every node records the same trace (same id) for its own connections.
 */
public final class Trace {
    public static final int MAX_EVENTS = 10_000;
    public static final int MAX_PAYLOAD_BYTES = 1024;

    /** What a trace follows. */
    public enum Kind { CLIENT_ID, TOPIC, IP }

    private final String id;
    private final Kind kind;
    private final String value;
    private final String[] filterLevels;
    private final boolean payloads;
    private final long startedAtMillis;
    private final long endsAtMillis;
    private final TraceEvent[] ring = new TraceEvent[MAX_EVENTS];
    private long recorded;
    private volatile boolean stopped;

    Trace(String id, Kind kind, String value, boolean payloads, long startedAtMillis, long endsAtMillis) {
        this.id = id;
        this.kind = kind;
        this.value = value;
        this.filterLevels = kind == Kind.TOPIC ? TopicMatch.levels(value) : null;
        this.payloads = payloads;
        this.startedAtMillis = startedAtMillis;
        this.endsAtMillis = endsAtMillis;
    }

    public String id() {
        return id;
    }

    public Kind kind() {
        return kind;
    }

    public String value() {
        return value;
    }

    public boolean payloads() {
        return payloads;
    }

    public long startedAtMillis() {
        return startedAtMillis;
    }

    public long endsAtMillis() {
        return endsAtMillis;
    }

    /** Whether it stopped recording (its time is up, or it was stopped). */
    public boolean stopped() {
        return stopped || System.currentTimeMillis() > endsAtMillis;
    }

    /** What it follows, as every node of a cluster records it. */
    public TraceSpec spec() {
        return new TraceSpec(id, kind, value, payloads, startedAtMillis, endsAtMillis);
    }

    void stop() {
        stopped = true;
    }

    /** How many events it recorded (the ring keeps the last {@link #MAX_EVENTS}). */
    public synchronized long recorded() {
        return recorded;
    }

    /** Whether a client's connection is one this trace follows (for a topic trace: any client). */
    boolean follows(String clientId, String address) {
        return switch (kind) {
            case CLIENT_ID -> value.equals(clientId);
            case IP -> address != null && value.equals(host(address));
            case TOPIC -> true;
        };
    }

    /** Whether a PUBLISH on this topic is traced, for a client it {@link #follows}. */
    boolean tracesTopic(String topic) {
        return filterLevels == null || TopicMatch.matches(filterLevels, topic);
    }

    /** Whether a SUBSCRIBE to these filters is traced: one of them overlaps a topic trace's filter. */
    boolean tracesFilters(List<String> filters) {
        if (filterLevels == null) {
            return true;
        }
        for (String f : filters) {
            String[] levels = TopicMatch.levels(f.substring(0, f.lastIndexOf(' ')));
            if (TopicMatch.covers(filterLevels, levels) || TopicMatch.covers(levels, filterLevels)) {
                return true;
            }
        }
        return false;
    }

    /** Connect and disconnect events are about a client, not a topic: a topic trace leaves them out. */
    boolean tracesConnections() {
        return kind != Kind.TOPIC;
    }

    void add(long atMillis, String type, String clientId, String address, String topic,
             List<String> filters, int qos, boolean retain, byte[] payload, String detail) {
        // without the lock first: a trace whose time is up (on another node of a cluster nothing stops it but a
        // change of the cluster's traces) costs a publish no lock
        if (stopped || atMillis > endsAtMillis) {
            return;
        }
        record(atMillis, type, clientId, address, topic, filters, qos, retain, payload, detail);
    }

    private synchronized void record(long atMillis, String type, String clientId, String address, String topic,
                                     List<String> filters, int qos, boolean retain, byte[] payload, String detail) {
        if (stopped) {
            return;
        }
        long seq = ++recorded;
        byte[] kept = null;
        if (payloads && payload != null) {
            kept = payload.length <= MAX_PAYLOAD_BYTES ? payload.clone()
                    : Arrays.copyOf(payload, MAX_PAYLOAD_BYTES);
        }
        ring[(int) ((seq - 1) % MAX_EVENTS)] = new TraceEvent(seq, atMillis, type, clientId, address, topic,
                filters, qos, retain, kept, payload == null ? 0 : payload.length, detail);
    }

    /** The events kept whose number is above {@code afterSeq}, oldest first, at most {@code max}. */
    public synchronized List<TraceEvent> eventsAfter(long afterSeq, int max) {
        long first = Math.max(afterSeq + 1, recorded - MAX_EVENTS + 1);
        List<TraceEvent> out = new ArrayList<>((int) Math.min(max, Math.max(0, recorded - first + 1)));
        for (long s = Math.max(first, 1); s <= recorded && out.size() < max; s++) {
            out.add(ring[(int) ((s - 1) % MAX_EVENTS)]);
        }
        return out;
    }

    /** "host:port" or "[v6]:port" without the port. */
    static String host(String address) {
        int colon = address.lastIndexOf(':');
        String host = colon > 0 ? address.substring(0, colon) : address;
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }
}
