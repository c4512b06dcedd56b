package io.ternmq.codec;

import java.util.Objects;

/**
 * CONNECT. {@code cleanStart} is the "Clean Session" flag in MQTT 3.x and "Clean Start" in 5.0. {@code clientId} may be
 * empty; {@code username}, {@code password} and {@code will} are null when their flag is clear. {@code bridge} is
 * Mosquitto's {@code try_private}: an MQTT 3.x protocol level with bit 0x80 set (0x83, 0x84) says the client is a
 * bridge, which should not get back what it published.
 */
public record Connect(MqttVersion version, String clientId, boolean cleanStart, int keepAliveSeconds, String username,
                      byte[] password, Will will, MqttProperties properties, boolean bridge) implements MqttPacket {
    /** The bit of the protocol level that marks a bridge (MQTT 3.x only). */
    public static final int BRIDGE_LEVEL_BIT = 0x80;

    public Connect {
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(clientId, "clientId");
        Objects.requireNonNull(properties, "properties");
        if (bridge && version.isV5()) {
            throw new IllegalArgumentException("the bridge bit of the protocol level exists in MQTT 3.x only");
        }
    }

    public Connect(MqttVersion version, String clientId, boolean cleanStart, int keepAliveSeconds, String username,
                   byte[] password, Will will, MqttProperties properties) {
        this(version, clientId, cleanStart, keepAliveSeconds, username, password, will, properties, false);
    }

    @Override
    public PacketType type() {
        return PacketType.CONNECT;
    }

    @Override
    public String toString() {
        return "Connect[version=" + version + ", clientId=" + clientId + ", cleanStart=" + cleanStart + ", keepAlive="
                + keepAliveSeconds + ", username=" + username + ", password=" + (password == null ? "none" : "***")
                + ", will=" + (will == null ? "none" : will.topic()) + ", properties=" + properties
                + (bridge ? ", bridge" : "") + "]";
    }
}
