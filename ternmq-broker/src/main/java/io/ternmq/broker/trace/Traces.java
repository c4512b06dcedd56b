package io.ternmq.broker.trace;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The broker's traces (the admin API's {@code traces}): at most {@link #MAX_TRACES} kept, running or finished. The
 * connection path asks {@link #active()} at each hook (CONNECT accepted, PUBLISH in and out, SUBSCRIBE, the
 * connection's end): one volatile read, and nothing else while no trace runs. Starting, stopping and listing are
 * the admin loop's (synchronized, rare); in a cluster every node keeps the cluster's set ({@link #sync}, on
 * Hazelcast's event thread), each recording its own connections.
 */
public final class Traces {
    public static final int MAX_TRACES = 8;
    public static final long MAX_DURATION_SECONDS = 1800;
    private static final Trace[] NONE = new Trace[0];

    private final SecureRandom random = new SecureRandom();
    private final Map<String, Trace> all = new LinkedHashMap<>();
    /** The running traces; what the hooks read. */
    private volatile Trace[] active = NONE;

    /** The running traces: empty (the common case) means the caller records nothing. Any thread. */
    public Trace[] active() {
        return active;
    }

    /**
     * Starts a trace. A random id, so that an id cannot be guessed from another.
     *
     * @return the trace, or null if {@link #MAX_TRACES} are kept already
     */
    public synchronized Trace start(Trace.Kind kind, String value, boolean payloads, long durationSeconds,
                                    long nowMillis) {
        if (all.size() >= MAX_TRACES && !pushOutOldestStopped()) {
            return null;
        }
        return add(new TraceSpec(newId(), kind, value, payloads, nowMillis, nowMillis + durationSeconds * 1000));
    }

    /** A new trace id: random, so that an id cannot be guessed from another. */
    public synchronized String newId() {
        byte[] b = new byte[8];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /**
     * Records a trace the cluster shares (started on any node), unless it is kept already. The cluster keeps at most
     * {@link #MAX_TRACES}; should this node keep more, the oldest one stopped makes room.
     *
     * @return the trace kept under that id
     */
    public synchronized Trace adopt(TraceSpec spec) {
        Trace t = all.get(spec.id());
        if (t != null) {
            return t;
        }
        if (all.size() >= MAX_TRACES) {
            pushOutOldestStopped();
        }
        return add(spec);
    }

    /**
     * Makes this node's traces the cluster's set (every version of it, in order, from the cluster's shared state):
     * those no longer in it are stopped and forgotten, new ones recorded from now on; the others keep what they hold.
     */
    public synchronized void sync(Collection<TraceSpec> shared) {
        Set<String> ids = new HashSet<>();
        for (TraceSpec s : shared) {
            ids.add(s.id());
        }
        for (Iterator<Trace> i = all.values().iterator(); i.hasNext(); ) {
            Trace t = i.next();
            if (!ids.contains(t.id())) {
                t.stop();
                i.remove();
            }
        }
        for (TraceSpec s : shared) {
            if (!all.containsKey(s.id())) {
                add(s);
            }
        }
        publishActive();
    }

    private Trace add(TraceSpec spec) {
        Trace t = new Trace(spec.id(), spec.kind(), spec.value(), spec.payloads(), spec.startedAtMillis(),
                spec.endsAtMillis());
        all.put(t.id(), t);
        publishActive();
        return t;
    }

    /** Forgets the oldest stopped trace. @return whether there was one */
    private boolean pushOutOldestStopped() {
        String oldest = all.values().stream().filter(Trace::stopped).map(Trace::id).findFirst().orElse(null);
        if (oldest == null) {
            return false;
        }
        all.remove(oldest);
        return true;
    }

    /** Stops a trace (its time is up); what it recorded stays until {@link #remove}d or pushed out. */
    public synchronized void stop(String id) {
        Trace t = all.get(id);
        if (t != null && !t.stopped()) {
            t.stop();
            publishActive();
        }
    }

    /** Stops and forgets a trace. @return whether it existed */
    public synchronized boolean remove(String id) {
        Trace t = all.remove(id);
        if (t == null) {
            return false;
        }
        t.stop();
        publishActive();
        return true;
    }

    public synchronized Trace get(String id) {
        return all.get(id);
    }

    public synchronized List<Trace> list() {
        return new ArrayList<>(all.values());
    }

    private void publishActive() {
        active = all.values().stream().filter(t -> !t.stopped()).toArray(Trace[]::new);
    }

    // ------------------------------------------------------------------ what the connection path records

    /** A client's CONNECT was accepted (its CONNACK sent). */
    public static void connected(Trace[] traces, String clientId, String address, String detail) {
        long now = System.currentTimeMillis();
        for (Trace t : traces) {
            if (t.tracesConnections() && t.follows(clientId, address)) {
                t.add(now, "connect", clientId, address, null, List.of(), -1, false, null, detail);
            }
        }
    }

    /** A client's connection ended. */
    public static void disconnected(Trace[] traces, String clientId, String address, String detail) {
        long now = System.currentTimeMillis();
        for (Trace t : traces) {
            if (t.tracesConnections() && t.follows(clientId, address)) {
                t.add(now, "disconnect", clientId, address, null, List.of(), -1, false, null, detail);
            }
        }
    }

    /** A PUBLISH from a client ({@code in}) or to one. */
    public static void publish(Trace[] traces, boolean in, String clientId, String address, String topic, int qos,
                               boolean retain, byte[] payload) {
        long now = System.currentTimeMillis();
        for (Trace t : traces) {
            if (t.follows(clientId, address) && t.tracesTopic(topic)) {
                t.add(now, in ? "publish_in" : "publish_out", clientId, address, topic, List.of(), qos, retain,
                        payload, null);
            }
        }
    }

    /** A SUBSCRIBE from a client; each filter as "filter qos". */
    public static void subscribe(Trace[] traces, String clientId, String address, List<String> filters) {
        long now = System.currentTimeMillis();
        for (Trace t : traces) {
            if (t.follows(clientId, address) && t.tracesFilters(filters)) {
                t.add(now, "subscribe", clientId, address, null, filters, -1, false, null, null);
            }
        }
    }
}
