package io.ternmq.broker.trace;

import java.io.Serializable;
import java.util.List;

/**
 * One thing a traced client did or was sent (serializable: in a cluster another node's admin API reads it).
 *
 * @param seq      its number within its trace, from 1
 * @param type     {@code connect}, {@code publish_in}, {@code publish_out}, {@code subscribe}, {@code disconnect}
 * @param topic    a PUBLISH's topic, or null
 * @param filters  a SUBSCRIBE's filters (each "filter qos"), or empty
 * @param qos      a PUBLISH's QoS, or -1
 * @param payload  a PUBLISH's payload if the trace records payloads (at most {@link Trace#MAX_PAYLOAD_BYTES}), or null
 * @param bytes    a PUBLISH's payload size
 * @param detail   what else says what happened (protocol of a CONNECT, reason of a DISCONNECT), or null
 */
public record TraceEvent(long seq, long atMillis, String type, String clientId, String address, String topic,
                         List<String> filters, int qos, boolean retain, byte[] payload, int bytes, String detail)
        implements Serializable {
}
