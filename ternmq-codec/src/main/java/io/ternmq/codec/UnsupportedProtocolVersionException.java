package io.ternmq.codec;

/**
 * A CONNECT with a protocol name we recognise ("MQTT" or "MQIsdp") but a protocol level we do not speak with that
 * name. Unlike other malformed packets the server answers it with a CONNACK (return code 0x01 in MQTT 3.x, reason
 * code 0x84 in MQTT 5.0) before closing the connection [MQTT-3.1.2-2]. Nothing after the protocol level is decoded:
 * its layout depends on the version.
 */
public final class UnsupportedProtocolVersionException extends MalformedPacketException {
    private final String protocolName;
    private final int protocolLevel;

    public UnsupportedProtocolVersionException(String protocolName, int protocolLevel) {
        super(ReasonCode.UNSUPPORTED_PROTOCOL_VERSION, "MQTT-3.1.2-2",
                "unsupported protocol level " + protocolLevel + " for protocol name " + protocolName);
        this.protocolName = protocolName;
        this.protocolLevel = protocolLevel;
    }

    public String protocolName() {
        return protocolName;
    }

    public int protocolLevel() {
        return protocolLevel;
    }
}
