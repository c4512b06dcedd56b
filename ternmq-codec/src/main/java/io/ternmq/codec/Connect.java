package io.ternmq.codec;

import java.util.Objects;

/**
 * CONNECT. {@code cleanStart} is the "Clean Session" flag in MQTT 3.x and "Clean Start" in 5.0. {@code clientId} may be
 * empty; {@code username}, {@code password} and {@code will} are null when their flag is clear.
 */
public record Connect(MqttVersion version, String clientId, boolean cleanStart, int keepAliveSeconds, String username,
                      byte[] password, Will will, MqttProperties properties) implements MqttPacket {
    public Connect {
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(clientId, "clientId");
        Objects.requireNonNull(properties, "properties");
    }

    @Override
    public PacketType type() {
        return PacketType.CONNECT;
    }

    @Override
    public String toString() {
        return "Connect[version=" + version + ", clientId=" + clientId + ", cleanStart=" + cleanStart + ", keepAlive="
                + keepAliveSeconds + ", username=" + username + ", password=" + (password == null ? "none" : "***")
                + ", will=" + (will == null ? "none" : will.topic()) + ", properties=" + properties + "]";
    }
}
