package io.ternmq.codec;

/**
 * A packet that breaks the protocol's rules. {@code reasonCode} is the MQTT 5.0 reason code to answer with (0x81
 * Malformed Packet, 0x82 Protocol Error, 0x95 Packet Too Large, ...); a server speaking MQTT 3.x closes the connection.
 * {@code rule} names the normative statement when there is one, e.g. "MQTT-3.1.2-3".
 * <p>
 * The one subclass, {@link UnsupportedProtocolVersionException}, marks the CONNECT that the server must still answer
 * with a CONNACK before closing [MQTT-3.1.2-2].
 */
public sealed class MalformedPacketException extends Exception permits UnsupportedProtocolVersionException {
    private final int reasonCode;
    private final String rule;

    public MalformedPacketException(int reasonCode, String rule, String message) {
        super(rule == null ? message : message + " [" + rule + "]", null, false, false);
        this.reasonCode = reasonCode;
        this.rule = rule;
    }

    public MalformedPacketException(String message) {
        this(ReasonCode.MALFORMED_PACKET, null, message);
    }

    public int reasonCode() {
        return reasonCode;
    }

    /** @return the normative statement broken, or null */
    public String rule() {
        return rule;
    }
}
