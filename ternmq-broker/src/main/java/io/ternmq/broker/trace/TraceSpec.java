package io.ternmq.broker.trace;

import java.io.Serializable;

/**
 * What a trace follows and for how long: what a cluster shares so that every node records the same trace (same id),
 * each for its own connections.
 *
 * @param value a client id, a topic filter or an IP address, as {@code kind} says
 */
public record TraceSpec(String id, Trace.Kind kind, String value, boolean payloads, long startedAtMillis,
                        long endsAtMillis) implements Serializable {
}
