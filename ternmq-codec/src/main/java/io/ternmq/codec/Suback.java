package io.ternmq.codec;

import java.util.List;
import java.util.Objects;

/** SUBACK: one return/reason code per filter of the SUBSCRIBE, in order. */
public record Suback(int packetId, List<Integer> reasonCodes, MqttProperties properties) implements MqttPacket {
    public Suback {
        reasonCodes = List.copyOf(reasonCodes);
        Objects.requireNonNull(properties, "properties");
    }

    @Override
    public PacketType type() {
        return PacketType.SUBACK;
    }
}
